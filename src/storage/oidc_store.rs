//! The `store` traits for the database: sessions, authorization requests, consents,
//! codes, grants, refresh tokens and revocations. Each method is one transaction
//! (or one statement), so every state change lands together with its audit record.

use diesel::prelude::*;

use super::schema::{
    auth_requests, authorization_codes, client_assertions, consents, grants, refresh_tokens,
    revoked_tokens, sessions, users as users_table,
};
use super::{
    AnyConnection, Database, StorageError, audit, clients, from_json_list, to_json_list, users,
};
use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::domain::UserId;
use crate::oidc::claims::ClaimsRequest;
use crate::storage::clients::Client;
use crate::storage::users::User;
use crate::store::{
    AuditStore, AuthFacts, AuthRequestRow, AuthRequestStore, BreakGlassStore, ClientStore, CodeRow,
    GrantRow, GrantStore, HistoryQuery, Redeemed, RefreshRow, RiskHistory, RiskStore, SessionRow,
    SessionStore, StoreError, UserStore,
};

impl From<StorageError> for StoreError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Unavailable(_) => Self::Unavailable,
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<diesel::result::Error> for StoreError {
    fn from(e: diesel::result::Error) -> Self {
        StorageError::from(e).into()
    }
}

/// A stored claims request (OIDC Core §5.5), JSON text.
fn claims_from(column: &str, text: Option<String>) -> Result<Option<ClaimsRequest>, StorageError> {
    text.map(|t| serde_json::from_str(&t))
        .transpose()
        .map_err(|_| StorageError::Corrupt(format!("{column} is not a claims request")))
}

fn claims_to(claims: Option<&ClaimsRequest>) -> Option<String> {
    claims.and_then(|c| serde_json::to_string(c).ok())
}

fn scopes_from(text: &str) -> Vec<String> {
    text.split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// A grants row as stored.
#[derive(Queryable, Selectable)]
#[diesel(table_name = grants)]
struct GrantDb {
    id: String,
    client_id: String,
    user_id: String,
    scope: String,
    session_hash: Option<String>,
    auth_time: i64,
    acr: String,
    amr: String,
    nonce: Option<String>,
    created_at: i64,
    expires_at: i64,
    revoked_at: Option<i64>,
    tenant: Option<String>,
    claims: Option<String>,
}

/// A grant with its user's status.
type GrantTuple = (GrantDb, String);
type RefreshTuple = (String, String, i64, Option<i64>);

fn grant_from((g, status): GrantTuple) -> Result<GrantRow, StorageError> {
    Ok(GrantRow {
        id: g.id,
        client_id: g.client_id,
        scope: scopes_from(&g.scope),
        nonce: g.nonce,
        facts: AuthFacts {
            user_id: g.user_id,
            auth_time: g.auth_time,
            acr: g.acr,
            amr: from_json_list("grants.amr", &g.amr)?,
            session_hash: g.session_hash,
            tenant: g.tenant,
        },
        created_at: g.created_at,
        expires_at: g.expires_at,
        revoked_at: g.revoked_at,
        user_active: status == "active",
        claims: claims_from("grants.claims", g.claims)?,
    })
}

fn load_grant(c: &mut AnyConnection, id: &str) -> Result<Option<GrantRow>, StorageError> {
    grants::table
        .inner_join(users_table::table)
        .filter(grants::id.eq(id))
        .select((GrantDb::as_select(), users_table::status))
        .first::<GrantTuple>(c)
        .optional()?
        .map(grant_from)
        .transpose()
}

fn revoke_grant_in(c: &mut AnyConnection, id: &str, now: Millis) -> Result<(), StorageError> {
    diesel::update(grants::table.find(id).filter(grants::revoked_at.is_null()))
        .set(grants::revoked_at.eq(Some(now)))
        .execute(c)?;
    Ok(())
}

impl ClientStore for Database {
    fn client(&self, id: &str) -> Result<Option<Client>, StoreError> {
        if let Some(c) = self.clients.get(id) {
            return Ok(Some(c));
        }
        let found = clients::find(&mut *self.conn()?, id)?;
        if let Some(c) = &found {
            self.clients.put(c);
        }
        Ok(found)
    }
}

impl UserStore for Database {
    fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        let Some(id) = UserId::parse(id) else {
            return Ok(None);
        };
        Ok(users::find_by_id(&mut *self.conn()?, &id)?)
    }

    fn user_with_password(
        &self,
        username: &str,
    ) -> Result<Option<(User, Option<String>)>, StoreError> {
        let mut c = self.conn()?;
        let Some(user) = users::find_by_username(&mut c, username)? else {
            return Ok(None);
        };
        let hash = users::password_hash(&mut c, &user.id)?;
        Ok(Some((user, hash)))
    }
}

