//! What every request pays before its handler runs: the body limit of its route (from every
//! component's table) and its route in its component's table, for a literal path, a path with
//! parameters and an Open311 path with a format suffix.
//!
//! `cargo bench -p onegrid-shared --bench routing -- --warm-up-time 1 --measurement-time 3`
//! (`--save-baseline NAME` on one commit and `--baseline NAME` on another give the ratio).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use onegrid::ApiRequest;
use onegrid::api::routes::body_limit;
use onegrid::api::{intake, open311};
use onegrid::http::routes::find;

fn routing(c: &mut Criterion) {
    let mut group = c.benchmark_group("route a request");
    for (label, method, path) in [
        ("health", "GET", "/api/health"),
        ("tracking", "GET", "/api/reports/AB12CD34"),
        ("report", "POST", "/api/reports"),
    ] {
        let req = ApiRequest::new(method, path);
        group.bench_function(label, |b| {
            b.iter(|| {
                let limit = body_limit(&req.method, &req.path);
                let found = find(intake::ROUTES, black_box(&req))
                    .ok()
                    .map(|(r, _)| r.path);
                black_box((limit, found))
            })
        });
    }
    let req = ApiRequest::new("GET", "/open311/v2/requests/AB12CD34.json");
    group.bench_function("open311 with a format", |b| {
        b.iter(|| {
            let limit = body_limit(&req.method, &req.path);
            let found = find(open311::ROUTES, black_box(&req))
                .ok()
                .map(|(r, _)| r.path);
            black_box((limit, found))
        })
    });
    group.finish();
}

criterion_group!(benches, routing);
criterion_main!(benches);
