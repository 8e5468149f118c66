//! [`GrantStore`] for the database: consents, codes, grants, refresh tokens,
//! revoked access tokens and client assertions. Each state change is one
//! transaction (or one statement) with its audit record.

use diesel::prelude::*;

use super::rows::{
    CodeDb, GrantDb, GrantTuple, RefreshTuple, claims_to, code_from, grant_from, load_grant,
    revoke_grant_in, smart_to,
};
use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::domain::consent::ConsentRecord;
use crate::domain::{ClientId, SessionId, UserId};
use crate::storage::schema::{
    auth_requests, authorization_codes, client_assertions, grants, refresh_tokens, revoked_tokens,
    users as users_table,
};
use crate::storage::{Database, StorageError, audit, consents, to_typed_list};
use crate::store::{CodeRow, GrantRow, GrantStore, Redeemed, RefreshRow, StoreError};

impl GrantStore for Database {
    fn consent(
        &self,
        user_id: &UserId,
        client_id: &ClientId,
    ) -> Result<Option<ConsentRecord>, StoreError> {
        let latest = consents::latest(&mut *self.conn()?, user_id.as_str(), client_id.as_str())?;
        Ok(latest.filter(ConsentRecord::is_live))
    }

    fn save_consent(
        &self,
        record: &ConsentRecord,
        event: &AuditEvent,
    ) -> Result<ConsentRecord, StoreError> {
        // Two consent pages answered at once (two tabs) both read the same
        // last version; on PostgreSQL the second insert then breaks the
        // unique (user, client, version) and is tried again on top of the first.
        let mut tries = 0;
        loop {
            let done = self.transaction(|c| {
                let stored = consents::insert_next(c, record)?;
                audit::append(c, &event.clone().detail("consent", stored.id.as_str()))?;
                Ok::<_, StorageError>(stored)
            });
            match done {
                Err(StorageError::Conflict(_)) if tries < 3 => tries += 1,
                other => return Ok(other?),
            }
        }
    }

    fn create_code(
        &self,
        code: &CodeRow,
        interaction: Option<&str>,
        event: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let created = self.transaction(|c| {
            if let Some(hash) = interaction {
                let n = diesel::update(
                    auth_requests::table
                        .find(hash)
                        .filter(auth_requests::used_at.is_null()),
                )
                .set(auth_requests::used_at.eq(Some(code.created_at)))
                .execute(c)?;
                if n == 0 {
                    // The interaction was completed by a concurrent request: issue nothing.
                    return Ok(false);
                }
            }
            diesel::insert_into(authorization_codes::table)
                .values((
                    authorization_codes::code_hash.eq(&code.code_hash),
                    authorization_codes::client_id.eq(code.client_id.as_str()),
                    authorization_codes::user_id.eq(code.facts.user_id.as_str()),
                    authorization_codes::redirect_uri.eq(&code.redirect_uri),
                    authorization_codes::scope.eq(code.scope.join(" ")),
                    authorization_codes::nonce.eq(code.nonce.as_deref()),
                    authorization_codes::code_challenge.eq(code.code_challenge.as_deref()),
                    authorization_codes::session_hash.eq(code
                        .facts
                        .session_hash
                        .as_ref()
                        .map(SessionId::as_str)),
                    authorization_codes::auth_time.eq(code.facts.auth_time),
                    authorization_codes::acr.eq(code.facts.acr.as_str()),
                    authorization_codes::amr.eq(to_typed_list(&code.facts.amr)),
                    authorization_codes::tenant.eq(code.facts.tenant.as_deref()),
                    authorization_codes::claims.eq(claims_to(code.claims.as_ref())),
                    authorization_codes::smart.eq(smart_to(code.smart.as_ref())),
                    authorization_codes::created_at.eq(code.created_at),
                    authorization_codes::expires_at.eq(code.expires_at),
                ))
                .execute(c)?;
            if let Some(session) = &code.facts.session_hash {
                crate::storage::logout_outbox::note_client(
                    c,
                    session.as_str(),
                    &code.client_id,
                    code.created_at,
                )?;
            }
            audit::append(c, event)?;
            Ok::<_, StorageError>(true)
        })?;
        Ok(created)
    }

    fn code(&self, code_hash: &str) -> Result<Option<CodeRow>, StoreError> {
        // The user's status comes with the code: one query instead of two.
        let row = authorization_codes::table
            .inner_join(users_table::table)
            .filter(authorization_codes::code_hash.eq(code_hash))
            .select((CodeDb::as_select(), users_table::status))
            .first::<(CodeDb, String)>(&mut *self.conn()?)
            .optional()?;
        Ok(row.map(code_from).transpose()?)
    }

