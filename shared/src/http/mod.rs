//! The plain HTTP shapes every handler speaks: a request already read into memory and a
//! response to write. The Spin components and the native host convert to and from these,
//! so both run the very same handlers. Bodies are capped before they get here.

pub mod problem;
pub mod routes;
pub mod webhook;

use serde::Serialize;

use problem::Problem;

/// Largest request body of ordinary routes; the adapters refuse more with 413 before parsing.
/// A route's own limit is in its component's route table ([`routes::Route`]).
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// The map import takes a whole city: Xiamen's 4,103 cells are about 2 MB of GeoJSON.
pub const MAX_MAP_BODY_BYTES: usize = 32 * 1024 * 1024;

/// Department callbacks may carry up to four photos of 2 MiB in base64 (`evidence`).
pub const MAX_CALLBACK_BODY_BYTES: usize = 12 * 1024 * 1024;

/// Routes that take photos in their JSON (citizens' reports, a desk's moves): up to three or
/// four pictures, each downscaled in the browser to well under 1 MiB, in base64.
pub const MAX_PHOTO_BODY_BYTES: usize = 6 * 1024 * 1024;

#[derive(Debug, Clone, Default)]
pub struct ApiRequest {
    pub method: String,
    /// The path without the query string, e.g. `/api/reports/AB12CD34`.
    pub path: String,
    /// The raw query string without `?`.
    pub query: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl ApiRequest {
    pub fn new(method: &str, path_and_query: &str) -> Self {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        ApiRequest {
            method: method.to_ascii_uppercase(),
            path: path.to_owned(),
            query: query.to_owned(),
            ..Default::default()
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Query parameters, percent-decoded (`+` is a space).
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        parse_form(&self.query)
    }

    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query_pairs()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// The path split on `/`, without empty segments.
    pub fn segments(&self) -> Vec<&str> {
        self.path.split('/').filter(|s| !s.is_empty()).collect()
    }

    /// The bearer token of the `Authorization` header.
    pub fn bearer(&self) -> Option<&str> {
        let value = self.header("authorization")?;
        let (scheme, token) = value.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim())
            .filter(|t| !t.is_empty())
    }

    /// Parse the body as JSON, after checking that it was sent as JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, Problem> {
        self.require_json()?;
        serde_json::from_slice(&self.body).map_err(|e| Problem::malformed_json(&e))
    }

    /// 415 unless the body was sent as `application/json` or a `+json` type (GeoJSON's
    /// `application/geo+json`).
    pub fn require_json(&self) -> Result<(), Problem> {
        let content_type = self.header("content-type").unwrap_or("");
        let media = content_type.split(';').next().unwrap_or("").trim();
        if !media.eq_ignore_ascii_case("application/json") && !media.ends_with("+json") {
            return Err(Problem::unsupported_media_type("application/json"));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApiResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl ApiResponse {
    pub fn new(status: u16, content_type: &str, body: Vec<u8>) -> Self {
        ApiResponse {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body,
        }
    }

    pub fn json<T: Serialize>(status: u16, value: &T) -> Self {
        // Serializing our own types cannot fail; fall back to `null` rather than panic.
        let body = serde_json::to_vec(value).unwrap_or_else(|_| b"null".to_vec());
        Self::new(status, "application/json", body)
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl From<Problem> for ApiResponse {
    fn from(problem: Problem) -> Self {
        problem.into_response()
    }
}

/// Decode `application/x-www-form-urlencoded` (also query strings).
pub fn parse_form(input: &str) -> Vec<(String, String)> {
    input
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// The scheme and host OneGrid's own absolute URLs start with (QR codes, sign sheets, the
/// Open311 discovery): the Spin variable `public_base_url`. Without it, only a request to a
/// loopback host (a developer's machine) lends its `Host`, over http; any other host is a
/// 503 `not-configured`, since a URL built from a request's headers points wherever the
/// caller says (and a cached answer would send every later reader there).
pub async fn public_base_url<P: crate::Platform>(
    env: &P,
    req: &ApiRequest,
) -> Result<String, Problem> {
    if let Some(base) = env.variable("public_base_url").await?
        && !base.trim().is_empty()
    {
        return Ok(base.trim().trim_end_matches('/').to_owned());
    }
    let host = req.header("host").map(str::trim).unwrap_or_default();
    let name = host
        .strip_prefix('[')
        .and_then(|h| h.split(']').next())
        .unwrap_or_else(|| host.rsplit_once(':').map_or(host, |(name, _)| name));
    let port_ok = host
        .rsplit_once(':')
        .filter(|(_, port)| !port.contains(']'))
        .is_none_or(|(_, port)| port.parse::<u16>().is_ok());
    let loopback = name == "localhost"
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback && port_ok {
        return Ok(format!("http://{host}"));
    }
    Err(Problem::not_configured(
        "the public_base_url variable (e.g. https://grid.example.city), which OneGrid's own links and QR codes start with,",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_are_decoded() {
        let req = ApiRequest::new(
            "get",
            "/api/grid/lookup?lat=24.5&lng=118.1&q=a+b%2Fc&bad=%zz&end=%4",
        );
        assert_eq!(req.path, "/api/grid/lookup");
        assert_eq!(req.query_param("lat").as_deref(), Some("24.5"));
        assert_eq!(req.query_param("q").as_deref(), Some("a b/c"));
        assert_eq!(req.query_param("bad").as_deref(), Some("%zz"));
        assert_eq!(req.query_param("end").as_deref(), Some("%4"));
    }

    #[test]
    fn bearer_tokens_are_read_case_insensitively() {
        let mut req = ApiRequest::new("POST", "/x");
        req.headers
            .push(("authorization".into(), "bearer  abc ".into()));
        assert_eq!(req.bearer(), Some("abc"));
    }
}
