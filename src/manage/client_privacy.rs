//! What a client registered about personal data, changed after
//! registration: its purpose text and claims allow-list (docs/privacy.md).

use crate::audit::{AuditEvent, Outcome};
use crate::context::AppContext;
use crate::domain::ClientId;
use crate::domain::consent::check_purpose;
use crate::domain::records::Client;
use crate::store::ClientAdminStore;

use super::{ManageError, audited};

fn event(ctx: &AppContext, actor: &str, kind: &str) -> AuditEvent {
    AuditEvent::new(ctx.clock.now_ms(), actor, kind, Outcome::Success)
}

/// A change to what a client registered about personal data: for each
/// field, None leaves it, `Some(None)` clears it, `Some(Some(..))` sets it.
#[derive(Debug, Default)]
pub struct PrivacyChange {
    pub purpose: Option<Option<String>>,
    pub claims: Option<Option<Vec<String>>>,
}

/// Change a client's purpose text and claims allow-list (`ward client
/// update`, `PATCH /admin/api/clients/{id}`). A new purpose, or a claim
/// added to the list, makes the next authorization of every user ask again
/// (docs/privacy.md); a narrower list applies to the next token and userinfo
/// answer. Seen by running servers within the client cache's 2 s.
pub fn update_privacy(
    ctx: &AppContext,
    actor: &str,
    id: &str,
    change: PrivacyChange,
) -> Result<Client, ManageError> {
    let refusal = || event(ctx, actor, "client.update").detail("client_id", id);
    audited(ctx, refusal, || {
        let missing = || ManageError::NotFound(format!("no client `{id}`"));
        // An id no client could have is as absent as an unregistered one.
        let cid = ClientId::exact(id).ok_or_else(missing)?;
        let mut client = ctx
            .db
            .view_client(&cid, &event(ctx, actor, "client.view").client(&cid))?
            .ok_or_else(missing)?;
        if let Some(p) = change.purpose {
            client.purpose = p.as_deref().map(check_purpose).transpose()?;
        }
        if let Some(c) = change.claims {
            client.allowed_claims = c
                .as_deref()
                .map(|c| crate::oidc::claims::check_allow_list(c, &client.scopes))
                .transpose()?;
        }
        client.updated_at = ctx.clock.now_ms();
        let updated = event(ctx, actor, "client.update")
            .client(&client.id)
            .detail("purpose", client.purpose.clone())
            .detail("claims", client.allowed_claims.clone());
        if !ctx.db.set_client_privacy(&client, &updated)? {
            return Err(ManageError::NotFound(format!("no client `{id}`")));
        }
        Ok(client)
    })
}
