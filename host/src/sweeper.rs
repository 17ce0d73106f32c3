//! The background sweep: retries due webhook deliveries every minute on its own `NativeEnv`,
//! as a cron calling `POST /api/sweep` would under Spin. Failures are logged, never fatal.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::thread;
use std::time::Duration;

use futures::executor::block_on;
use onegrid::api::dispatch;

use crate::native::{EnvConfig, NativeEnv};

pub const INTERVAL: Duration = Duration::from_secs(60);

pub fn spawn(config: EnvConfig) -> std::io::Result<thread::JoinHandle<()>> {
    thread::Builder::new()
        .name("sweeper".into())
        .spawn(move || {
            let mut env: Option<NativeEnv> = None;
            loop {
                if env.is_none() {
                    env = config
                        .open()
                        .map_err(|e| tracing::error!("sweep: cannot open the stores: {e:#}"))
                        .ok();
                }
                if let Some(env) = &env {
                    sweep_once(env);
                }
                thread::sleep(INTERVAL);
            }
        })
}

fn sweep_once(env: &NativeEnv) {
    let outcome = catch_unwind(AssertUnwindSafe(|| block_on(dispatch::sweep(env))));
    env.end_request();
    match outcome {
        Ok(Ok(report)) if report.webhooks.attempted > 0 || report.deadlines.escalated > 0 => {
            tracing::info!(
                attempted = report.webhooks.attempted,
                delivered = report.webhooks.delivered,
                failed = report.webhooks.failed,
                escalated = report.deadlines.escalated,
                "sweep: webhooks retried, cases escalated"
            )
        }
        Ok(Ok(_)) => {}
        Ok(Err(problem)) => tracing::error!(
            title = problem.title(),
            detail = %problem.detail,
            "sweep failed"
        ),
        Err(_) => tracing::error!("sweep panicked"),
    }
}
