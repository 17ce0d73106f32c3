//! Open311 GeoReport v2 on TestEnv. The spec's examples (its service list, service definition,
//! POST answer, request list, token and error documents, rebuilt here in compact form with the
//! spec's element names and values) are compared element by element with what OneGrid writes,
//! read back with a plain XML parser as a client would.

use serde_json::{Value as Json, json};

use super::testkit::*;
use crate::ApiRequest;
use crate::native::testenv::{ADMIN_TOKEN, OPERATOR_TOKEN, TestEnv};

const XML_DECL: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>";

/// The spec's service definition example (DMV66: the make of a vehicle, Ford or Chrysler).
fn spec_definition() -> String {
    format!(
        "{XML_DECL}<service_definition><service_code>DMV66</service_code><attributes><attribute>\
         <variable>true</variable><code>WHISHETN</code><datatype>singlevaluelist</datatype><required>true</required>\
         <datatype_description></datatype_description><order>1</order><description>What is the ticket/tag/DL number?</description>\
         <values><value><key>123</key><name>Ford</name></value><value><key>124</key><name>Chrysler</name></value></values>\
         </attribute></attributes></service_definition>"
    )
}

/// The element structure of the spec's other examples: element paths in document order.
const SPEC_SERVICE: [&str; 7] = [
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
];
const SPEC_POST_ANSWER: [&str; 3] = ["service_request_id", "service_notice", "account_id"];
const SPEC_REQUEST: [&str; 17] = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
];
const SPEC_TOKEN: [&str; 2] = ["service_request_id", "token"];
const SPEC_ERROR: [&str; 2] = ["code", "description"];

/// An element as a plain parser sees it: name, and either its text or its children.
fn tree(node: roxmltree::Node<'_, '_>) -> Json {
    let children: Vec<Json> = node
        .children()
        .filter(|c| c.is_element())
        .map(tree)
        .collect();
    if children.is_empty() {
        json!({"tag": node.tag_name().name(), "text": node.text().unwrap_or("").trim()})
    } else {
        json!({"tag": node.tag_name().name(), "children": children})
    }
}

