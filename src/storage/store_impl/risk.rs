//! [`RiskStore`] for the database: a user's history from the risk tables,
//! and what each successful sign-in adds to it.

use crate::clock::Millis;
use crate::storage::Database;
use crate::store::{HistoryQuery, RiskHistory, RiskStore, SignInSeen, StoreError};

impl RiskStore for Database {
    fn risk_history(&self, q: &HistoryQuery) -> Result<RiskHistory, StoreError> {
        use crate::risk::Familiarity;
        use crate::storage::risk_history as h;
        let c = &mut *self.conn()?;
        Ok(RiskHistory {
            device: match &q.device_hash {
                Some(d) => h::device(c, &q.user_id, d)?,
                None => Familiarity::NoHistory,
            },
            network: match &q.network {
                Some(n) => h::network(c, &q.user_id, n)?,
                None => Familiarity::NoHistory,
            },
            account_failures: match &q.account_key {
                Some(k) => h::failures(c, k, q.failures_since)?,
                None => 0,
            },
            address_failures: match &q.address_key {
                Some(k) => h::failures(c, k, q.failures_since)?,
                None => 0,
            },
            last_location: h::last_location(c, &q.user_id)?,
        })
    }

    fn remember_sign_in(&self, seen: &SignInSeen, now: Millis) -> Result<bool, StoreError> {
        let c = &mut *self.conn()?;
        let uid = seen.user_id.as_str();
        let new = crate::storage::login_progress::note_device(c, uid, &seen.device_hash, now)?;
        let network = seen.network.as_deref();
        crate::storage::risk_history::remember(c, uid, network, seen.location, now)?;
        Ok(new)
    }
}
