//! Serving the web pages of `static/`.

use crate::{ApiRequest, ApiResponse};

/// Serves a file of `static/`; `read` gets a relative path without `..` and returns its bytes.
pub fn serve(req: &ApiRequest, read: impl Fn(&str) -> Option<Vec<u8>>) -> ApiResponse {
    let _ = read;
    crate::Problem::no_route(&req.method, &req.path).into_response()
}
