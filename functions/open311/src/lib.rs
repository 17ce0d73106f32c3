//! The `open311` component. Routes (spin.toml):
//! `/open311/...` (GeoReport v2 under `/open311/v2/`), `/api/open311/...` → [`onegrid::api::open311`].

use onegrid_spin::{SpinEnv, read_request, write_response};
use spin_sdk::http::{IntoResponse, Request};

/// Reads the request, runs the domain handler on Spin's ports and writes its answer.
#[spin_sdk::http_service]
async fn handle(req: Request) -> anyhow::Result<impl IntoResponse> {
    let resp = match read_request(req).await {
        Ok(req) => onegrid::api::open311::handle(&SpinEnv::new(), req).await,
        Err(refused) => refused,
    };
    Ok(write_response(resp))
}
