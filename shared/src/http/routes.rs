//! Route tables: each component's routes as data (method, path pattern, body limit, who may call
//! it, and the id of its handler), and the one matcher that reads them, so that the router, the
//! 405 answer, the adapters' body limits and the OpenAPI test cannot disagree. This module only
//! matches: it never calls a handler and never checks who is calling (the handlers do).
//!
//! A path pattern is `/`-separated: a literal segment (`health`), a parameter (`{id}`, any one
//! segment), and, at the very end, an optional format suffix `.{format}` (`requests.{format}`,
//! `{token}.{format}`): the path may end in one of [`FORMATS`], which becomes that parameter, or
//! leave it out. Empty segments are ignored (`/api//health` is `/api/health`).

use std::ops::Index;

use super::problem::Problem;
use super::{ApiRequest, MAX_BODY_BYTES};

/// The suffixes a `.{format}` takes: Open311 GeoReport v2 picks its representation by the
/// path's extension (`services.json`, `services.xml`). Only these are suffixes, since a code
/// may itself contain dots (`landscape.greenway_sign`).
pub const FORMATS: &[&str] = &["json", "xml"];

/// The methods our routes answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// One route. `Id` names the component's handler (an enum per component, matched exhaustively
/// by its `handle`); `Who` says who may call it, in the words of the layer that knows callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route<Id, Who> {
    pub method: Method,
    pub path: &'static str,
    /// The largest body the adapters read for this route (413 beyond it).
    pub limit: usize,
    pub who: Who,
    pub id: Id,
}

impl<Id, Who> Route<Id, Who> {
    pub const fn new(method: Method, path: &'static str, who: Who, id: Id) -> Self {
        Route {
            method,
            path,
            limit: MAX_BODY_BYTES,
            who,
            id,
        }
    }
    pub const fn get(path: &'static str, who: Who, id: Id) -> Self {
        Self::new(Method::Get, path, who, id)
    }
    pub const fn post(path: &'static str, who: Who, id: Id) -> Self {
        Self::new(Method::Post, path, who, id)
    }
    pub const fn put(path: &'static str, who: Who, id: Id) -> Self {
        Self::new(Method::Put, path, who, id)
    }
    pub const fn patch(path: &'static str, who: Who, id: Id) -> Self {
        Self::new(Method::Patch, path, who, id)
    }
    pub const fn delete(path: &'static str, who: Who, id: Id) -> Self {
        Self::new(Method::Delete, path, who, id)
    }
    /// A body limit other than [`MAX_BODY_BYTES`].
    pub const fn limit(mut self, bytes: usize) -> Self {
        self.limit = bytes;
        self
    }
}

/// The parameters a matched path gave, by the names of its pattern.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params<'a> {
    pairs: Vec<(&'static str, &'a str)>,
}

impl<'a> Params<'a> {
    /// A parameter, or `None` when the path left it out (only a `.{format}` can be left out).
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }
}

impl Index<&str> for Params<'_> {
    type Output = str;

    /// A parameter of the pattern. A name the pattern lacks is a bug in the handler's arm next
    /// to its table, which every route's test call finds.
    fn index(&self, name: &str) -> &str {
        match self.get(name) {
            Some(value) => value,
            None => panic!("the route has no parameter {{{name}}}"),
        }
    }
}

fn segments(s: &str) -> impl Iterator<Item = &str> {
    s.split('/').filter(|s| !s.is_empty())
}

fn parameter(segment: &str) -> Option<&str> {
    segment.strip_prefix('{')?.strip_suffix('}')
}

/// The parameters of `path` if it fits `pattern`. Walks both once, allocating nothing unless
/// there are parameters: every request tries it against route after route.
pub fn matches<'a>(pattern: &'static str, path: &'a str) -> Option<Params<'a>> {
    let mut want = segments(pattern).peekable();
    let mut got = segments(path);
    let mut params = Params::default();
    while let Some(mut w) = want.next() {
        let mut g = got.next()?;
        // The pattern's last segment may end in `.{name}`: the path's may then end in a format.
        if want.peek().is_none()
            && let Some((stem, name)) = w
                .rsplit_once(".{")
                .and_then(|(stem, name)| Some((stem, name.strip_suffix('}')?)))
        {
            w = stem;
            if let Some((rest, format)) = FORMATS
                .iter()
                .find_map(|f| Some((g.strip_suffix(f)?.strip_suffix('.')?, *f)))
            {
                params.pairs.push((name, format));
                g = rest;
            }
        }
        match parameter(w) {
            Some(name) => params.pairs.push((name, g)),
            None if w == g => {}
            None => return None,
        }
    }
    got.next().is_none().then_some(params)
}

