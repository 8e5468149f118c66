//! A user's sign-in history, as the risk engine needs it (docs/risk.md).

use super::StoreError;
use crate::clock::Millis;

/// What to look up of a user's history for the risk engine.
#[derive(Debug, Clone, Default)]
pub struct HistoryQuery {
    pub user_id: String,
    pub device_hash: Option<String>,
    /// The request's network (`risk::network::prefix`).
    pub network: Option<String>,
    /// Throttle keys whose recent failures count (account, address).
    pub account_key: Option<String>,
    pub address_key: Option<String>,
    pub failures_since: Millis,
}

/// A user's history, as the risk engine needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskHistory {
    pub device: crate::risk::Familiarity,
    pub network: crate::risk::Familiarity,
    pub account_failures: u32,
    pub address_failures: u32,
    pub last_location: Option<(crate::risk::GeoPoint, Millis)>,
}

/// What a successful sign-in leaves for the risk engine's next questions.
#[derive(Debug, Clone, PartialEq)]
pub struct SignInSeen {
    pub user_id: String,
    pub device_hash: String,
    /// The request's network (`risk::network::prefix`).
    pub network: Option<String>,
    pub location: Option<crate::risk::GeoPoint>,
}

pub trait RiskStore {
    fn risk_history(&self, q: &HistoryQuery) -> Result<RiskHistory, StoreError>;
    /// Remember the browser, network and location of a successful sign-in;
    /// true when the browser is new for the user.
    fn remember_sign_in(&self, seen: &SignInSeen, now: Millis) -> Result<bool, StoreError>;
}