impl AuthRequestStore for Database {
    fn save_auth_request(&self, r: &AuthRequestRow) -> Result<(), StoreError> {
        diesel::insert_into(auth_requests::table)
            .values((
                auth_requests::id_hash.eq(&r.id_hash),
                auth_requests::client_id.eq(&r.client_id),
                auth_requests::params.eq(&r.params),
                auth_requests::pushed.eq(r.pushed),
                auth_requests::browser_hash.eq(r.browser_hash.as_deref()),
                auth_requests::created_at.eq(r.created_at),
                auth_requests::expires_at.eq(r.expires_at),
            ))
            .execute(&mut *self.conn()?)?;
        Ok(())
    }

    fn auth_request(
        &self,
        id_hash: &str,
        now: Millis,
    ) -> Result<Option<AuthRequestRow>, StoreError> {
        let row = auth_requests::table
            .find(id_hash)
            .filter(auth_requests::used_at.is_null())
            .filter(auth_requests::expires_at.gt(now))
            .select((
                auth_requests::id_hash,
                auth_requests::client_id,
                auth_requests::params,
                auth_requests::pushed,
                auth_requests::browser_hash,
                auth_requests::created_at,
                auth_requests::expires_at,
            ))
            .first::<(String, String, String, bool, Option<String>, i64, i64)>(&mut *self.conn()?)
            .optional()?;
        Ok(row.map(
            |(id_hash, client_id, params, pushed, browser_hash, created_at, expires_at)| {
                AuthRequestRow {
                    id_hash,
                    client_id,
                    params,
                    pushed,
                    browser_hash,
                    created_at,
                    expires_at,
                }
            },
        ))
    }

    fn update_auth_request(&self, id_hash: &str, params: &str) -> Result<(), StoreError> {
        diesel::update(
            auth_requests::table
                .find(id_hash)
                .filter(auth_requests::used_at.is_null()),
        )
        .set(auth_requests::params.eq(params))
        .execute(&mut *self.conn()?)?;
        Ok(())
    }

    fn use_auth_request(&self, id_hash: &str, now: Millis) -> Result<bool, StoreError> {
        let n = diesel::update(
            auth_requests::table
                .find(id_hash)
                .filter(auth_requests::used_at.is_null()),
        )
        .set(auth_requests::used_at.eq(Some(now)))
        .execute(&mut *self.conn()?)?;
        Ok(n == 1)
    }
}

impl SessionStore for Database {
    fn create_session(
        &self,
        s: &SessionRow,
        replaces: Option<&str>,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.transaction(|c| {
            // A new sign-in in this browser ends its previous session (no two live sessions per browser).
            if let Some(old) = replaces {
                // The browser's previous session ends, with its grants and notifications.
                super::sessions::end(c, old, s.created_at)?;
            }
            super::sessions::insert(c, s)?;
            audit::append(c, event)
        })?;
        Ok(())
    }

    fn session(&self, id_hash: &str) -> Result<Option<SessionRow>, StoreError> {
        Ok(super::sessions::get(&mut *self.conn()?, id_hash)?)
    }

