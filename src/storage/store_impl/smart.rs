//! [`SmartStore`] and [`FhirAdminStore`] for the database: FHIR servers, EHR
//! launches (used once: a conditional update) and users' FHIR resources.

use diesel::prelude::*;

use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::smart::LaunchContext;
use crate::storage::schema::{fhir_servers, smart_launches, users};
use crate::storage::{AnyConnection, Database, StorageError, audit, parse_client_id, storable_key};
use crate::store::{FhirAdminStore, FhirServer, LaunchRow, SmartStore, StoreError};

type ServerTuple = (String, String, String, i64);

fn server_from((id, base_url, tenant, created_at): ServerTuple) -> FhirServer {
    FhirServer {
        id,
        base_url,
        tenant,
        created_at,
    }
}

const SERVER_COLUMNS: (
    fhir_servers::id,
    fhir_servers::base_url,
    fhir_servers::tenant,
    fhir_servers::created_at,
) = (
    fhir_servers::id,
    fhir_servers::base_url,
    fhir_servers::tenant,
    fhir_servers::created_at,
);

/// A smart_launches row as stored.
#[derive(Queryable, Selectable)]
#[diesel(table_name = smart_launches)]
struct LaunchDb {
    launch_hash: String,
    tenant: String,
    client_id: String,
    ehr_client_id: String,
    user_id: Option<String>,
    context: String,
    created_at: i64,
    expires_at: i64,
    used_at: Option<i64>,
}

fn launch_from(l: LaunchDb) -> Result<LaunchRow, StorageError> {
    let context: LaunchContext = serde_json::from_str(&l.context).map_err(|_| {
        StorageError::Corrupt("smart_launches.context is not a launch context".into())
    })?;
    Ok(LaunchRow {
        launch_hash: l.launch_hash,
        tenant: l.tenant,
        client_id: parse_client_id("smart_launches.client_id", &l.client_id)?,
        ehr_client_id: parse_client_id("smart_launches.ehr_client_id", &l.ehr_client_id)?,
        user_id: l.user_id,
        context,
        created_at: l.created_at,
        expires_at: l.expires_at,
        used_at: l.used_at,
    })
}

fn find_server(
    c: &mut AnyConnection,
    id_or_base_url: &str,
) -> Result<Option<FhirServer>, StorageError> {
    Ok(fhir_servers::table
        .filter(
            fhir_servers::id
                .eq(id_or_base_url)
                .or(fhir_servers::base_url.eq(id_or_base_url)),
        )
        .select(SERVER_COLUMNS)
        .first::<ServerTuple>(c)
        .optional()?
        .map(server_from))
}

impl SmartStore for Database {
    fn fhir_server(&self, base_url: &str) -> Result<Option<FhirServer>, StoreError> {
        if !storable_key(base_url) {
            return Ok(None);
        }
        Ok(fhir_servers::table
            .filter(fhir_servers::base_url.eq(base_url))
            .select(SERVER_COLUMNS)
            .first::<ServerTuple>(&mut *self.conn()?)
            .optional()?
            .map(server_from))
    }

    fn create_launch(&self, l: &LaunchRow, event: &AuditEvent) -> Result<(), StoreError> {
        let context = serde_json::to_string(&l.context)
            .map_err(|e| StoreError::Internal(format!("launch context: {e}")))?;
        self.transaction(|c| {
            diesel::insert_into(smart_launches::table)
                .values((
                    smart_launches::launch_hash.eq(&l.launch_hash),
                    smart_launches::tenant.eq(&l.tenant),
                    smart_launches::client_id.eq(l.client_id.as_str()),
                    smart_launches::ehr_client_id.eq(l.ehr_client_id.as_str()),
                    smart_launches::user_id.eq(l.user_id.as_deref()),
                    smart_launches::context.eq(&context),
                    smart_launches::created_at.eq(l.created_at),
                    smart_launches::expires_at.eq(l.expires_at),
                ))
                .execute(c)?;
            audit::append(c, event)
        })?;
        Ok(())
    }

