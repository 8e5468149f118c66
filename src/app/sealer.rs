//! The server's background task: chains pending audit records twice a second,
//! every two seconds follows a policy change made elsewhere (the CLI or another
//! node), and every minute reloads the signing keys (so that a rotation made
//! elsewhere is followed) and purges expired rows. It also sends back-channel
//! logout notifications every second and ends timed-out sessions every five.

use std::time::Duration;

use tokio::sync::watch;

use super::AppContext;
use crate::manage::audit_log;

pub const INTERVAL: Duration = Duration::from_millis(500);
/// Reload the signing keys every 120 ticks (one minute).
const KEY_RELOAD_TICKS: u64 = 120;
/// Poll the policy version every 4 ticks (two seconds): a role change reaches
/// every node that fast, for one single-row read per node.
const POLICY_POLL_TICKS: u64 = 4;
/// Send due back-channel logout notifications every 2 ticks (one second).
const LOGOUT_TICKS: u64 = 2;
/// End timed-out sessions every 10 ticks (five seconds), so that their
/// clients hear of it (Back-Channel Logout) even if the browser never returns.
const SESSION_SWEEP_TICKS: u64 = 10;

pub struct Sealer {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Sealer {
    pub fn spawn(ctx: AppContext) -> Self {
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(INTERVAL);
            let mut ticks: u64 = 0;
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stopped.changed() => break,
                }
                seal_once(&ctx).await;
                ticks += 1;
                if ticks.is_multiple_of(POLICY_POLL_TICKS) {
                    follow_policy(&ctx).await;
                }
                if ticks.is_multiple_of(SESSION_SWEEP_TICKS) {
                    let c = ctx.clone();
                    match tokio::task::spawn_blocking(move || {
                        crate::manage::sessions::end_timed_out(&c)
                    })
                    .await
                    {
                        Ok(Ok(n)) if n > 0 => tracing::info!(ended = n, "timed-out sessions ended"),
                        Ok(Err(e)) => {
                            tracing::warn!(error = %e, "ending timed-out sessions failed; will retry")
                        }
                        _ => {}
                    }
                }
                if ticks.is_multiple_of(LOGOUT_TICKS) {
                    let c = ctx.clone();
                    if let Ok(Err(e)) =
                        tokio::task::spawn_blocking(move || super::logout_sender::deliver_due(&c))
                            .await
                    {
                        tracing::warn!(error = %e, "sending back-channel logout notifications failed; will retry");
                    }
                }
                if ticks.is_multiple_of(KEY_RELOAD_TICKS) {
                    let c = ctx.clone();
                    if let Ok(Err(e)) = tokio::task::spawn_blocking(move || c.reload_keys()).await {
                        tracing::warn!(error = %e, "reloading the signing keys failed; keeping the current ones");
                    }
                    let c = ctx.clone();
                    let purged = tokio::task::spawn_blocking(move || {
                        let now = c.clock.now_ms();
                        crate::storage::purge::expired(
                            &c.db,
                            now,
                            crate::authn::throttle::ACCOUNT_FREE,
                            c.config.disclosure_retention_days,
                        )
                    })
                    .await;
                    match purged {
                        Ok(Ok(n)) if n > 0 => tracing::debug!(deleted = n, "expired rows purged"),
                        Ok(Err(e)) => {
                            tracing::warn!(error = %e, "purging expired rows failed; will retry")
                        }
                        _ => {}
                    }
                }
            }
            // Final pass so that a clean shutdown leaves nothing pending.
            seal_once(&ctx).await;
        });
        Self { stop, task }
    }

    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn follow_policy(ctx: &AppContext) {
    let c = ctx.clone();
    match tokio::task::spawn_blocking(move || c.authz.reload_if_changed(&c.db)).await {
        Ok(Ok(true)) => tracing::info!(
            version = ctx.authz.version(),
            "authorization policy reloaded"
        ),
        Ok(Ok(false)) => {}
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "reloading the authorization policy failed; keeping the current one")
        }
        Err(e) => tracing::warn!(error = %e, "policy reload task failed; will retry"),
    }
}

async fn seal_once(ctx: &AppContext) {
    let c = ctx.clone();
    match tokio::task::spawn_blocking(move || audit_log::seal_all(&c)).await {
        Ok(Ok(0)) => {}
        Ok(Ok(n)) => tracing::debug!(sealed = n, "audit records chained"),
        Ok(Err(e)) => tracing::warn!(error = %e, "audit sealing failed; will retry"),
        Err(e) => tracing::warn!(error = %e, "audit sealer task failed; will retry"),
    }
}
