//! Sends the back-channel logout notifications queued in the outbox
//! (OpenID Connect Back-Channel Logout 1.0 §2.5): a POST of `logout_token` to
//! each client's URI, retried with exponential back-off (1 s, 2 s, … 1 h) for
//! a day. The outbox is in the database, so a restart or a client that is down
//! loses nothing; a claim (lease) makes sure one node sends each.

use std::time::Duration;

use super::AppContext;
use crate::audit::{AuditEvent, Outcome};
use crate::clock::Millis;
use crate::domain::SessionId;
use crate::oidc::tokens;
use crate::storage::logout_outbox::{self, Notification};
use crate::storage::{self, StorageError};

/// How long one attempt holds a notification before another node may retry it.
const LEASE_MS: Millis = 30_000;
const TIMEOUT: Duration = Duration::from_secs(5);
/// Give up a day after the session ended.
const GIVE_UP_AFTER_MS: Millis = 24 * 3_600_000;
const MAX_BACKOFF_MS: Millis = 3_600_000;

fn backoff(attempts: i64) -> Millis {
    (1000i64 << attempts.clamp(0, 12)).min(MAX_BACKOFF_MS)
}

/// Send what is due; called from the background task, on the blocking pool.
pub fn deliver_due(ctx: &AppContext) -> Result<usize, StorageError> {
    let now = ctx.clock.now_ms();
    let due = logout_outbox::due(&mut *ctx.db.conn()?, now, 20)?;
    let mut sent = 0;
    for n in due {
        if !logout_outbox::claim(&mut *ctx.db.conn()?, &n, now + LEASE_MS)? {
            continue;
        }
        let outcome = attempt(ctx, &n);
        let attempts = n.attempts + 1;
        let now = ctx.clock.now_ms();
        let mut event = AuditEvent::new(now, "system", "logout.backchannel", Outcome::Success)
            .subject(n.sub.as_str())
            .client(&n.client_id)
            .detail("sid", tokens::sid(&SessionId::from_hash(&n.session_hash)))
            .detail("attempts", attempts);
        ctx.db.transaction(|c| {
            match &outcome {
                Ok(()) => {
                    logout_outbox::delivered(c, n.id, attempts, now)?;
                    storage::audit::append(c, &event)?;
                    sent += 1;
                }
                Err(why) => {
                    let give_up = (now - n.created_at > GIVE_UP_AFTER_MS).then_some(now);
                    logout_outbox::failed(
                        c,
                        n.id,
                        attempts,
                        why,
                        now + backoff(attempts),
                        give_up,
                    )?;
                    if give_up.is_some() {
                        event.outcome = Outcome::Failure;
                        event = event.reason("given_up").detail("error", why.as_str());
                        storage::audit::append(c, &event)?;
                    }
                }
            }
            Ok::<_, StorageError>(())
        })?;
    }
    Ok(sent)
}

/// One POST; Ok on a 2xx answer (§2.8), otherwise why not.
fn attempt(ctx: &AppContext, n: &Notification) -> Result<(), String> {
    let _span = tracing::info_span!("backchannel.send", client_id = %n.client_id).entered();
    let keys = ctx.keyset();
    let p = ctx.provider(&keys);
    let client = p
        .store
        .client(&n.client_id)
        .map_err(|_| "storage".to_string())?
        .ok_or_else(|| "the client no longer exists".to_string())?;
    let session = SessionId::from_hash(&n.session_hash);
    let token =
        tokens::logout_token(&p, &client, &n.sub, &session).map_err(|e| e.description.clone())?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    match agent
        .post(&n.uri)
        .send_form([("logout_token", token.as_str())])
    {
        Ok(res) if res.status().is_success() => Ok(()),
        Ok(res) => Err(format!("HTTP {}", res.status().as_u16())),
        Err(e) => Err(e.to_string().chars().take(200).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(1), 2000);
        assert_eq!(backoff(2), 4000);
        assert_eq!(backoff(30), MAX_BACKOFF_MS);
    }
}
