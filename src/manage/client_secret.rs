//! A confidential client's new secret (`client.rotate_secret`): generated
//! here, shown once to whoever rotated it, stored only as its hash. The old
//! secret stops working within the client cache's 2 seconds, on every node.

use crate::audit::{AuditEvent, Outcome};
use crate::context::AppContext;
use crate::crypto::secrets;
use crate::domain::ClientId;
use crate::store::ClientAdminStore;

use super::{ManageError, audited};

/// Replace the secret of client `id`; the new secret, in clear, once.
pub fn rotate_secret(ctx: &AppContext, actor: &str, id: &str) -> Result<String, ManageError> {
    let event = || {
        AuditEvent::new(
            ctx.clock.now_ms(),
            actor,
            "client.rotate_secret",
            Outcome::Success,
        )
    };
    let refusal = || event().detail("client_id", id);
    audited(ctx, refusal, || {
        let not_found = || {
            ManageError::NotFound(format!(
                "no confidential client `{id}` with a secret (a public client, or one that signs with its keys, has none)"
            ))
        };
        let id = ClientId::exact(id).ok_or_else(not_found)?;
        let secret = secrets::generate(32);
        let record = event().client(&id);
        let now = ctx.clock.now_ms();
        if !ctx
            .db
            .rotate_client_secret(&id, &secrets::hash(&secret), now, &record)?
        {
            return Err(not_found());
        }
        Ok(secret)
    })
}
