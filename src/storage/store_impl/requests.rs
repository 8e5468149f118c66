//! [`AuthRequestStore`] for the database: authorization requests, single use.

use diesel::prelude::*;

use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::storage::schema::auth_requests;
use crate::storage::{Database, StorageError, audit, parse_client_id};
use crate::store::{AuthRequestRow, AuthRequestStore, StoreError};

impl AuthRequestStore for Database {
    fn save_auth_request(&self, r: &AuthRequestRow) -> Result<(), StoreError> {
        diesel::insert_into(auth_requests::table)
            .values((
                auth_requests::id_hash.eq(&r.id_hash),
                auth_requests::client_id.eq(r.client_id.as_str()),
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
        let row = row.map(
            |(id_hash, client_id, params, pushed, browser_hash, created_at, expires_at)| {
                Ok::<_, StorageError>(AuthRequestRow {
                    id_hash,
                    client_id: parse_client_id("auth_requests.client_id", &client_id)?,
                    params,
                    pushed,
                    browser_hash,
                    created_at,
                    expires_at,
                })
            },
        );
        Ok(row.transpose()?)
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

    fn update_auth_request_audited(
        &self,
        id_hash: &str,
        params: &str,
        event: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let updated = self.transaction(|c| {
            let n = diesel::update(
                auth_requests::table
                    .find(id_hash)
                    .filter(auth_requests::used_at.is_null()),
            )
            .set(auth_requests::params.eq(params))
            .execute(c)?;
            if n == 1 {
                audit::append(c, event)?;
            }
            Ok::<_, StorageError>(n == 1)
        })?;
        Ok(updated)
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
