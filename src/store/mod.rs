//! What the protocol core needs from storage, one small trait per area.
//!
//! `storage::Database` implements every trait (one implementation covers
//! SQLite and PostgreSQL); [`memory::MemoryStore`] is an in-memory test double.
//! Every method is blocking and atomic on its own. The umbrella [`Store`] is
//! what `oidc::Provider` holds; code that needs one area can ask for just it.

pub mod audit;
pub mod break_glass;
pub mod clients;
pub mod grants;
pub mod memory;
pub mod requests;
pub mod risk;
pub mod sessions;
pub mod users;

pub use audit::AuditStore;
pub use break_glass::BreakGlassStore;
pub use clients::ClientStore;
pub use grants::{AuthFacts, CodeRow, GrantRow, GrantStore, Redeemed, RefreshRow};
pub use requests::{AuthRequestRow, AuthRequestStore};
pub use risk::{HistoryQuery, RiskHistory, RiskStore};
pub use sessions::{SessionRow, SessionStore};
pub use users::UserStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database is unavailable")]
    Unavailable,
    #[error("storage error: {0}")]
    Internal(String),
}

/// Everything the protocol core needs: implemented for any type that
/// implements every area trait.
pub trait Store:
    ClientStore
    + UserStore
    + AuthRequestStore
    + SessionStore
    + GrantStore
    + AuditStore
    + RiskStore
    + BreakGlassStore
    + Send
    + Sync
{
}

impl<T> Store for T where
    T: ClientStore
        + UserStore
        + AuthRequestStore
        + SessionStore
        + GrantStore
        + AuditStore
        + RiskStore
        + BreakGlassStore
        + Send
        + Sync
{
}
