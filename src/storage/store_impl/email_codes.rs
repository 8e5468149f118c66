//! [`EmailCodeStore`] for the database: a send is counted, stored and
//! audited in one transaction.

use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::storage::email_codes::{self, CodeCheck};
use crate::storage::{Database, StorageError, audit, throttle};
use crate::store::throttle::Rule;
use crate::store::{EmailCodeStore, NewEmailCode, StoreError};

impl EmailCodeStore for Database {
    fn issue_email_code(
        &self,
        key: &str,
        rule: Rule,
        code: &NewEmailCode,
        event: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let now = code.created_at;
        let keys = [key.to_string()];
        Ok(self.transaction(|c| {
            if throttle::blocked_until(c, &keys, now)?.is_some() {
                return Ok::<_, StorageError>(false);
            }
            throttle::record_failure(c, key, now, rule.window, rule.blocked_until)?;
            let (uid, purpose) = (&code.user_id, &code.purpose);
            let (hash, to) = (&code.code_hash, &code.email);
            email_codes::replace(c, uid, purpose, hash, to, now, code.expires_at)?;
            audit::append(c, event)?;
            Ok(true)
        })?)
    }

    fn consume_email_code(
        &self,
        user_id: &str,
        purpose: &str,
        code: &str,
        now: Millis,
    ) -> Result<Option<String>, StoreError> {
        let checked = self.transaction(|c| email_codes::consume(c, user_id, purpose, code, now))?;
        Ok(match checked {
            CodeCheck::Accepted { email } => Some(email),
            CodeCheck::Rejected => None,
        })
    }
}
