//! The console's background job: verifying the audit chain ("verify now").
//! A walk of the whole chain can take a while on a large trail, so it runs
//! on the blocking pool, one at a time per node, and the audit page shows
//! whether it runs, since when, and its result (the page reloads itself
//! while it runs: static/admin.js). The verification is
//! `manage::audit_log::verify`, the same as `ward audit verify`, and is
//! recorded as `audit.verify` with the administrator as the actor.

use std::sync::{Arc, Mutex};

use crate::app::AppContext;
use crate::manage::audit_log::{self, VerifyReport};

/// One run of the verification.
#[derive(Debug, Clone)]
pub struct VerifyJob {
    pub started_at: i64,
    pub started_by: String,
    pub finished_at: Option<i64>,
    /// The report, or why the run failed (shown without internals).
    pub outcome: Option<Result<VerifyReport, String>>,
}

impl VerifyJob {
    pub fn running(&self) -> bool {
        self.finished_at.is_none()
    }
}

/// The last run on this node.
#[derive(Default, Clone)]
pub struct Jobs {
    verify: Arc<Mutex<Option<VerifyJob>>>,
}

impl Jobs {
    pub fn new() -> Self {
        Self::default()
    }

    /// The current or last run.
    pub fn verify(&self) -> Option<VerifyJob> {
        self.verify.lock().ok().and_then(|g| g.clone())
    }

    /// Start a run unless one is running; false when one is.
    pub fn start_verify(&self, ctx: AppContext, actor: String) -> bool {
        let Ok(mut slot) = self.verify.lock() else {
            return false;
        };
        if slot.as_ref().is_some_and(VerifyJob::running) {
            return false;
        }
        *slot = Some(VerifyJob {
            started_at: ctx.clock.now_ms(),
            started_by: actor.clone(),
            finished_at: None,
            outcome: None,
        });
        drop(slot);
        let verify = self.verify.clone();
        // Detached: the result lands in the slot whoever is looking.
        drop(tokio::task::spawn_blocking(move || {
            let outcome = audit_log::verify(&ctx, &actor).map_err(|e| {
                tracing::error!(error = %e, "audit chain verification failed to run");
                if e.is_unavailable() {
                    "The database did not answer; try again.".to_string()
                } else {
                    "The verification could not run; the cause is in Ward's log.".to_string()
                }
            });
            if let Ok(mut slot) = verify.lock()
                && let Some(job) = slot.as_mut()
            {
                job.finished_at = Some(ctx.clock.now_ms());
                job.outcome = Some(outcome);
            }
        }));
        true
    }
}
