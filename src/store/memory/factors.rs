//! The fake's accounts: password and address changes, TOTP, recovery codes,
//! emailed codes and passkeys, with the same single-use and compare-and-set
//! rules as the database.

use std::collections::HashMap;

use super::MemoryStore;
use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::domain::records::{Profile, User};
use crate::domain::{UserId, UserStatus};
use crate::store::email_codes::MAX_ATTEMPTS;
use crate::store::factors::StepOf;
use crate::store::throttle::Rule;
use crate::store::{
    AccountStore, CeremonyRow, EmailCodeStore, Enrolled, FactorStore, NewEmailCode, NewPatient,
    PasskeyRemoval, PasskeyRow, PasskeyStore, StoreError, TotpRow,
};

/// What the fake keeps for `authn`, beside the users themselves.
#[derive(Default)]
pub(super) struct AuthnState {
    pub totp: HashMap<String, TotpRow>,
    /// By user: (hash, used at).
    pub recovery: HashMap<String, Vec<(String, Option<Millis>)>>,
    /// By (user, purpose): the code and its wrong guesses.
    pub email_codes: HashMap<(String, String), (NewEmailCode, i64)>,
    pub passkeys: Vec<PasskeyRow>,
    pub ceremonies: HashMap<String, CeremonyRow>,
    /// By key: (failures, last failure, blocked until).
    pub throttle: HashMap<String, (i64, Millis, Millis)>,
    pub progress: HashMap<String, crate::store::ProgressRow>,
    /// (user, device hash) of every browser a user signed in from.
    pub devices: std::collections::HashSet<(String, String)>,
}

impl AuthnState {
    fn unused_codes(&self, user_id: &str) -> i64 {
        let codes = self.recovery.get(user_id).map(Vec::as_slice).unwrap_or(&[]);
        codes.iter().filter(|(_, used)| used.is_none()).count() as i64
    }

    fn first_codes(&mut self, user_id: &str, hashes: &[String]) -> bool {
        if self.recovery.get(user_id).is_some_and(|c| !c.is_empty()) {
            return false;
        }
        let codes = hashes.iter().map(|h| (h.clone(), None)).collect();
        self.recovery.insert(user_id.to_string(), codes);
        true
    }

    /// Count a failure for `key` as `storage::throttle::record_failure` does.
    pub fn record_failure(&mut self, key: &str, now: Millis, rule: Rule) -> i64 {
        let failures = match (self.throttle.get(key), rule.window) {
            (Some((_, last, _)), Some(w)) if now - last > w => 1,
            (Some((n, _, _)), _) => n + 1,
            (None, _) => 1,
        };
        let until = (rule.blocked_until)(failures, now);
        self.throttle
            .insert(key.to_string(), (failures, now, until));
        failures
    }

    pub fn blocked_until(&self, keys: &[String], now: Millis) -> Option<Millis> {
        keys.iter()
            .filter_map(|k| self.throttle.get(k))
            .map(|(_, _, until)| *until)
            .filter(|until| *until > now)
            .max()
    }
}

impl MemoryStore {
    /// Give a user a TOTP credential (sealed secret), confirmed or pending.
    pub fn add_totp(&self, user_id: &str, secret_sealed: &str, confirmed: bool) {
        let row = TotpRow {
            user_id: user_id.to_string(),
            secret_sealed: secret_sealed.to_string(),
            confirmed_at: confirmed.then_some(0),
            last_step: 0,
            created_at: 0,
        };
        self.lock().authn.totp.insert(user_id.to_string(), row);
    }
}

impl AccountStore for MemoryStore {
    fn password_hash(&self, user_id: &UserId) -> Result<Option<String>, StoreError> {
        let s = self.lock();
        Ok(s.users.get(user_id.as_str()).and_then(|(_, h)| h.clone()))
    }

    fn set_password(
        &self,
        user_id: &UserId,
        hash: &str,
        now: Millis,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        if let Some((u, h)) = s.users.get_mut(user_id.as_str()) {
            *h = Some(hash.to_string());
            u.updated_at = now;
        }
        s.audit.push(audit.clone());
        Ok(())
    }

    fn set_email(&self, user_id: &str, email: &str, now: Millis) -> Result<(), StoreError> {
        if let Some((u, _)) = self.lock().users.get_mut(user_id) {
            u.email = Some(email.to_string());
            u.email_verified = false;
            u.updated_at = now;
        }
        Ok(())
    }

    fn verify_email(
        &self,
        user_id: &str,
        email: &str,
        now: Millis,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        if let Some((u, _)) = s.users.get_mut(user_id)
            && u.email.as_deref() == Some(email)
        {
            u.email_verified = true;
            u.updated_at = now;
        }
        s.audit.push(audit.clone());
        Ok(())
    }
}

