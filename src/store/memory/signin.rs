//! The fake's sign-in bookkeeping: sign-ins in progress and throttle counters.

use super::MemoryStore;
use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::store::throttle::Rule;
use crate::store::{ProgressRow, ProgressStore, StoreError, ThrottleStore};

impl MemoryStore {
    /// The failures counted against a throttle key (0 if none).
    pub fn failures(&self, key: &str) -> i64 {
        self.lock()
            .authn
            .throttle
            .get(key)
            .map_or(0, |(n, _, _)| *n)
    }
}

impl ProgressStore for MemoryStore {
    fn progress(&self, id_hash: &str, now: Millis) -> Result<Option<ProgressRow>, StoreError> {
        let s = self.lock();
        Ok(s.authn
            .progress
            .get(id_hash)
            .filter(|r| r.expires_at > now)
            .cloned())
    }

    fn save_progress(&self, row: &ProgressRow, replaces: Option<&str>) -> Result<(), StoreError> {
        let mut s = self.lock();
        if s.authn.progress.contains_key(&row.id_hash) {
            return Err(super::duplicate("sign-in in progress"));
        }
        if let Some(old) = replaces {
            s.authn.progress.remove(old);
        }
        s.authn.progress.insert(row.id_hash.clone(), row.clone());
        Ok(())
    }

    fn finish_progress(&self, id_hash: &str) -> Result<bool, StoreError> {
        Ok(self.lock().authn.progress.remove(id_hash).is_some())
    }
}

impl ThrottleStore for MemoryStore {
    fn blocked_until(&self, keys: &[String], now: Millis) -> Result<Option<Millis>, StoreError> {
        Ok(self.lock().authn.blocked_until(keys, now))
    }

    fn count_failure(
        &self,
        account: Option<(&str, Rule)>,
        address: Option<(&str, Rule)>,
        now: Millis,
        audit: &dyn Fn(i64) -> Vec<AuditEvent>,
    ) -> Result<i64, StoreError> {
        let mut s = self.lock();
        let n = match account {
            Some((key, rule)) => s.authn.record_failure(key, now, rule),
            None => 0,
        };
        if let Some((key, rule)) = address {
            s.authn.record_failure(key, now, rule);
        }
        s.audit.extend(audit(n));
        Ok(n)
    }

    fn reset_failures(&self, key: &str) -> Result<(), StoreError> {
        self.lock().authn.throttle.remove(key);
        Ok(())
    }
}