/// The route of `table` for the request, first in table order, and its parameters. A path no
/// route fits is 404 `no-such-route`; a path that only routes of other methods fit is 405
/// `method-not-allowed`, listing their methods (which the response carries as `Allow`).
pub fn find<'t, 'a, Id, Who>(
    table: &'t [Route<Id, Who>],
    req: &'a ApiRequest,
) -> Result<(&'t Route<Id, Who>, Params<'a>), Problem> {
    let mut allowed: Vec<&str> = Vec::new();
    for route in table {
        let Some(params) = matches(route.path, &req.path) else {
            continue;
        };
        let method = route.method.as_str();
        if method == req.method {
            return Ok((route, params));
        }
        if !allowed.contains(&method) {
            allowed.push(method);
        }
    }
    Err(if allowed.is_empty() {
        Problem::no_route(&req.method, &req.path)
    } else {
        Problem::method_not_allowed(&req.method, &req.path, &allowed)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Id {
        Pages,
        Page,
        Edit,
        Sheet,
        One,
        Requests,
        Submit,
        Service,
    }

    const TABLE: &[Route<Id, ()>] = &[
        Route::get("/pages", (), Id::Pages),
        Route::get("/pages/{id}", (), Id::Page),
        Route::patch("/pages/{id}", (), Id::Edit).limit(7),
        Route::get("/things/sheet.svg", (), Id::Sheet),
        Route::get("/things/{id}", (), Id::One),
        Route::get("/v2/requests.{format}", (), Id::Requests),
        Route::post("/v2/requests.{format}", (), Id::Submit),
        Route::get("/v2/services/{code}.{format}", (), Id::Service),
    ];

    /// The route's id and its parameters, or the refusal.
    type Found = Result<(Id, Vec<(&'static str, String)>), Problem>;

    fn found(method: &str, path: &str) -> Found {
        let req = ApiRequest::new(method, path);
        let (route, params) = find(TABLE, &req)?;
        let pairs = params
            .pairs
            .iter()
            .map(|(n, v)| (*n, (*v).to_owned()))
            .collect();
        Ok((route.id, pairs))
    }

    #[test]
    fn literals_and_parameters_match_whole_segments_in_table_order() {
        assert_eq!(found("GET", "/pages"), Ok((Id::Pages, vec![])));
        assert_eq!(
            found("GET", "/pages/a1"),
            Ok((Id::Page, vec![("id", "a1".into())]))
        );
        assert_eq!(found("GET", "//pages//a1/").unwrap().0, Id::Page);
        assert_eq!(found("PATCH", "/pages/a1").unwrap().0, Id::Edit);
        // An earlier literal wins over a later parameter, as a match arm would.
        assert_eq!(found("GET", "/things/sheet.svg").unwrap().0, Id::Sheet);
        assert_eq!(found("GET", "/things/qr.svg").unwrap().0, Id::One);
        for miss in ["/", "/pages/a/b", "/page", "/things"] {
            assert_eq!(
                found("GET", miss).unwrap_err().kind.slug(),
                "no-such-route",
                "{miss}"
            );
        }
        assert_eq!(TABLE[2].limit, 7);
        assert_eq!(TABLE[1].limit, MAX_BODY_BYTES);
    }

    #[test]
    fn a_format_suffix_is_optional_and_only_json_or_xml() {
        assert_eq!(
            found("GET", "/v2/requests.json"),
            Ok((Id::Requests, vec![("format", "json".into())]))
        );
        assert_eq!(found("GET", "/v2/requests"), Ok((Id::Requests, vec![])));
        assert_eq!(found("POST", "/v2/requests.xml").unwrap().0, Id::Submit);
        assert_eq!(
            found("GET", "/v2/requests.txt").unwrap_err().kind.slug(),
            "no-such-route"
        );
        // A code with dots keeps them; only the last `.json` / `.xml` is the format.
        assert_eq!(
            found("GET", "/v2/services/landscape.greenway_sign.json"),
            Ok((
                Id::Service,
                vec![
                    ("format", "json".into()),
                    ("code", "landscape.greenway_sign".into())
                ]
            ))
        );
        assert_eq!(
            found("GET", "/v2/services/landscape.greenway_sign"),
            Ok((
                Id::Service,
                vec![("code", "landscape.greenway_sign".into())]
            ))
        );
    }

    #[test]
    fn another_method_on_a_known_path_lists_the_methods_it_has() {
        let refused = found("DELETE", "/pages/a1").unwrap_err();
        assert_eq!(
            (refused.status, refused.kind.slug()),
            (405, "method-not-allowed")
        );
        assert_eq!(
            refused.extensions["allowed"],
            serde_json::json!(["GET", "PATCH"])
        );
        let response = refused.into_response();
        assert_eq!(response.header("allow"), Some("GET, PATCH"));
        // Each method once, in table order, from every route the path fits.
        let refused = found("PUT", "/things/sheet.svg").unwrap_err();
        assert_eq!(refused.extensions["allowed"], serde_json::json!(["GET"]));
        let refused = found("PUT", "/v2/requests.json").unwrap_err();
        assert_eq!(
            refused.extensions["allowed"],
            serde_json::json!(["GET", "POST"])
        );
    }
}
