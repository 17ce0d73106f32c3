//! Bench probe: the least a Spin HTTP component can do. `bench/spin-ratios` holds OneGrid's
//! lookup against it.

use spin_sdk::http::{IntoResponse, Request};

#[spin_sdk::http_service]
async fn handle(_req: Request) -> anyhow::Result<impl IntoResponse> {
    Ok("hello")
}
