//! Authorization: Casbin RBAC with domains (docs/authorization.md).
//!
//! A domain is a tenant (a hospital, a clinic; `ward` is Ward itself). The
//! policy lives in the database; [`Authz`] holds the engine built from it and
//! replaces it whole when the database's policy version moves, so a query never
//! sees half a change. Free of actix and diesel.

pub mod emergency;
pub mod engine;
pub mod rules;
#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex, RwLock};

pub use engine::{MODEL, PolicyEngine};
pub use rules::Rule;

use crate::domain::ClientId;
use crate::storage::policy::PolicyRow;
use crate::storage::{self, Database, StorageError};

/// The seed policy written to an empty database on first start.
pub const SEED_POLICY: &str = include_str!("../../policies/policy.csv");

/// The reserved tenant of the Ward deployment itself (its own administration).
pub const WARD_TENANT: &str = "ward";

#[derive(Debug, thiserror::Error)]
pub enum AuthzError {
    #[error("policy line {line}: {message}")]
    InvalidRule { line: usize, message: String },
    #[error("the policy engine: {0}")]
    Engine(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The policy subject of an OAuth client: `client:<client_id>`. A client
/// holds roles like a user (`g, client:<client_id>, role, tenant`), for what
/// it does on its own behalf: SMART Backend Services' `system/` scopes
/// (docs/smart.md) and an EHR's launch permission.
pub fn client_subject(client_id: &ClientId) -> String {
    format!("{}{client_id}", rules::CLIENT_PREFIX)
}

/// A rule as the storage layer keeps it.
pub fn to_row(rule: &Rule) -> PolicyRow {
    let f = rule.fields();
    PolicyRow {
        ptype: rule.ptype().to_string(),
        v0: f[0].to_string(),
        v1: f[1].to_string(),
        v2: f[2].to_string(),
        v3: f.get(3).copied().unwrap_or_default().to_string(),
    }
}

/// Stored rows as rules. A row that fails validation (written by hand, around
/// `ward policy`) is skipped with a warning rather than stopping every node:
/// a skipped rule grants nothing, so this fails closed, and the operator can
/// still run `ward policy import` to repair the policy.
pub fn from_rows(rows: &[PolicyRow]) -> Vec<Rule> {
    rows.iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let mut fields = vec![r.v0.as_str(), r.v1.as_str(), r.v2.as_str()];
            if r.ptype != "g" {
                fields.push(r.v3.as_str());
            }
            Rule::parse(&r.ptype, &fields, i + 1)
                .inspect_err(
                    |e| tracing::warn!(error = %e, "skipping an invalid stored policy rule"),
                )
                .ok()
        })
        .collect()
}

/// The shared, reloadable policy engine. Cheap to clone.
#[derive(Clone)]
pub struct Authz {
    current: Arc<RwLock<Arc<PolicyEngine>>>,
    /// Held while reading and swapping, so that of two racing reloads (the
    /// background poll and an operation) the older snapshot cannot land last.
    reloading: Arc<Mutex<()>>,
}

impl std::fmt::Debug for Authz {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authz")
            .field("version", &self.version())
            .finish()
    }
}

impl Authz {
    pub fn new(engine: PolicyEngine) -> Self {
        Self {
            current: Arc::new(RwLock::new(Arc::new(engine))),
            reloading: Arc::default(),
        }
    }

    /// A handle that allows nothing until [`Authz::reload`] reads the database.
    pub fn empty() -> Result<Self, AuthzError> {
        Ok(Self::new(PolicyEngine::empty()?))
    }

    /// Build from the policy in the database.
    pub fn load(db: &Database) -> Result<Self, AuthzError> {
        let authz = Self::empty()?;
        authz.reload(db)?;
        Ok(authz)
    }

    /// The current engine (one reference count): hold it for a whole request
    /// so that every answer comes from the same policy version.
    pub fn current(&self) -> Arc<PolicyEngine> {
        match self.current.read() {
            Ok(e) => e.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Read the whole policy and swap in a new engine; returns its version.
    ///
    /// Always swaps, even to a lower version: a database restored from a
    /// backup is the truth, and nodes must follow it.
    pub fn reload(&self, db: &Database) -> Result<i64, AuthzError> {
        let _one_at_a_time = self
            .reloading
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let (version, rows) = storage::policy::load(&mut *db.conn()?)?;
        // Built outside the write lock: queries keep using the old engine meanwhile.
        let engine = Arc::new(PolicyEngine::build(version, &from_rows(&rows))?);
        *self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = engine;
        Ok(version)
    }

    /// Reload if the database's policy version differs from the engine's (one
    /// single-row query otherwise); true if it reloaded.
    pub fn reload_if_changed(&self, db: &Database) -> Result<bool, AuthzError> {
        let stored = storage::policy::version(&mut *db.conn()?)?;
        if stored == self.version() {
            return Ok(false);
        }
        self.reload(db)?;
        Ok(true)
    }

    pub fn version(&self) -> i64 {
        self.current().version()
    }

    pub fn roles(&self, user_id: &str, tenant: &str) -> Vec<String> {
        self.current().roles(user_id, tenant)
    }

    pub fn permissions(&self, user_id: &str, tenant: &str) -> Vec<String> {
        self.current().permissions(user_id, tenant)
    }

    pub fn tenants(&self, user_id: &str) -> Vec<String> {
        self.current().tenants(user_id)
    }

    pub fn allowed(&self, user_id: &str, tenant: &str, object: &str, action: &str) -> bool {
        self.current().allowed(user_id, tenant, object, action)
    }
}
