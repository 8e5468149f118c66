//! [`ThrottleStore`] for the database: a failure is counted with its audit
//! records in one transaction.

use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::storage::{Database, StorageError, audit, throttle};
use crate::store::throttle::Rule;
use crate::store::{StoreError, ThrottleStore};

impl ThrottleStore for Database {
    fn blocked_until(&self, keys: &[String], now: Millis) -> Result<Option<Millis>, StoreError> {
        Ok(throttle::blocked_until(&mut *self.conn()?, keys, now)?)
    }

    fn count_failure(
        &self,
        account: Option<(&str, Rule)>,
        address: Option<(&str, Rule)>,
        now: Millis,
        events: &dyn Fn(i64) -> Vec<AuditEvent>,
    ) -> Result<i64, StoreError> {
        Ok(self.transaction(|c| {
            let n = match account {
                Some((key, r)) => throttle::record_failure(c, key, now, r.window, r.blocked_until)?,
                None => 0,
            };
            if let Some((key, r)) = address {
                throttle::record_failure(c, key, now, r.window, r.blocked_until)?;
            }
            for event in events(n) {
                audit::append(c, &event)?;
            }
            Ok::<_, StorageError>(n)
        })?)
    }

    fn reset_failures(&self, key: &str) -> Result<(), StoreError> {
        Ok(throttle::reset(&mut *self.conn()?, key)?)
    }
}
