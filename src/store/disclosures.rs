//! The accounting of disclosures (docs/privacy.md): recording the
//! disclosure of a read-only answer (userinfo, introspection), and reading a
//! person's accounting. A token response's disclosure travels in its audit
//! record instead, and the audit sealer writes its row
//! (`storage::disclosures::of_token_record`).

use super::StoreError;
use crate::audit::AuditEvent;
use crate::domain::disclosure::{Before, Disclosure};

pub trait DisclosureStore {
    /// Record a disclosure that accompanies no other write, group-committed
    /// with others; durable when this returns, so an answer is never sent
    /// before its record is.
    fn disclose(&self, disclosure: Disclosure) -> Result<(), StoreError>;
}

/// Reading the accounting (the admin API, the CLI, `/account/activity`, the
/// export). Not part of `Store`.
pub trait DisclosureAdminStore {
    /// Up to `limit` of the person's disclosures, newest first, after
    /// `before`; read with the audit record of the read, when there is one.
    fn user_disclosures(
        &self,
        user_id: &str,
        before: Option<&Before>,
        limit: i64,
        audit: Option<&AuditEvent>,
    ) -> Result<Vec<Disclosure>, StoreError>;
}
