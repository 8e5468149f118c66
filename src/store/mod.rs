//! What the protocol core, the sign-in (`authn`) and the administrative
//! operations (`manage`) need from storage, one small trait per area.
//!
//! `storage::Database` implements every trait (one implementation covers
//! SQLite and PostgreSQL); [`memory::MemoryStore`] is an in-memory test double.
//! Every method is blocking and atomic on its own: a change that comes with an
//! audit record takes the record and writes both in one transaction. The
//! umbrella [`Store`] is what `oidc::Provider` and `authn::Deps` hold; code
//! that needs one area can ask for just it. The administrative traits
//! (`admin_*`, `audit_log`, `consents`, `DisclosureAdminStore`, `elevations`, `erasure`, `policy`, `signing_keys`,
//! `smart::FhirAdminStore`) serve
//! `manage` and are not part of `Store`.

pub mod account;
pub mod admin_clients;
pub mod admin_sessions;
pub mod admin_users;
pub mod approvals;
pub mod audit;
pub mod audit_log;
pub mod break_glass;
pub mod clients;
pub mod consents;
pub mod disclosures;
pub mod elevations;
pub mod email_codes;
pub mod erasure;
pub mod factors;
pub mod grants;
pub mod memory;
pub mod passkeys;
pub mod policy;
pub mod progress;
pub mod requests;
pub mod risk;
pub mod sessions;
pub mod signing_keys;
pub mod smart;
pub mod throttle;
pub mod users;

pub use account::AccountStore;
pub use admin_clients::ClientAdminStore;
pub use admin_sessions::SessionAdminStore;
pub use admin_users::UserAdminStore;
pub use approvals::ApprovalStore;
pub use audit::AuditStore;
pub use audit_log::AuditLogStore;
pub use break_glass::BreakGlassStore;
pub use clients::ClientStore;
pub use consents::ConsentAdminStore;
pub use disclosures::{DisclosureAdminStore, DisclosureStore};
pub use elevations::ElevationStore;
pub use email_codes::{EmailCodeStore, NewEmailCode};
pub use erasure::ErasureStore;
pub use factors::{Enrolled, FactorStore, TotpRow};
pub use grants::{AuthFacts, CodeRow, GrantRow, GrantStore, Redeemed, RefreshRow};
pub use passkeys::{CeremonyRow, NewPatient, PasskeyRemoval, PasskeyRow, PasskeyStore};
pub use policy::PolicyStore;
pub use progress::{ProgressRow, ProgressStore};
pub use requests::{AuthRequestRow, AuthRequestStore};
pub use risk::{HistoryQuery, RiskHistory, RiskStore, SignInSeen};
pub use sessions::{SessionRow, SessionStore};
pub use signing_keys::SigningKeyStore;
pub use smart::{FhirAdminStore, FhirServer, LaunchRow, SmartStore};
pub use throttle::ThrottleStore;
pub use users::UserStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database is unavailable")]
    Unavailable,
    #[error("storage error: {0}")]
    Internal(String),
}

/// Everything the protocol core and the sign-in need: implemented for any
/// type that implements every area trait.
pub trait Store:
    ClientStore
    + UserStore
    + AuthRequestStore
    + SessionStore
    + GrantStore
    + AuditStore
    + DisclosureStore
    + RiskStore
    + BreakGlassStore
    + AccountStore
    + FactorStore
    + EmailCodeStore
    + PasskeyStore
    + ProgressStore
    + ThrottleStore
    + SmartStore
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
        + DisclosureStore
        + RiskStore
        + BreakGlassStore
        + AccountStore
        + FactorStore
        + EmailCodeStore
        + PasskeyStore
        + ProgressStore
        + ThrottleStore
        + SmartStore
        + Send
        + Sync
{
}
