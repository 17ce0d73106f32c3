//! The `indicators` component. Routes (spin.toml):
//! `/api/indicators`, `/api/indicators/...`, `/api/alerts`, `/api/alerts/...` →
//! [`onegrid::api::indicators`].

use onegrid_spin::{SpinEnv, read_request, write_response};
use spin_sdk::http::{IntoResponse, Request};

/// Reads the request, runs the domain handler on Spin's ports and writes its answer.
#[spin_sdk::http_service]
async fn handle(req: Request) -> anyhow::Result<impl IntoResponse> {
    let resp = match read_request(req).await {
        Ok(req) => onegrid::api::indicators::handle(&SpinEnv::new(), req).await,
        Err(refused) => refused,
    };
    Ok(write_response(resp))
}