impl FactorStore for MemoryStore {
    fn enrolled(&self, user_id: &UserId) -> Result<Enrolled, StoreError> {
        let s = self.lock();
        let id = user_id.as_str();
        Ok(Enrolled {
            password: s.users.get(id).is_some_and(|(_, h)| h.is_some()),
            totp: s
                .authn
                .totp
                .get(id)
                .is_some_and(|t| t.confirmed_at.is_some()),
            passkeys: s.authn.passkeys.iter().filter(|p| p.user_id == id).count() as i64,
            recovery_codes: s.authn.unused_codes(id),
        })
    }

    fn totp(&self, user_id: &str) -> Result<Option<TotpRow>, StoreError> {
        Ok(self.lock().authn.totp.get(user_id).cloned())
    }

    fn accept_totp_step(&self, user_id: &str, step: i64, now: Millis) -> Result<bool, StoreError> {
        let mut s = self.lock();
        let Some(t) = s.authn.totp.get_mut(user_id).filter(|t| t.last_step < step) else {
            return Ok(false);
        };
        t.last_step = step;
        t.confirmed_at = t.confirmed_at.or(Some(now));
        Ok(true)
    }

    fn begin_totp(
        &self,
        user_id: &str,
        fresh_sealed: &str,
        now: Millis,
    ) -> Result<Option<String>, StoreError> {
        let mut s = self.lock();
        match s.authn.totp.get(user_id) {
            Some(t) if t.confirmed_at.is_some() => Ok(None),
            Some(t) => Ok(Some(t.secret_sealed.clone())),
            None => {
                let row = TotpRow {
                    user_id: user_id.to_string(),
                    secret_sealed: fresh_sealed.to_string(),
                    confirmed_at: None,
                    last_step: 0,
                    created_at: now,
                };
                s.authn.totp.insert(user_id.to_string(), row);
                Ok(Some(fresh_sealed.to_string()))
            }
        }
    }

    fn confirm_totp(
        &self,
        user_id: &str,
        now: Millis,
        step_of: StepOf<'_>,
        audit: &AuditEvent,
        first_codes: &[String],
    ) -> Result<Option<bool>, StoreError> {
        let mut s = self.lock();
        let Some(t) = s.authn.totp.get_mut(user_id) else {
            return Ok(None);
        };
        if t.confirmed_at.is_some() {
            return Ok(None);
        }
        match step_of(t)? {
            Some(step) if step > t.last_step => {
                t.last_step = step;
                t.confirmed_at = Some(now);
            }
            _ => return Ok(None),
        }
        s.audit.push(audit.clone());
        Ok(Some(s.authn.first_codes(user_id, first_codes)))
    }

    fn remove_totp(&self, user_id: &str, audit: &AuditEvent) -> Result<bool, StoreError> {
        let mut s = self.lock();
        let gone = s.authn.totp.remove(user_id).is_some();
        if gone {
            s.audit.push(audit.clone());
        }
        Ok(gone)
    }

    fn use_recovery_code(
        &self,
        user_id: &str,
        hash: &str,
        now: Millis,
        audit: AuditEvent,
    ) -> Result<Option<i64>, StoreError> {
        let mut s = self.lock();
        let codes = s.authn.recovery.entry(user_id.to_string()).or_default();
        let Some(code) = codes
            .iter_mut()
            .find(|(h, used)| h == hash && used.is_none())
        else {
            return Ok(None);
        };
        code.1 = Some(now);
        let left = s.authn.unused_codes(user_id);
        s.audit.push(audit.detail("remaining", left));
        Ok(Some(left))
    }

    fn replace_recovery_codes(
        &self,
        user_id: &str,
        hashes: &[String],
        _now: Millis,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        let codes = hashes.iter().map(|h| (h.clone(), None)).collect();
        s.authn.recovery.insert(user_id.to_string(), codes);
        s.audit.push(audit.clone());
        Ok(())
    }
}

impl EmailCodeStore for MemoryStore {
    fn issue_email_code(
        &self,
        key: &str,
        rule: Rule,
        code: &NewEmailCode,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let mut s = self.lock();
        let now = code.created_at;
        if s.authn.blocked_until(&[key.to_string()], now).is_some() {
            return Ok(false);
        }
        s.authn.record_failure(key, now, rule);
        let at = (code.user_id.clone(), code.purpose.clone());
        s.authn.email_codes.insert(at, (code.clone(), 0));
        s.audit.push(audit.clone());
        Ok(true)
    }

    fn consume_email_code(
        &self,
        user_id: &str,
        purpose: &str,
        code: &str,
        now: Millis,
    ) -> Result<Option<String>, StoreError> {
        let mut s = self.lock();
        let at = (user_id.to_string(), purpose.to_string());
        let Some((row, attempts)) = s.authn.email_codes.get_mut(&at) else {
            return Ok(None);
        };
        if row.expires_at <= now || *attempts >= MAX_ATTEMPTS {
            s.authn.email_codes.remove(&at);
            return Ok(None);
        }
        if crate::crypto::secrets::verify(code, &row.code_hash) {
            let email = row.email.clone();
            s.authn.email_codes.remove(&at);
            return Ok(Some(email));
        }
        *attempts += 1;
        Ok(None)
    }
}