fn parse(xml: &[u8]) -> Json {
    let text = std::str::from_utf8(xml).expect("UTF-8");
    assert!(
        text.starts_with(XML_DECL),
        "the XML declaration with its encoding comes first"
    );
    let doc = roxmltree::Document::parse(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    tree(doc.root_element())
}

fn tags(node: &Json) -> Vec<String> {
    node["children"]
        .as_array()
        .map(|c| {
            c.iter()
                .map(|n| n["tag"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn text_of(node: &Json, tag: &str) -> String {
    node["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["tag"] == tag)
        .map(|n| n["text"].as_str().unwrap_or("").to_owned())
        .unwrap_or_default()
}

fn get(env: &TestEnv, path: &str) -> crate::ApiResponse {
    call(env, request("GET", path, None, None))
}

fn form_post(env: &TestEnv, path: &str, form: &[(&str, &str)]) -> crate::ApiResponse {
    let body: Vec<String> = form
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    let mut req = ApiRequest::new("POST", path);
    req.headers.push((
        "content-type".into(),
        "application/x-www-form-urlencoded".into(),
    ));
    req.body = body.join("&").into_bytes();
    call(env, req)
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".into(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A city with the spec's example question on the greenway-sign service, and an Open311 key.
fn open311_city() -> (TestEnv, String) {
    let env = city();
    let spec = spec_definition();
    let doc = roxmltree::Document::parse(&spec).unwrap();
    let attributes: Vec<Json> = doc
        .descendants()
        .filter(|n| n.has_tag_name("attribute"))
        .map(|a| {
            let field = |name: &str| a.children().find(|c| c.has_tag_name(name)).and_then(|c| c.text()).unwrap_or("").to_owned();
            let values: Vec<Json> = a
                .descendants()
                .filter(|n| n.has_tag_name("value"))
                .map(|v| {
                    let f = |name: &str| v.children().find(|c| c.has_tag_name(name)).and_then(|c| c.text()).unwrap_or("").to_owned();
                    json!({"key": f("key"), "name": f("name")})
                })
                .collect();
            json!({"code": field("code"), "datatype": field("datatype"), "required": field("required") == "true",
                   "variable": field("variable") == "true", "description": field("description"),
                   "order": field("order").parse::<u32>().unwrap(), "values": values})
        })
        .collect();
    let put = json!({"keywords": "sign, greenway, 绿道", "attributes": attributes});
    let (s, b) = call_json(
        &env,
        request(
            "PUT",
            "/api/admin/categories/landscape.greenway_sign/open311",
            Some(ADMIN_TOKEN),
            Some(put),
        ),
    );
    assert_eq!(s, 200, "{b}");
    let key = api_key(&env, None, &["open311.submit"], None);
    (env, key)
}

#[test]
fn the_specs_service_definition_round_trips_in_xml_and_json() {
    let (env, _) = open311_city();
    let ours = get(&env, "/open311/v2/services/landscape.greenway_sign.xml");
    assert_eq!(
        (ours.status, ours.header("content-type")),
        (200, Some("text/xml; charset=utf-8"))
    );
    let mut expected = parse(spec_definition().as_bytes());
    expected["children"][0]["text"] = json!("landscape.greenway_sign");
    assert_eq!(
        parse(&ours.body),
        expected,
        "element by element, in the spec's order"
    );

    let json_answer = get(&env, "/open311/v2/services/landscape.greenway_sign.json");
    let body: Json = serde_json::from_slice(&json_answer.body).unwrap();
    let attribute = &body["attributes"][0];
    assert_eq!(
        (
            attribute["code"].as_str(),
            attribute["datatype_description"].is_null()
        ),
        (Some("WHISHETN"), true)
    );
    assert_eq!(
        (
            attribute["variable"].as_bool(),
            attribute["required"].as_bool(),
            attribute["order"].as_f64()
        ),
        (Some(true), Some(true), Some(1.0))
    );
    assert_eq!(
        attribute["values"][1],
        json!({"key": "124", "name": "Chrysler"})
    );
    assert_eq!(get(&env, "/open311/v2/services/no.such.xml").status, 404);
}

#[test]
fn the_service_list_has_the_specs_fields_with_groups_and_keywords() {
    let (env, _) = open311_city();
    let list = parse(&get(&env, "/open311/v2/services.xml").body);
    assert_eq!(list["tag"], "services");
    let services = list["children"].as_array().unwrap();
    // The test city's four categories but its dispute: disputes are not offered.
    assert_eq!(services.len(), 3);
    assert!(
        services
            .iter()
            .all(|s| !text_of(s, "service_code").starts_with("dispute.")),
        "{list}"
    );
    for s in services {
        assert_eq!(tags(s), SPEC_SERVICE);
    }
    let sign = services
        .iter()
        .find(|s| text_of(s, "service_code") == "landscape.greenway_sign")
        .unwrap();
    assert_eq!(
        (
            text_of(sign, "metadata").as_str(),
            text_of(sign, "group").as_str()
        ),
        ("true", "C04 园林绿化 Landscaping")
    );
    assert_eq!(text_of(sign, "keywords"), "sign, greenway, 绿道");
    let english: Json =
        serde_json::from_slice(&get(&env, "/open311/v2/services.json?locale=en").body).unwrap();
    let litter = english
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service_code"] == "environment.litter")
        .unwrap()
        .clone();
    assert_eq!(
        (
            litter["service_name"].as_str(),
            litter["metadata"].as_bool()
        ),
        (Some("environment.litter en"), Some(false))
    );
    let discovery = parse(&get(&env, "/open311/v2/discovery.xml").body);
    assert_eq!(
        tags(&discovery),
        ["changeset", "contact", "key_service", "endpoints"]
    );
}

#[test]
fn a_request_as_the_spec_posts_it_gets_an_id_and_is_listed_in_the_specs_shape() {
    let (env, key) = open311_city();
    let (lat, long) = (IN_CELL_2.0.to_string(), IN_CELL_2.1.to_string());
    let answer = form_post(
        &env,
        "/open311/v2/requests.xml",
        &[
            ("api_key", &key),
            ("jurisdiction_id", "xiamen.gov.cn"),
            ("service_code", "landscape.greenway_sign"),
            ("lat", &lat),
            ("long", &long),
            ("address_string", "月美路绿道入口"),
            ("email", "chen@example.cn"),
            ("deviceid", "phone-7"),
            ("account_id", "acc-12"),
            ("first_name", "Li"),
            ("last_name", "Chen"),
            ("phone", "(0592) 555-0100"),
            ("description", "The sign at the entrance is knocked over"),
            ("attribute[WHISHETN]", "124"),
            ("media_url", "https://photos.example/1.jpg"),
            ("media_url", "https://photos.example/2.jpg"),
        ],
    );
    assert_eq!(
        answer.status,
        201,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let doc = parse(&answer.body);
    assert_eq!(doc["tag"], "service_requests");
    let created = &doc["children"][0];
    assert_eq!(tags(created), SPEC_POST_ANSWER);
    assert_eq!(text_of(created, "account_id"), "acc-12");
    let id = text_of(created, "service_request_id");
    assert!(crate::case::report::PublicId::parse(&id).is_some(), "{id}");

    let one = parse(&get(&env, &format!("/open311/v2/requests/{id}.xml")).body);
    let listed = &one["children"][0];
    assert_eq!(
        tags(listed),
        SPEC_REQUEST,
        "the spec's fields in the spec's order"
    );
    assert_eq!(
        (
            text_of(listed, "status").as_str(),
            text_of(listed, "media_url").as_str()
        ),
        // The client's own photo links are not echoed: public answers show only photos staff
        // approved (`case::publication`).
        ("open", "")
    );
    assert!(
        text_of(listed, "description").contains("Chrysler"),
        "the answers to the questions go with the case"
    );
    assert_eq!(
        text_of(listed, "agency_responsible"),
        "",
        "named once the case is dispatched"
    );

    let all: Json = serde_json::from_slice(
        &get(
            &env,
            "/open311/v2/requests.json?service_code=landscape.greenway_sign&status=open",
        )
        .body,
    )
    .unwrap();
    assert_eq!(all[0]["service_request_id"], id.as_str());
    // Public points are rounded (`case::publication`).
    assert_eq!(
        all[0]["long"],
        crate::case::publication::rounded(IN_CELL_2.1)
    );
    assert_ne!(all[0]["long"], IN_CELL_2.1);
    let closed: Json =
        serde_json::from_slice(&get(&env, "/open311/v2/requests.json?status=closed").body).unwrap();
    assert_eq!(closed, json!([]));
    let page = call_json(
        &env,
        request(
            "GET",
            "/api/cases?category=landscape.greenway_sign",
            Some(OPERATOR_TOKEN),
            None,
        ),
    )
    .1;
    assert_eq!(page["items"][0]["channel"], "open311");
    let stored = count(
        &env,
        "open311_requests WHERE device_id = 'phone-7' AND email = 'chen@example.cn' AND media_urls LIKE '%2.jpg%'",
    );
    assert_eq!(
        stored, 1,
        "deviceid is read as device_id; every media_url is kept"
    );
}

#[test]
fn a_request_without_a_point_gets_a_token_until_an_operator_places_it() {
    let (env, key) = open311_city();
    let answer = form_post(
        &env,
        "/open311/v2/requests.json",
        &[
            ("api_key", &key),
            ("service_code", "environment.litter"),
            ("address_id", "BLDG-4471"),
            ("description", "Rubbish bags left by the gate"),
        ],
    );
    assert_eq!(answer.status, 201);
    let body: Json = serde_json::from_slice(&answer.body).unwrap();
    let token = body[0]["token"].as_str().unwrap().to_owned();
    assert!(body[0].get("service_request_id").is_none());

    let waiting = parse(&get(&env, &format!("/open311/v2/tokens/{token}.xml")).body);
    assert_eq!(tags(&waiting["children"][0]), SPEC_TOKEN);
    assert_eq!(text_of(&waiting["children"][0], "service_request_id"), "");

    let (s, pending) = call_json(
        &env,
        request("GET", "/api/open311/pending", Some(OPERATOR_TOKEN), None),
    );
    assert_eq!(
        (s, pending["items"][0]["address_id"].as_str()),
        (200, Some("BLDG-4471"))
    );
    let at = json!({"lat": IN_CELL_1.0, "lng": IN_CELL_1.1});
    let (s, placed) = call_json(
        &env,
        request(
            "POST",
            &format!("/api/open311/pending/{token}/place"),
            Some(OPERATOR_TOKEN),
            Some(at.clone()),
        ),
    );
    assert_eq!(s, 201, "{placed}");
    let resolved: Json =
        serde_json::from_slice(&get(&env, &format!("/open311/v2/tokens/{token}.json")).body)
            .unwrap();
    assert_eq!(
        resolved,
        json!([{"service_request_id": placed["service_request_id"], "token": token}])
    );
    let (s, _) = call_json(
        &env,
        request(
            "POST",
            &format!("/api/open311/pending/{token}/place"),
            Some(OPERATOR_TOKEN),
            Some(at),
        ),
    );
    assert_eq!(s, 404, "placed once");
    assert_eq!(get(&env, "/open311/v2/tokens/nothing.xml").status, 404);
}

#[test]
fn errors_are_the_specs_list_with_its_statuses() {
    let (env, key) = open311_city();
    let cases = [
        (
            vec![
                ("service_code", "environment.litter"),
                ("lat", "24.45"),
                ("long", "118.09"),
            ],
            403,
        ),
        (
            vec![
                ("api_key", "ogk_wrong"),
                ("service_code", "environment.litter"),
                ("lat", "24.45"),
                ("long", "118.09"),
            ],
            403,
        ),
        (
            vec![
                ("api_key", key.as_str()),
                ("lat", "24.45"),
                ("long", "118.09"),
            ],
            400,
        ),
        (
            vec![
                ("api_key", key.as_str()),
                ("service_code", "no.such"),
                ("lat", "24.45"),
                ("long", "118.09"),
            ],
            404,
        ),
        (
            vec![
                ("api_key", key.as_str()),
                ("service_code", "environment.litter"),
            ],
            400,
        ),
        (
            vec![
                ("api_key", key.as_str()),
                ("service_code", "environment.litter"),
                ("lat", "north"),
                ("long", "118.09"),
            ],
            400,
        ),
        (
            vec![
                ("api_key", key.as_str()),
                ("service_code", "environment.litter"),
                ("lat", "39.9"),
                ("long", "116.4"),
            ],
            400,
        ),
        (
            vec![
                ("api_key", key.as_str()),
                ("service_code", "landscape.greenway_sign"),
                ("lat", "24.4505"),
                ("long", "118.0905"),
            ],
            400,
        ),
    ];
    for (form, status) in cases {
        let answer = form_post(&env, "/open311/v2/requests.xml", &form);
        assert_eq!(
            answer.status,
            status,
            "{form:?}: {}",
            String::from_utf8_lossy(&answer.body)
        );
        let errors = parse(&answer.body);
        assert_eq!(errors["tag"], "errors");
        for e in errors["children"].as_array().unwrap() {
            assert_eq!(
                (e["tag"].as_str(), tags(e)),
                (Some("error"), SPEC_ERROR.map(String::from).to_vec())
            );
            assert_eq!(text_of(e, "code"), status.to_string());
        }
    }
    let json_error: Json =
        serde_json::from_slice(&get(&env, "/open311/v2/requests/ZZZZ-ZZZZ.json").body).unwrap();
    assert_eq!(json_error[0]["code"], 404.0);
    assert_eq!(
        get(
            &env,
            "/open311/v2/requests.xml?start_date=2023-01-01T00:00:00Z&end_date=2023-06-01T00:00:00Z"
        )
        .status,
        400,
        "more than 90 days"
    );
    // An unknown path and a method the path has not: the spec's list too, in the suffix's
    // format, the 405 with its `Allow`.
    let unknown = get(&env, "/open311/v2/nothing.xml");
    assert_eq!(unknown.status, 404);
    assert_eq!(text_of(&parse(&unknown.body)["children"][0], "code"), "404");
    let unknown: Json =
        serde_json::from_slice(&get(&env, "/open311/v2/nothing.json").body).unwrap();
    assert_eq!(unknown[0]["code"], 404.0);
    let wrong = call(
        &env,
        request("DELETE", "/open311/v2/services.json", None, None),
    );
    assert_eq!((wrong.status, wrong.header("allow")), (405, Some("GET")));
    let wrong: Json = serde_json::from_slice(&wrong.body).unwrap();
    assert_eq!(wrong[0]["code"], 405.0);
}

#[test]
fn the_rate_limit_of_a_key_answers_429_with_retry_after() {
    let env = city();
    let key = api_key(&env, None, &["open311.submit"], Some(1));
    let form = [
        ("api_key", key.as_str()),
        ("service_code", "environment.litter"),
        ("address_string", "gate 3"),
    ];
    assert_eq!(
        form_post(&env, "/open311/v2/requests.xml", &form).status,
        201
    );
    let limited = form_post(&env, "/open311/v2/requests.xml", &form);
    assert_eq!(limited.status, 429);
    assert!(limited.header("retry-after").is_some());
    assert_eq!(text_of(&parse(&limited.body)["children"][0], "code"), "429");
}

#[test]
fn updates_carry_the_extended_statuses_and_disputes_stay_private() {
    let (env, key) = open311_city();
    let (lat, long) = (IN_CELL_2.0.to_string(), IN_CELL_2.1.to_string());
    let start = crate::time::w3c(env.now.get() - 1000);
    let answer = form_post(
        &env,
        "/open311/v2/requests.json",
        &[
            ("api_key", &key),
            ("service_code", "landscape.greenway_sign"),
            ("lat", &lat),
            ("long", &long),
            ("attribute[WHISHETN]", "123"),
        ],
    );
    let id = serde_json::from_slice::<Json>(&answer.body).unwrap()[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = call_json(
        &env,
        request(
            "GET",
            "/api/cases?category=landscape.greenway_sign",
            Some(OPERATOR_TOKEN),
            None,
        ),
    )
    .1;
    let case_id = page["items"][0]["id"].as_str().unwrap().to_owned();
    call_json(
        &env,
        request(
            "POST",
            &format!("/api/cases/{case_id}/dispatch"),
            Some(OPERATOR_TOKEN),
            None,
        ),
    );
    for (n, body) in [
        json!({"case_id": case_id, "action": "signed_for"}),
        json!({"case_id": case_id, "action": "handled", "note": "a new sign is up"}),
    ]
    .iter()
    .enumerate()
    {
        env.now.set(env.now.get() + 60_000);
        assert_eq!(
            call(
                &env,
                signed_callback(&env, "gardens", SECRET, &format!("u{n}"), body)
            )
            .status,
            200
        );
    }
    report(&env, "dispute.neighbourhood", IN_CELL_2);
    let end = crate::time::w3c(env.now.get() + 1000);
    let updates = parse(
        &get(
            &env,
            &format!("/open311/v2/servicerequestupdates.xml?start_date={start}&end_date={end}"),
        )
        .body,
    );
    assert_eq!(updates["tag"], "service_request_updates");
    let items = updates["children"].as_array().unwrap();
    assert!(
        items.iter().all(|u| text_of(u, "service_request_id") == id),
        "only the public case: {updates}"
    );
    let statuses: Vec<String> = items.iter().map(|u| text_of(u, "status")).collect();
    assert_eq!(
        statuses,
        [
            "investigating",
            "investigating",
            "action_scheduled",
            "fixed"
        ]
    );
    let descriptions: Vec<String> = items.iter().map(|u| text_of(u, "description")).collect();
    assert_eq!(descriptions[0], "已受理", "the accept says so in words");
    let times: Vec<String> = items
        .iter()
        .map(|u| text_of(u, "updated_datetime"))
        .collect();
    assert!(
        times[0] < times[1],
        "the accept and the dispatch of one second have their own times: {times:?}"
    );
    assert_eq!(
        tags(&items[0]),
        [
            "update_id",
            "service_request_id",
            "status",
            "updated_datetime",
            "description",
            "media_url"
        ]
    );
    // The department's note is staff text: public updates say what happened in words only.
    assert_eq!(text_of(&items[3], "description"), "处置部门已处置完毕");
    assert!(
        !updates.to_string().contains("a new sign is up"),
        "{updates}"
    );
    let listed: Json =
        serde_json::from_slice(&get(&env, "/open311/v2/requests.json").body).unwrap();
    assert_eq!(
        listed.as_array().unwrap().len(),
        1,
        "the dispute is not listed"
    );
}
