//! Every error a caller can see, as RFC 9457 problem details. The list of problem types lives
//! here and only here, so that it is visible in one file and stays stable: a client may match on
//! `type`. Unexpected failures become `internal` and never reveal their cause to the caller.

use serde_json::{Map, Value as Json, json};

use crate::http::ApiResponse;

/// Problem type URIs are relative references under `/problems/` (RFC 9457 §3.1.1);
/// docs/problems.md explains each one.
pub const TYPE_PREFIX: &str = "/problems/";

/// The catalogue: every problem type a caller can see, one variant each. docs/problems.md
/// explains each one; code matches on these, never on the slug text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemType {
    MalformedJson,
    ValidationFailed,
    BadRequest,
    Unauthorized,
    BadSignature,
    StaleTimestamp,
    Forbidden,
    NotFound,
    OutsideJurisdiction,
    NoSuchRoute,
    MethodNotAllowed,
    ForbiddenMove,
    Conflict,
    BodyTooLarge,
    UnsupportedMediaType,
    RateLimited,
    Internal,
    NotConfigured,
    RequestTimeout,
    /// The server holds as many request bodies or queued requests as it takes: retry shortly.
    Busy,
}

impl ProblemType {
    pub const ALL: [ProblemType; 20] = [
        ProblemType::MalformedJson,
        ProblemType::ValidationFailed,
        ProblemType::BadRequest,
        ProblemType::Unauthorized,
        ProblemType::BadSignature,
        ProblemType::StaleTimestamp,
        ProblemType::Forbidden,
        ProblemType::NotFound,
        ProblemType::OutsideJurisdiction,
        ProblemType::NoSuchRoute,
        ProblemType::MethodNotAllowed,
        ProblemType::ForbiddenMove,
        ProblemType::Conflict,
        ProblemType::BodyTooLarge,
        ProblemType::UnsupportedMediaType,
        ProblemType::RateLimited,
        ProblemType::Internal,
        ProblemType::NotConfigured,
        ProblemType::RequestTimeout,
        ProblemType::Busy,
    ];

