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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::throttle::Rule;
    use crate::store::{CeremonyRow, EmailCodeStore, NewEmailCode, PasskeyStore};

    fn audit() -> AuditEvent {
        AuditEvent::new(0, "test", "test.event", crate::audit::Outcome::Failure)
    }

    const HOURLY: Rule = Rule {
        window: Some(3_600_000),
        blocked_until: |n, now| if n >= 3 { now + 1000 } else { now },
    };

    #[test]
    fn failures_count_block_and_are_forgotten_after_their_window() {
        let store = MemoryStore::new();
        let keys = ["k".to_string()];
        for expected in 1..=3 {
            let n = store.count_failure(Some(("k", HOURLY)), None, 10, &|_| vec![audit()]);
            assert_eq!(n.unwrap(), expected);
        }
        assert_eq!(store.blocked_until(&keys, 10).unwrap(), Some(1010));
        assert_eq!(store.blocked_until(&keys, 1010).unwrap(), None, "over");
        let later = store.count_failure(Some(("k", HOURLY)), None, 3_600_011, &|_| vec![]);
        assert_eq!(later.unwrap(), 1, "outside the window: a new run");
        assert_eq!(store.audit_events().len(), 3);
        store.reset_failures("k").unwrap();
        assert_eq!(store.failures("k"), 0);
    }

    #[test]
    fn an_emailed_code_is_used_once_and_void_after_five_misses() {
        let store = MemoryStore::new();
        let code = |hash: &str| NewEmailCode {
            user_id: "u".into(),
            purpose: "sign_in".into(),
            code_hash: hash.into(),
            email: "a@example.org".into(),
            created_at: 0,
            expires_at: 100,
        };
        let right = crate::crypto::secrets::hash("12345678");
        assert!(
            store
                .issue_email_code("mail:u", HOURLY, &code(&right), &audit())
                .unwrap()
        );
        assert_eq!(
            store
                .consume_email_code("u", "sign_in", "12345678", 100)
                .unwrap(),
            None,
            "expired"
        );
        assert!(
            store
                .issue_email_code("mail:u", HOURLY, &code(&right), &audit())
                .unwrap()
        );
        let ok = store
            .consume_email_code("u", "sign_in", "12345678", 50)
            .unwrap();
        assert_eq!(ok.as_deref(), Some("a@example.org"));
        assert_eq!(
            store
                .consume_email_code("u", "sign_in", "12345678", 50)
                .unwrap(),
            None
        );
        assert!(
            store
                .issue_email_code("mail:u", HOURLY, &code(&right), &audit())
                .unwrap()
        );
        for _ in 0..crate::store::email_codes::MAX_ATTEMPTS {
            assert_eq!(
                store
                    .consume_email_code("u", "sign_in", "00000000", 50)
                    .unwrap(),
                None
            );
        }
        assert_eq!(
            store
                .consume_email_code("u", "sign_in", "12345678", 50)
                .unwrap(),
            None,
            "void"
        );
        assert!(
            !store
                .issue_email_code("mail:u", HOURLY, &code(&right), &audit())
                .unwrap(),
            "the fourth send in an hour is refused"
        );
    }

    #[test]
    fn a_ceremony_answers_once_and_a_progress_row_is_replaced() {
        let store = MemoryStore::new();
        let ceremony = CeremonyRow {
            id_hash: "c".into(),
            kind: "authenticate".into(),
            user_id: None,
            state: "{}".into(),
            context: "{}".into(),
            created_at: 0,
            expires_at: 100,
        };
        store.save_ceremony(&ceremony).unwrap();
        assert_eq!(store.take_ceremony("c", 50).unwrap(), Some(ceremony));
        assert_eq!(store.take_ceremony("c", 50).unwrap(), None);

        let row = |id: &str| ProgressRow {
            id_hash: id.into(),
            user_id: None,
            state: "{}".into(),
            created_at: 0,
            expires_at: 100,
        };
        store.save_progress(&row("p1"), None).unwrap();
        store.save_progress(&row("p2"), Some("p1")).unwrap();
        assert_eq!(store.progress("p1", 50).unwrap(), None);
        assert!(store.progress("p2", 50).unwrap().is_some());
        assert_eq!(store.progress("p2", 100).unwrap(), None, "expired");
        assert!(store.finish_progress("p2").unwrap());
        assert!(!store.finish_progress("p2").unwrap());
    }
}
