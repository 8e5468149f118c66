//! [`GrantStore`] for the in-memory fake: consents, codes, grants, refresh
//! tokens, revoked access tokens and client assertions.

use super::{MemoryStore, duplicate};
use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::domain::consent::ConsentRecord;
use crate::domain::{ClientId, UserId};
use crate::store::{CodeRow, GrantRow, GrantStore, Redeemed, RefreshRow, StoreError};

impl GrantStore for MemoryStore {
    fn consent(
        &self,
        user_id: &UserId,
        client_id: &ClientId,
    ) -> Result<Option<ConsentRecord>, StoreError> {
        let s = self.lock();
        let latest = s
            .consents
            .iter()
            .filter(|r| r.user_id == user_id.as_str() && r.client_id == *client_id)
            .max_by_key(|r| r.version);
        Ok(latest.filter(|r| r.is_live()).cloned())
    }

    fn save_consent(
        &self,
        record: &ConsentRecord,
        audit: &AuditEvent,
    ) -> Result<ConsentRecord, StoreError> {
        let mut s = self.lock();
        let version = s
            .consents
            .iter()
            .filter(|r| r.user_id == record.user_id && r.client_id == record.client_id)
            .map(|r| r.version)
            .max()
            .unwrap_or(0)
            + 1;
        let stored = ConsentRecord {
            version,
            ..record.clone()
        };
        s.consents.push(stored.clone());
        s.audit.push(audit.clone());
        Ok(stored)
    }

    fn create_code(
        &self,
        code: &CodeRow,
        interaction: Option<&str>,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let mut s = self.lock();
        if s.codes.contains_key(&code.code_hash) {
            return Err(duplicate("authorization code"));
        }
        if let Some(hash) = interaction {
            match s.auth_requests.get_mut(hash) {
                Some((_, used @ None)) => *used = Some(code.created_at),
                // Completed by a concurrent request (or unknown): issue nothing.
                _ => return Ok(false),
            }
        }
        s.codes.insert(code.code_hash.clone(), code.clone());
        s.audit.push(audit.clone());
        Ok(true)
    }

    fn code(&self, code_hash: &str) -> Result<Option<CodeRow>, StoreError> {
        let s = self.lock();
        let Some(mut code) = s.codes.get(code_hash).cloned() else {
            return Ok(None);
        };
        // The database joins the user: a code of a deleted user is not found.
        let Some(active) = s.user_active(code.facts.user_id.as_str()) else {
            return Ok(None);
        };
        code.user_active = active;
        Ok(Some(code))
    }

    fn redeem_code(
        &self,
        code_hash: &str,
        now: Millis,
        grant: &GrantRow,
        refresh_hash: Option<&str>,
        audit: &AuditEvent,
    ) -> Result<Redeemed, StoreError> {
        let mut s = self.lock();
        let Some(code) = s
            .codes
            .get_mut(code_hash)
            .filter(|c| c.consumed_at.is_none())
        else {
            let first = s.codes.get(code_hash).and_then(|c| c.grant_id.clone());
            return Ok(Redeemed::AlreadyUsed(first));
        };
        code.consumed_at = Some(now);
        code.grant_id = Some(grant.id.clone());
        if s.grants.contains_key(&grant.id) {
            return Err(duplicate("grant"));
        }
        s.grants.insert(grant.id.clone(), grant.clone());
        if let Some(hash) = refresh_hash {
            let row = RefreshRow {
                token_hash: hash.to_string(),
                grant_id: grant.id.clone(),
                created_at: now,
                rotated_at: None,
            };
            s.refresh.insert(hash.to_string(), row);
        }
        s.audit.push(audit.clone());
        Ok(Redeemed::Ok)
    }

    fn grant(&self, id: &str) -> Result<Option<GrantRow>, StoreError> {
        let s = self.lock();
        Ok(s.grants
            .get(id)
            .cloned()
            .and_then(|g| s.with_user_status(g)))
    }

    fn revoke_grant(&self, id: &str, now: Millis, audit: &AuditEvent) -> Result<(), StoreError> {
        let mut s = self.lock();
        if let Some(g) = s.grants.get_mut(id).filter(|g| g.revoked_at.is_none()) {
            g.revoked_at = Some(now);
        }
        s.audit.push(audit.clone());
        Ok(())
    }

    fn refresh_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<(RefreshRow, GrantRow)>, StoreError> {
        let s = self.lock();
        let Some(row) = s.refresh.get(token_hash).cloned() else {
            return Ok(None);
        };
        let grant = s
            .grants
            .get(&row.grant_id)
            .cloned()
            .and_then(|g| s.with_user_status(g));
        Ok(grant.map(|g| (row, g)))
    }

    fn rotate_refresh(
        &self,
        old_hash: &str,
        new_hash: &str,
        grant_id: &str,
        now: Millis,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let mut s = self.lock();
        let Some(old) = s
            .refresh
            .get_mut(old_hash)
            .filter(|r| r.rotated_at.is_none())
        else {
            return Ok(false);
        };
        old.rotated_at = Some(now);
        if s.refresh.contains_key(new_hash) {
            return Err(duplicate("refresh token"));
        }
        let row = RefreshRow {
            token_hash: new_hash.to_string(),
            grant_id: grant_id.to_string(),
            created_at: now,
            rotated_at: None,
        };
        s.refresh.insert(new_hash.to_string(), row);
        s.audit.push(audit.clone());
        Ok(true)
    }

    fn revoke_jti(
        &self,
        jti: &str,
        expires_at: Millis,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        // Revoked once, audited once.
        if !s.revoked_jtis.contains_key(jti) {
            s.revoked_jtis.insert(jti.to_string(), expires_at);
            s.audit.push(audit.clone());
        }
        Ok(())
    }

    fn jti_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        Ok(self.lock().revoked_jtis.contains_key(jti))
    }

    fn remember_assertion(
        &self,
        client_id: &ClientId,
        jti: &str,
        expires_at: Millis,
        now: Millis,
    ) -> Result<bool, StoreError> {
        let mut s = self.lock();
        // Expired entries are forgotten: their assertions are refused as expired.
        s.assertions.retain(|_, exp| *exp >= now);
        let key = (client_id.clone(), jti.to_string());
        if s.assertions.contains_key(&key) {
            return Ok(false);
        }
        s.assertions.insert(key, expires_at);
        Ok(true)
    }
}
