//! [`RiskStore`] for the database: a user's history from the risk tables.

use crate::storage::Database;
use crate::store::{HistoryQuery, RiskHistory, RiskStore, StoreError};

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
}
