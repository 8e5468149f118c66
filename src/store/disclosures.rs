//! The accounting of disclosures (docs/privacy.md): recording the
//! disclosure of a read-only answer (userinfo, introspection), and reading a
//! person's accounting. A token response's disclosure is written with the
//! grant's state change instead (`GrantStore::redeem_code`, `rotate_refresh`).

use super::StoreError;
use crate::audit::AuditEvent;
use crate::domain::disclosure::{Before, Disclosure};

pub trait DisclosureStore {
    /// Record a disclosure that accompanies no other write; may be
    /// group-committed with others, durable when this returns.
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
