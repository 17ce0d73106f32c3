//! The `static-files` component. Routes (spin.toml): `/...` (everything no other component
//! claims) → [`onegrid::api::static_files::serve`], reading `static/` from the files mount at `/`.
//! It has no SQLite or key-value grant, so it opens neither; it reads the map variables for
//! `/config.json` and the CSP.

use onegrid::api::static_files::Folder;
use onegrid_spin::{SpinEnv, read_request, write_response};
use spin_sdk::http::{IntoResponse, Request};

/// Reads the request and answers it with a file of the mount (or a problem).
#[spin_sdk::http_service]
async fn handle(req: Request) -> anyhow::Result<impl IntoResponse> {
    let resp = match read_request(req).await {
        Ok(req) => {
            let map = onegrid::api::static_files::map_config(&SpinEnv::new()).await;
            onegrid::api::static_files::serve(&req, &map, &Folder("/".into()))
        }
        Err(refused) => refused,
    };
    Ok(write_response(resp))
}