    fn redeem_code(
        &self,
        code_hash: &str,
        now: Millis,
        g: &GrantRow,
        refresh_hash: Option<&str>,
        event: &AuditEvent,
    ) -> Result<Redeemed, StoreError> {
        let outcome = self.transaction(|c| {
            // The conditional update is the single-use guarantee: of any number of
            // concurrent redemptions, exactly one changes the row.
            let n = diesel::update(
                authorization_codes::table
                    .find(code_hash)
                    .filter(authorization_codes::consumed_at.is_null()),
            )
            .set((
                authorization_codes::consumed_at.eq(Some(now)),
                authorization_codes::grant_id.eq(Some(&g.id)),
            ))
            .execute(c)?;
            if n == 0 {
                let first: Option<Option<String>> = authorization_codes::table
                    .find(code_hash)
                    .select(authorization_codes::grant_id)
                    .first(c)
                    .optional()?;
                return Ok(Redeemed::AlreadyUsed(first.flatten()));
            }
            diesel::insert_into(grants::table)
                .values((
                    grants::id.eq(&g.id),
                    grants::client_id.eq(g.client_id.as_str()),
                    grants::user_id.eq(g.facts.user_id.as_str()),
                    grants::scope.eq(g.scope.join(" ")),
                    grants::session_hash.eq(g.facts.session_hash.as_ref().map(SessionId::as_str)),
                    grants::auth_time.eq(g.facts.auth_time),
                    grants::acr.eq(g.facts.acr.as_str()),
                    grants::amr.eq(to_typed_list(&g.facts.amr)),
                    grants::nonce.eq(g.nonce.as_deref()),
                    grants::tenant.eq(g.facts.tenant.as_deref()),
                    grants::claims.eq(claims_to(g.claims.as_ref())),
                    grants::smart.eq(smart_to(g.smart.as_ref())),
                    grants::created_at.eq(g.created_at),
                    grants::expires_at.eq(g.expires_at),
                ))
                .execute(c)?;
            if let Some(hash) = refresh_hash {
                diesel::insert_into(refresh_tokens::table)
                    .values((
                        refresh_tokens::token_hash.eq(hash),
                        refresh_tokens::grant_id.eq(&g.id),
                        refresh_tokens::created_at.eq(now),
                    ))
                    .execute(c)?;
            }
            audit::append(c, event)?;
            Ok::<_, StorageError>(Redeemed::Ok)
        })?;
        Ok(outcome)
    }

    fn grant(&self, id: &str) -> Result<Option<GrantRow>, StoreError> {
        Ok(load_grant(&mut *self.conn()?, id)?)
    }

    fn revoke_grant(&self, id: &str, now: Millis, event: &AuditEvent) -> Result<(), StoreError> {
        self.transaction(|c| {
            revoke_grant_in(c, id, now)?;
            audit::append(c, event)
        })?;
        Ok(())
    }

    fn refresh_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<(RefreshRow, GrantRow)>, StoreError> {
        // Token, grant and user status in one query.
        let row: Option<(RefreshTuple, GrantTuple)> = refresh_tokens::table
            .inner_join(grants::table.inner_join(users_table::table))
            .filter(refresh_tokens::token_hash.eq(token_hash))
            .select((
                (
                    refresh_tokens::token_hash,
                    refresh_tokens::grant_id,
                    refresh_tokens::created_at,
                    refresh_tokens::rotated_at,
                ),
                (GrantDb::as_select(), users_table::status),
            ))
            .first(&mut *self.conn()?)
            .optional()?;
        let Some(((token_hash, grant_id, created_at, rotated_at), grant)) = row else {
            return Ok(None);
        };
        Ok(Some((
            RefreshRow {
                token_hash,
                grant_id,
                created_at,
                rotated_at,
            },
            grant_from(grant)?,
        )))
    }

    fn rotate_refresh(
        &self,
        old_hash: &str,
        new_hash: &str,
        grant_id: &str,
        now: Millis,
        event: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let rotated = self.transaction(|c| {
            let n = diesel::update(
                refresh_tokens::table
                    .find(old_hash)
                    .filter(refresh_tokens::rotated_at.is_null()),
            )
            .set(refresh_tokens::rotated_at.eq(Some(now)))
            .execute(c)?;
            if n == 0 {
                return Ok(false);
            }
            diesel::insert_into(refresh_tokens::table)
                .values((
                    refresh_tokens::token_hash.eq(new_hash),
                    refresh_tokens::grant_id.eq(grant_id),
                    refresh_tokens::created_at.eq(now),
                ))
                .execute(c)?;
            audit::append(c, event)?;
            Ok::<_, StorageError>(true)
        })?;
        Ok(rotated)
    }

    fn revoke_jti(
        &self,
        jti: &str,
        expires_at: Millis,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.transaction(|c| {
            // Revoked once, audited once, even when two revocations race.
            let inserted = crate::storage::on_backend!(c, pc => diesel::insert_into(revoked_tokens::table)
                .values((
                    revoked_tokens::jti.eq(jti),
                    revoked_tokens::expires_at.eq(expires_at),
                ))
                .on_conflict_do_nothing()
                .execute(pc))?;
            if inserted == 1 {
                audit::append(c, event)?;
            }
            Ok::<_, StorageError>(())
        })?;
        Ok(())
    }

    fn jti_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        let found: Option<String> = revoked_tokens::table
            .find(jti)
            .select(revoked_tokens::jti)
            .first(&mut *self.conn()?)
            .optional()?;
        Ok(found.is_some())
    }

    fn remember_assertion(
        &self,
        client_id: &ClientId,
        jti: &str,
        expires_at: Millis,
        now: Millis,
    ) -> Result<bool, StoreError> {
        let mut c = self.conn()?;
        // Expired entries can no longer be replayed (their assertions are refused as expired).
        diesel::delete(client_assertions::table.filter(client_assertions::expires_at.lt(now)))
            .execute(&mut *c)?;
        // False for a replayed `jti` (the row is there already).
        let inserted = crate::storage::on_backend!(&mut *c, pc => diesel::insert_into(client_assertions::table)
            .values((
                client_assertions::client_id.eq(client_id.as_str()),
                client_assertions::jti.eq(jti),
                client_assertions::expires_at.eq(expires_at),
            ))
            .on_conflict_do_nothing()
            .execute(pc));
        Ok(inserted.map_err(StorageError::from)? == 1)
    }
}