    fn touch_session(&self, id_hash: &str, now: Millis) -> Result<(), StoreError> {
        diesel::update(sessions::table.find(id_hash))
            .set(sessions::last_seen_at.eq(now))
            .execute(&mut *self.conn()?)?;
        Ok(())
    }

    fn mark_session_shared(&self, id_hash: &str) -> Result<(), StoreError> {
        Ok(super::sessions::mark_shared(&mut *self.conn()?, id_hash)?)
    }

    fn end_session(
        &self,
        id_hash: &str,
        now: Millis,
        event: &AuditEvent,
    ) -> Result<bool, StoreError> {
        Ok(self.transaction(|c| {
            let ended = super::sessions::end(c, id_hash, now)?;
            if ended {
                audit::append(c, event)?;
            }
            Ok::<_, StorageError>(ended)
        })?)
    }
}

impl GrantStore for Database {
    fn consent(
        &self,
        user_id: &str,
        client_id: &str,
    ) -> Result<Option<(Vec<String>, Millis)>, StoreError> {
        let row: Option<(String, i64)> = consents::table
            .find((user_id, client_id))
            .select((consents::scopes, consents::granted_at))
            .first(&mut *self.conn()?)
            .optional()?;
        Ok(row
            .map(|(s, at)| from_json_list("consents.scopes", &s).map(|scopes| (scopes, at)))
            .transpose()?)
    }

