//! Every error a caller can see, as RFC 9457 problem details. The list of problem types lives
//! here and only here, so that it is visible in one file and stays stable: a client may match on
//! `type`. Unexpected failures become `internal` and never reveal their cause to the caller.

use serde_json::{Map, Value as Json, json};

use crate::http::ApiResponse;

/// Problem type URIs are relative references under `/problems/` (RFC 9457 §3.1.1);
/// docs/problems.md explains each one.
pub const TYPE_PREFIX: &str = "/problems/";

#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub status: u16,
    /// The stable last part of the `type` URI, e.g. `outside-jurisdiction`.
    pub slug: &'static str,
    pub title: &'static str,
    pub detail: String,
    /// Extension members (RFC 9457 §3.2), e.g. `errors` or `allowed_moves`.
    pub extensions: Map<String, Json>,
    pub retry_after_seconds: Option<u64>,
}

impl Problem {
    pub fn new(
        status: u16,
        slug: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Problem {
            status,
            slug,
            title,
            detail: detail.into(),
            extensions: Map::new(),
            retry_after_seconds: None,
        }
    }

    pub fn with(mut self, key: &str, value: Json) -> Self {
        self.extensions.insert(key.to_owned(), value);
        self
    }

    pub fn type_uri(&self) -> String {
        format!("{TYPE_PREFIX}{}", self.slug)
    }

    pub fn into_response(self) -> ApiResponse {
        let mut body = Map::new();
        body.insert("type".into(), json!(self.type_uri()));
        body.insert("title".into(), json!(self.title));
        body.insert("status".into(), json!(self.status));
        body.insert("detail".into(), json!(self.detail));
        body.extend(self.extensions);
        let bytes = serde_json::to_vec(&Json::Object(body)).unwrap_or_default();
        let response = ApiResponse::new(self.status, "application/problem+json", bytes);
        match self.retry_after_seconds {
            Some(s) => response.with_header("retry-after", s.to_string()),
            None => response,
        }
    }

    // ---- 400: the request itself is wrong
    pub fn malformed_json(err: &serde_json::Error) -> Self {
        Problem::new(
            400,
            "malformed-json",
            "The body is not valid JSON for this request",
            err.to_string(),
        )
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
        Problem::new(
            422,
            "validation-failed",
            "Some fields are not valid",
            detail,
        )
        .with("errors", Json::Array(list))
    }
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Problem::new(400, "bad-request", "The request is not valid", detail)
    }

    // ---- 401 / 403
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Problem::new(401, "unauthorized", "Authentication is required", detail)
    }
    pub fn bad_signature(detail: impl Into<String>) -> Self {
        Problem::new(
            401,
            "bad-signature",
            "The webhook signature is missing or wrong",
            detail,
        )
    }
    pub fn stale_timestamp(detail: impl Into<String>) -> Self {
        Problem::new(
            401,
            "stale-timestamp",
            "The webhook timestamp is outside the allowed window",
            detail,
        )
    }
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Problem::new(403, "forbidden", "You may not do this", detail)
    }

    // ---- 404
    pub fn not_found(what: &str, id: &str) -> Self {
        Problem::new(404, "not-found", "Not found", format!("no {what} {id}"))
    }
    pub fn outside_jurisdiction(detail: impl Into<String>) -> Self {
        Problem::new(
            404,
            "outside-jurisdiction",
            "The place is outside every grid cell",
            detail,
        )
    }
    pub fn no_route(method: &str, path: &str) -> Self {
        Problem::new(
            404,
            "no-such-route",
            "No such route",
            format!("{method} {path}"),
        )
    }
    pub fn method_not_allowed(method: &str, path: &str, allowed: &[&str]) -> Self {
        Problem::new(
            405,
            "method-not-allowed",
            "Method not allowed",
            format!("{method} {path}"),
        )
        .with("allowed", json!(allowed))
    }

    // ---- 409 / 413 / 415
    /// A move the state machine does not allow from the case's current status.
    pub fn forbidden_move(status: &str, attempted: &str, allowed: Vec<String>) -> Self {
        Problem::new(
            409,
            "forbidden-move",
            "The case cannot make this move now",
            format!("a case in status {status} cannot move by {attempted}"),
        )
        .with("status_now", json!(status))
        .with("allowed_moves", json!(allowed))
    }
    pub fn conflict(detail: impl Into<String>) -> Self {
        Problem::new(
            409,
            "conflict",
            "The request conflicts with the current state",
            detail,
        )
    }
    pub fn body_too_large(limit: usize) -> Self {
        Problem::new(
            413,
            "body-too-large",
            "The body is too large",
            format!("at most {limit} bytes"),
        )
        .with("limit_bytes", json!(limit))
    }
    pub fn unsupported_media_type(expected: &str) -> Self {
        Problem::new(
            415,
            "unsupported-media-type",
            "Unsupported content type",
            format!("send {expected}"),
        )
    }

    // ---- 429 / 5xx
    pub fn rate_limited(retry_after_seconds: u64) -> Self {
        let mut p = Problem::new(
            429,
            "rate-limited",
            "Too many requests",
            "slow down and retry later",
        );
        p.retry_after_seconds = Some(retry_after_seconds);
        p
    }
    /// Our fault. The cause is logged by the caller, never shown.
    pub fn internal() -> Self {
        Problem::new(
            500,
            "internal",
            "Internal error",
            "the request could not be completed; it was not applied",
        )
    }
    pub fn not_configured(what: &str) -> Self {
        Problem::new(
            503,
            "not-configured",
            "The service is not configured",
            format!("{what} is not set"),
        )
    }
}

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
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