    fn launch(&self, launch_hash: &str) -> Result<Option<LaunchRow>, StoreError> {
        if !storable_key(launch_hash) {
            return Ok(None);
        }
        let row = smart_launches::table
            .find(launch_hash)
            .select(LaunchDb::as_select())
            .first(&mut *self.conn()?)
            .optional()?;
        Ok(row.map(launch_from).transpose()?)
    }

    fn use_launch(
        &self,
        launch_hash: &str,
        now: Millis,
        event: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let used = self.transaction(|c| {
            // The conditional update is the single-use guarantee: of any
            // number of concurrent uses, exactly one changes the row.
            let n = diesel::update(
                smart_launches::table
                    .find(launch_hash)
                    .filter(smart_launches::used_at.is_null())
                    .filter(smart_launches::expires_at.gt(now)),
            )
            .set(smart_launches::used_at.eq(Some(now)))
            .execute(c)?;
            if n == 0 {
                return Ok(false);
            }
            audit::append(c, event)?;
            Ok::<_, StorageError>(true)
        })?;
        Ok(used)
    }

    fn fhir_user(&self, user_id: &str) -> Result<Option<String>, StoreError> {
        if !storable_key(user_id) {
            return Ok(None);
        }
        let found: Option<Option<String>> = users::table
            .find(user_id)
            .select(users::fhir_user)
            .first(&mut *self.conn()?)
            .optional()?;
        Ok(found.flatten())
    }
}

impl FhirAdminStore for Database {
    fn add_fhir_server(&self, s: &FhirServer, event: &AuditEvent) -> Result<bool, StoreError> {
        let added = self.transaction(|c| {
            let n = crate::storage::on_backend!(c, pc => diesel::insert_into(fhir_servers::table)
                .values((
                    fhir_servers::id.eq(&s.id),
                    fhir_servers::base_url.eq(&s.base_url),
                    fhir_servers::tenant.eq(&s.tenant),
                    fhir_servers::created_at.eq(s.created_at),
                ))
                .on_conflict_do_nothing()
                .execute(pc))?;
            if n == 0 {
                return Ok(false);
            }
            audit::append(c, event)?;
            Ok::<_, StorageError>(true)
        })?;
        Ok(added)
    }

    fn list_fhir_servers(
        &self,
        record: &dyn Fn(&[FhirServer]) -> AuditEvent,
    ) -> Result<Vec<FhirServer>, StoreError> {
        Ok(self.transaction(|c| {
            let list: Vec<FhirServer> = fhir_servers::table
                .order(fhir_servers::base_url)
                .select(SERVER_COLUMNS)
                .load::<ServerTuple>(c)?
                .into_iter()
                .map(server_from)
                .collect();
            audit::append(c, &record(&list))?;
            Ok::<_, StorageError>(list)
        })?)
    }

    fn remove_fhir_server(
        &self,
        id_or_base_url: &str,
        record: &dyn Fn(&FhirServer) -> AuditEvent,
    ) -> Result<Option<FhirServer>, StoreError> {
        if !storable_key(id_or_base_url) {
            return Ok(None);
        }
        Ok(self.transaction(|c| {
            let Some(found) = find_server(c, id_or_base_url)? else {
                return Ok(None);
            };
            diesel::delete(fhir_servers::table.find(&found.id)).execute(c)?;
            audit::append(c, &record(&found))?;
            Ok::<_, StorageError>(Some(found))
        })?)
    }

    fn set_fhir_user(
        &self,
        user_id: &str,
        fhir_user: Option<&str>,
        event: &AuditEvent,
    ) -> Result<bool, StoreError> {
        if !storable_key(user_id) {
            return Ok(false);
        }
        Ok(self.transaction(|c| {
            let n = diesel::update(users::table.find(user_id))
                .set(users::fhir_user.eq(fhir_user))
                .execute(c)?;
            if n == 0 {
                return Ok(false);
            }
            audit::append(c, event)?;
            Ok::<_, StorageError>(true)
        })?)
    }
}