impl PasskeyStore for MemoryStore {
    fn passkeys(&self, user_id: &str) -> Result<Vec<PasskeyRow>, StoreError> {
        let s = self.lock();
        let mut mine: Vec<_> = s
            .authn
            .passkeys
            .iter()
            .filter(|p| p.user_id == user_id)
            .cloned()
            .collect();
        mine.sort_by_key(|p| p.created_at);
        Ok(mine)
    }

    fn passkey(&self, credential_id: &str) -> Result<Option<PasskeyRow>, StoreError> {
        let s = self.lock();
        Ok(s.authn
            .passkeys
            .iter()
            .find(|p| p.credential_id == credential_id)
            .cloned())
    }

    fn record_passkey_use(
        &self,
        credential_id: &str,
        passkey_json: &str,
        backup_state: bool,
        now: Millis,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        if let Some(p) = s
            .authn
            .passkeys
            .iter_mut()
            .find(|p| p.credential_id == credential_id)
        {
            p.passkey = passkey_json.to_string();
            p.backup_state = backup_state;
            p.last_used_at = Some(now);
        }
        Ok(())
    }

    fn add_passkey(
        &self,
        row: &PasskeyRow,
        audit: &AuditEvent,
        first_codes: &[String],
    ) -> Result<Option<bool>, StoreError> {
        let mut s = self.lock();
        if s.authn
            .passkeys
            .iter()
            .any(|p| p.credential_id == row.credential_id)
        {
            return Ok(None);
        }
        s.authn.passkeys.push(row.clone());
        s.audit.push(audit.clone());
        Ok(Some(s.authn.first_codes(&row.user_id, first_codes)))
    }

    fn rename_passkey(
        &self,
        user_id: &str,
        credential_id: &str,
        name: &str,
    ) -> Result<bool, StoreError> {
        let mut s = self.lock();
        let found = s
            .authn
            .passkeys
            .iter_mut()
            .find(|p| p.credential_id == credential_id && p.user_id == user_id);
        Ok(found.map(|p| p.name = name.to_string()).is_some())
    }

    fn remove_passkey(
        &self,
        user_id: &UserId,
        credential_id: &str,
        audit: &AuditEvent,
    ) -> Result<PasskeyRemoval, StoreError> {
        let mut s = self.lock();
        let id = user_id.as_str();
        let has_password = s.users.get(id).is_some_and(|(_, h)| h.is_some());
        let count = s.authn.passkeys.iter().filter(|p| p.user_id == id).count();
        if !has_password && count <= 1 {
            return Ok(PasskeyRemoval::LastWayIn);
        }
        let before = s.authn.passkeys.len();
        s.authn
            .passkeys
            .retain(|p| !(p.credential_id == credential_id && p.user_id == id));
        if s.authn.passkeys.len() == before {
            return Ok(PasskeyRemoval::NotFound);
        }
        s.audit.push(audit.clone());
        Ok(PasskeyRemoval::Removed)
    }

    fn sign_up(
        &self,
        p: &NewPatient,
        passkey: &PasskeyRow,
        audit: &AuditEvent,
    ) -> Result<Option<User>, StoreError> {
        let mut s = self.lock();
        let name_taken = s.users.values().any(|(u, _)| u.username == p.username);
        let key_taken = s
            .authn
            .passkeys
            .iter()
            .any(|k| k.credential_id == passkey.credential_id);
        if name_taken || key_taken {
            return Ok(None);
        }
        let id = UserId::parse(&p.id).ok_or_else(|| StoreError::Internal("user id".into()))?;
        let user = User {
            id,
            username: p.username.clone(),
            email: p.email.clone(),
            email_verified: false,
            display_name: p.display_name.clone(),
            status: UserStatus::Active,
            created_at: p.created_at,
            updated_at: p.created_at,
            account_type: "patient".into(),
            profile: Profile::default(),
        };
        s.users.insert(p.id.clone(), (user.clone(), None));
        s.authn.passkeys.push(passkey.clone());
        s.audit.push(audit.clone());
        Ok(Some(user))
    }

    fn save_ceremony(&self, row: &CeremonyRow) -> Result<(), StoreError> {
        self.lock()
            .authn
            .ceremonies
            .insert(row.id_hash.clone(), row.clone());
        Ok(())
    }

    fn take_ceremony(&self, id_hash: &str, now: Millis) -> Result<Option<CeremonyRow>, StoreError> {
        let taken = self.lock().authn.ceremonies.remove(id_hash);
        Ok(taken.filter(|r| r.expires_at > now))
    }
}