    /// The stable last part of the `type` URI, e.g. `outside-jurisdiction`.
    pub fn slug(self) -> &'static str {
        match self {
            ProblemType::MalformedJson => "malformed-json",
            ProblemType::ValidationFailed => "validation-failed",
            ProblemType::BadRequest => "bad-request",
            ProblemType::Unauthorized => "unauthorized",
            ProblemType::BadSignature => "bad-signature",
            ProblemType::StaleTimestamp => "stale-timestamp",
            ProblemType::Forbidden => "forbidden",
            ProblemType::NotFound => "not-found",
            ProblemType::OutsideJurisdiction => "outside-jurisdiction",
            ProblemType::NoSuchRoute => "no-such-route",
            ProblemType::MethodNotAllowed => "method-not-allowed",
            ProblemType::ForbiddenMove => "forbidden-move",
            ProblemType::Conflict => "conflict",
            ProblemType::BodyTooLarge => "body-too-large",
            ProblemType::UnsupportedMediaType => "unsupported-media-type",
            ProblemType::RateLimited => "rate-limited",
            ProblemType::Internal => "internal",
            ProblemType::NotConfigured => "not-configured",
            ProblemType::RequestTimeout => "request-timeout",
            ProblemType::Busy => "busy",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            ProblemType::MalformedJson => "The body is not valid JSON for this request",
            ProblemType::ValidationFailed => "Some fields are not valid",
            ProblemType::BadRequest => "The request is not valid",
            ProblemType::Unauthorized => "Authentication is required",
            ProblemType::BadSignature => "The webhook signature is missing or wrong",
            ProblemType::StaleTimestamp => "The webhook timestamp is outside the allowed window",
            ProblemType::Forbidden => "You may not do this",
            ProblemType::NotFound => "Not found",
            ProblemType::OutsideJurisdiction => "The place is outside every grid cell",
            ProblemType::NoSuchRoute => "No such route",
            ProblemType::MethodNotAllowed => "Method not allowed",
            ProblemType::ForbiddenMove => "The case cannot make this move now",
            ProblemType::Conflict => "The request conflicts with the current state",
            ProblemType::BodyTooLarge => "The body is too large",
            ProblemType::UnsupportedMediaType => "Unsupported content type",
            ProblemType::RateLimited => "Too many requests",
            ProblemType::Internal => "Internal error",
            ProblemType::NotConfigured => "The service is not configured",
            ProblemType::RequestTimeout => "The request took too long",
            ProblemType::Busy => "The server is busy",
        }
    }

    pub fn status(self) -> u16 {
        match self {
            ProblemType::MalformedJson => 400,
            ProblemType::ValidationFailed => 422,
            ProblemType::BadRequest => 400,
            ProblemType::Unauthorized => 401,
            ProblemType::BadSignature => 401,
            ProblemType::StaleTimestamp => 401,
            ProblemType::Forbidden => 403,
            ProblemType::NotFound => 404,
            ProblemType::OutsideJurisdiction => 404,
            ProblemType::NoSuchRoute => 404,
            ProblemType::MethodNotAllowed => 405,
            ProblemType::ForbiddenMove => 409,
            ProblemType::Conflict => 409,
            ProblemType::BodyTooLarge => 413,
            ProblemType::UnsupportedMediaType => 415,
            ProblemType::RateLimited => 429,
            ProblemType::Internal => 500,
            ProblemType::NotConfigured => 503,
            ProblemType::RequestTimeout => 408,
            ProblemType::Busy => 503,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub status: u16,
    pub kind: ProblemType,
    pub detail: String,
    /// Extension members (RFC 9457 §3.2), e.g. `errors` or `allowed_moves`.
    pub extensions: Map<String, Json>,
    pub retry_after_seconds: Option<u64>,
}

impl Problem {
    pub fn new(kind: ProblemType, detail: impl Into<String>) -> Self {
        Problem {
            status: kind.status(),
            kind,
            detail: detail.into(),
            extensions: Map::new(),
            retry_after_seconds: None,
        }
    }

    pub fn with(mut self, key: &str, value: Json) -> Self {
        self.extensions.insert(key.to_owned(), value);
        self
    }

    pub fn title(&self) -> &'static str {
        self.kind.title()
    }

    pub fn type_uri(&self) -> String {
        format!("{TYPE_PREFIX}{}", self.kind.slug())
    }

    pub fn into_response(self) -> ApiResponse {
        // A 405 must say which methods the path has (RFC 9110 §15.5.6): those of `allowed`.
        let allow = match (self.status, self.extensions.get("allowed")) {
            (405, Some(Json::Array(methods))) => Some(
                methods
                    .iter()
                    .filter_map(Json::as_str)
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            _ => None,
        };
        let mut body = Map::new();
        body.insert("type".into(), json!(self.type_uri()));
        body.insert("title".into(), json!(self.kind.title()));
        body.insert("status".into(), json!(self.status));
        body.insert("detail".into(), json!(self.detail));
        body.extend(self.extensions);
        let bytes = serde_json::to_vec(&Json::Object(body)).unwrap_or_default();
        let mut response = ApiResponse::new(self.status, "application/problem+json", bytes);
        if let Some(s) = self.retry_after_seconds {
            response = response.with_header("retry-after", s.to_string());
        }
        if let Some(methods) = allow {
            response = response.with_header("allow", methods);
        }
        response
    }

    // ---- 400: the request itself is wrong
    pub fn malformed_json(err: &serde_json::Error) -> Self {
        Problem::new(ProblemType::MalformedJson, err.to_string())
    }
    /// One or more fields failed validation; `errors` lists each field with its message.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        let list: Vec<Json> = errors
            .into_iter()
            .map(|e| json!({"field": e.field, "message": e.message}))
            .collect();
        Problem::new(ProblemType::ValidationFailed, detail).with("errors", Json::Array(list))
    }
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Problem::new(ProblemType::BadRequest, detail)
    }

    // ---- 401 / 403
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Problem::new(ProblemType::Unauthorized, detail)
    }
    pub fn bad_signature(detail: impl Into<String>) -> Self {
        Problem::new(ProblemType::BadSignature, detail)
    }
    pub fn stale_timestamp(detail: impl Into<String>) -> Self {
        Problem::new(ProblemType::StaleTimestamp, detail)
    }
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Problem::new(ProblemType::Forbidden, detail)
    }

    // ---- 404
    pub fn not_found(what: &str, id: &str) -> Self {
        Problem::new(ProblemType::NotFound, format!("no {what} {id}"))
    }
    pub fn outside_jurisdiction(detail: impl Into<String>) -> Self {
        Problem::new(ProblemType::OutsideJurisdiction, detail)
    }
    pub fn no_route(method: &str, path: &str) -> Self {
        Problem::new(ProblemType::NoSuchRoute, format!("{method} {path}"))
    }
    pub fn method_not_allowed(method: &str, path: &str, allowed: &[&str]) -> Self {
        Problem::new(ProblemType::MethodNotAllowed, format!("{method} {path}"))
            .with("allowed", json!(allowed))
    }

    /// 503 with `Retry-After`: the server's memory or queue for requests is full.
    pub fn busy(retry_after_seconds: u64) -> Self {
        let mut p = Problem::new(
            ProblemType::Busy,
            "the server holds as many requests as it takes; retry shortly",
        );
        p.retry_after_seconds = Some(retry_after_seconds);
        p
    }

    pub fn request_timeout() -> Self {
        Problem::new(
            ProblemType::RequestTimeout,
            "the request body did not arrive in time",
        )
    }

    // ---- 409 / 413 / 415
    /// A move the state machine does not allow from the case's current status.
    pub fn forbidden_move(status: &str, attempted: &str, allowed: Vec<String>) -> Self {
        Problem::new(
            ProblemType::ForbiddenMove,
            format!("a case in status {status} cannot move by {attempted}"),
        )
        .with("status_now", json!(status))
        .with("allowed_moves", json!(allowed))
    }
    pub fn conflict(detail: impl Into<String>) -> Self {
        Problem::new(ProblemType::Conflict, detail)
    }
    pub fn body_too_large(limit: usize) -> Self {
        Problem::new(ProblemType::BodyTooLarge, format!("at most {limit} bytes"))
            .with("limit_bytes", json!(limit))
    }
    pub fn unsupported_media_type(expected: &str) -> Self {
        Problem::new(
            ProblemType::UnsupportedMediaType,
            format!("send {expected}"),
        )
    }

    // ---- 429 / 5xx
    pub fn rate_limited(retry_after_seconds: u64) -> Self {
        let mut p = Problem::new(ProblemType::RateLimited, "slow down and retry later");
        p.retry_after_seconds = Some(retry_after_seconds);
        p
    }
    /// Our fault. The cause is logged by the caller, never shown.
    pub fn internal() -> Self {
        Problem::new(
            ProblemType::Internal,
            "the request could not be completed; it was not applied",
        )
    }
    pub fn not_configured(what: &str) -> Self {
        Problem::new(ProblemType::NotConfigured, format!("{what} is not set"))
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind.title(), self.detail)
    }
}

/// A problem is the error a command hands on when a layer below already said what went wrong.
impl std::error::Error for Problem {}

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
    /// A stable word for the broken rule (`required`, `too_short`, ...), where pages need one to
    /// say it in the reader's language; the message stays English.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        FieldError {
            field: field.to_owned(),
            message: message.into(),
            code: None,
        }
    }

    pub fn with_code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }
}

/// A storage failure as seen by a caller: logged with its cause, answered as `internal`.
impl From<crate::ports::StoreError> for Problem {
    fn from(err: crate::ports::StoreError) -> Self {
        tracing::error!(error = %err, "storage error");
        Problem::internal()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_type_is_documented_once_with_its_status() {
        let docs = include_str!("../../../docs/problems.md");
        for kind in ProblemType::ALL {
            let row = format!("| `/problems/{}` | {} |", kind.slug(), kind.status());
            assert_eq!(docs.matches(&row).count(), 1, "docs/problems.md: {row}");
        }
        let slugs: std::collections::BTreeSet<_> =
            ProblemType::ALL.iter().map(|k| k.slug()).collect();
        assert_eq!(slugs.len(), ProblemType::ALL.len());
    }
}
