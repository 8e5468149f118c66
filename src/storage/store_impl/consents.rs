//! [`ConsentAdminStore`] for the database.

use super::refusal::{Abort, settle};
use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::domain::consent::{ConsentRecord, ConsentWithdrawn};
use crate::storage::{Database, StorageError, audit, consents, logout_outbox};
use crate::store::StoreError;
use crate::store::consents::{ConsentAdminStore, WithdrawOutcome, Withdrawal};

impl ConsentAdminStore for Database {
    fn user_consents(
        &self,
        user_id: &str,
        history: bool,
        event: &AuditEvent,
    ) -> Result<Vec<ConsentRecord>, StoreError> {
        Ok(self.transaction(|c| {
            let list = consents::for_user(c, user_id, history)?;
            audit::append(c, event)?;
            Ok::<_, StorageError>(list)
        })?)
    }

    fn withdraw_consent(
        &self,
        user_id: &str,
        client_id: &str,
        how: ConsentWithdrawn,
        now: Millis,
        record: impl FnOnce(&Withdrawal) -> AuditEvent,
    ) -> Result<WithdrawOutcome, StoreError> {
        let done = self.transaction(|c| {
            let Some(latest) = consents::latest(c, user_id, client_id)? else {
                return Err(Abort::Refused(None));
            };
            // The conditional update decides between two concurrent withdrawals.
            if !consents::withdraw(c, &latest.id, how, now)? {
                let again = consents::latest(c, user_id, client_id)?.unwrap_or(latest);
                return Err(Abort::Refused(Some(Box::new(again))));
            }
            let revoked = consents::revoke_access(c, user_id, client_id, now)?;
            let mut logouts = logout_outbox::enqueue_for_client(c, user_id, client_id, now)?;
            // No live session reached the client, yet it held a grant (an
            // offline refresh token): tell it about the person instead, a
            // logout token with `sub` and no `sid` (Back-Channel Logout 1.0
            // §2.4), as erasure does.
            if logouts == 0
                && revoked.grants > 0
                && logout_outbox::enqueue_sub_only(c, client_id, user_id, now)?
            {
                logouts = 1;
            }
            let withdrawal = Withdrawal {
                record: ConsentRecord {
                    withdrawn_at: Some(now),
                    withdrawn_by: Some(how),
                    ..latest
                },
                grants_revoked: revoked.grants,
                codes_revoked: revoked.codes,
                logouts_queued: logouts,
            };
            audit::append(c, &record(&withdrawal))?;
            Ok(withdrawal)
        });
        Ok(match settle(done)? {
            Ok(w) => WithdrawOutcome::Withdrawn(w),
            // The refusal: no consent, or (boxed) the one withdrawn before.
            Err(None) => WithdrawOutcome::NoConsent,
            Err(Some(before)) => WithdrawOutcome::AlreadyWithdrawn(*before),
        })
    }
}