    fn save_consent(
        &self,
        user_id: &str,
        client_id: &str,
        scopes: &[String],
        now: Millis,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        let mut sorted = scopes.to_vec();
        sorted.sort();
        sorted.dedup();
        self.transaction(|c| {
            // One consent per user and client; a second consent page submitted
            // at the same time replaces the first instead of failing.
            let scopes = to_json_list(&sorted);
            super::on_backend!(c, pc => diesel::insert_into(consents::table)
                .values((
                    consents::user_id.eq(user_id),
                    consents::client_id.eq(client_id),
                    consents::scopes.eq(&scopes),
                    consents::granted_at.eq(now),
                ))
                .on_conflict((consents::user_id, consents::client_id))
                .do_update()
                .set((consents::scopes.eq(&scopes), consents::granted_at.eq(now)))
                .execute(pc))?;
            audit::append(c, event)
        })?;
        Ok(())
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
                    authorization_codes::client_id.eq(&code.client_id),
                    authorization_codes::user_id.eq(&code.facts.user_id),
                    authorization_codes::redirect_uri.eq(&code.redirect_uri),
                    authorization_codes::scope.eq(code.scope.join(" ")),
                    authorization_codes::nonce.eq(code.nonce.as_deref()),
                    authorization_codes::code_challenge.eq(code.code_challenge.as_deref()),
                    authorization_codes::session_hash.eq(code.facts.session_hash.as_deref()),
                    authorization_codes::auth_time.eq(code.facts.auth_time),
                    authorization_codes::acr.eq(&code.facts.acr),
                    authorization_codes::amr.eq(to_json_list(&code.facts.amr)),
                    authorization_codes::tenant.eq(code.facts.tenant.as_deref()),
                    authorization_codes::claims.eq(claims_to(code.claims.as_ref())),
                    authorization_codes::created_at.eq(code.created_at),
                    authorization_codes::expires_at.eq(code.expires_at),
                ))
                .execute(c)?;
            if let Some(session) = &code.facts.session_hash {
                super::logout_outbox::note_client(c, session, &code.client_id, code.created_at)?;
            }
            audit::append(c, event)?;
            Ok::<_, StorageError>(true)
        })?;
        Ok(created)
    }

    fn code(&self, code_hash: &str) -> Result<Option<CodeRow>, StoreError> {
        type Row = (
            String,
            String,
            String,
            String,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            i64,
            String,
            String,
            i64,
            i64,
            Option<i64>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        // The user's status comes with the code: one query instead of two.
        let row = authorization_codes::table
            .inner_join(users_table::table)
            .filter(authorization_codes::code_hash.eq(code_hash))
            .select((
                (
                    authorization_codes::code_hash,
                    authorization_codes::client_id,
                    authorization_codes::user_id,
                    authorization_codes::redirect_uri,
                    authorization_codes::scope,
                    authorization_codes::nonce,
                    authorization_codes::code_challenge,
                    authorization_codes::session_hash,
                    authorization_codes::auth_time,
                    authorization_codes::acr,
                    authorization_codes::amr,
                    authorization_codes::created_at,
                    authorization_codes::expires_at,
                    authorization_codes::consumed_at,
                    authorization_codes::grant_id,
                    authorization_codes::tenant,
                    authorization_codes::claims,
                ),
                users_table::status,
            ))
            .first::<(Row, String)>(&mut *self.conn()?)
            .optional()?;
        let Some((
            (
                code_hash,
                client_id,
                user_id,
                redirect_uri,
                scope,
                nonce,
                code_challenge,
                session_hash,
                auth_time,
                acr,
                amr,
                created_at,
                expires_at,
                consumed_at,
                grant_id,
                tenant,
                claims,
            ),
            status,
        )) = row
        else {
            return Ok(None);
        };
        Ok(Some(CodeRow {
            code_hash,
            client_id,
            redirect_uri,
            scope: scopes_from(&scope),
            nonce,
            code_challenge,
            facts: AuthFacts {
                user_id,
                auth_time,
                acr,
                amr: from_json_list("authorization_codes.amr", &amr)?,
                session_hash,
                tenant,
            },
            created_at,
            expires_at,
            consumed_at,
            grant_id,
            user_active: status == "active",
            claims: claims_from("authorization_codes.claims", claims)?,
        }))
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
                    grants::client_id.eq(&g.client_id),
                    grants::user_id.eq(&g.facts.user_id),
                    grants::scope.eq(g.scope.join(" ")),
                    grants::session_hash.eq(g.facts.session_hash.as_deref()),
                    grants::auth_time.eq(g.facts.auth_time),
                    grants::acr.eq(&g.facts.acr),
                    grants::amr.eq(to_json_list(&g.facts.amr)),
                    grants::nonce.eq(g.nonce.as_deref()),
                    grants::tenant.eq(g.facts.tenant.as_deref()),
                    grants::claims.eq(claims_to(g.claims.as_ref())),
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
            let inserted = super::on_backend!(c, pc => diesel::insert_into(revoked_tokens::table)
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
        client_id: &str,
        jti: &str,
        expires_at: Millis,
        now: Millis,
    ) -> Result<bool, StoreError> {
        let mut c = self.conn()?;
        // Expired entries can no longer be replayed (their assertions are refused as expired).
        diesel::delete(client_assertions::table.filter(client_assertions::expires_at.lt(now)))
            .execute(&mut *c)?;
        // False for a replayed `jti` (the row is there already).
        let inserted = super::on_backend!(&mut *c, pc => diesel::insert_into(client_assertions::table)
            .values((
                client_assertions::client_id.eq(client_id),
                client_assertions::jti.eq(jti),
                client_assertions::expires_at.eq(expires_at),
            ))
            .on_conflict_do_nothing()
            .execute(pc));
        Ok(inserted.map_err(StorageError::from)? == 1)
    }
}

impl AuditStore for Database {
    fn audit(&self, event: AuditEvent) -> Result<(), StoreError> {
        Ok(self.append_audit_batched(event)?)
    }
}

impl RiskStore for Database {
    fn risk_history(&self, q: &HistoryQuery) -> Result<RiskHistory, StoreError> {
        use super::risk_history as h;
        use crate::risk::Familiarity;
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

impl BreakGlassStore for Database {
    fn active_break_glass(
        &self,
        user_id: &str,
        tenant: &str,
        now: Millis,
    ) -> Result<Option<(String, Millis)>, StoreError> {
        Ok(
            super::break_glass::active(&mut *self.conn()?, user_id, tenant, now)?
                .map(|e| (e.id, e.expires_at)),
        )
    }
}
