//! [`PolicyEngine`]: one immutable snapshot of the policy, evaluated by Casbin.
//!
//! Casbin's builders are async (they are written for adapters that do I/O),
//! but with the in-memory adapter nothing ever waits, so building runs its
//! futures to completion on the calling thread. Queries are synchronous
//! Casbin calls. An engine is never changed after it is built: a new policy
//! version is a new engine, swapped in whole by [`super::Authz`].

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use casbin::{Adapter, CoreApi, DefaultModel, Enforcer, MemoryAdapter, MgmtApi, RbacApi};

use super::AuthzError;
use super::rules::Rule;

/// The Casbin model (RBAC with domains), compiled into the binary.
pub const MODEL: &str = include_str!("../../policies/model.conf");

pub struct PolicyEngine {
    enforcer: Enforcer,
    version: i64,
}

impl std::fmt::Debug for PolicyEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyEngine")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl PolicyEngine {
    /// Build an engine for `rules`, which were read at policy `version`.
    pub fn build(version: i64, rules: &[Rule]) -> Result<Self, AuthzError> {
        let engine = |e: casbin::Error| AuthzError::Engine(e.to_string());
        let mut permissions = Vec::new();
        let mut assignments = Vec::new();
        for rule in rules {
            let fields: Vec<String> = rule.fields().into_iter().map(String::from).collect();
            match rule {
                Rule::Permission { .. } => permissions.push(fields),
                Rule::Assignment { .. } => assignments.push(fields),
            }
        }
        let enforcer = block_on(async {
            let model = DefaultModel::from_str(MODEL).await.map_err(engine)?;
            let mut adapter = MemoryAdapter::default();
            // The memory adapter refuses a batch holding a rule it already has;
            // rules are deduplicated by the parser and the UNIQUE key, and
            // adding one at a time keeps a stray duplicate harmless anyway.
            for rule in permissions {
                adapter.add_policy("p", "p", rule).await.map_err(engine)?;
            }
            for rule in assignments {
                adapter.add_policy("g", "g", rule).await.map_err(engine)?;
            }
            Enforcer::new(model, adapter).await.map_err(engine)
        })??;
        Ok(Self { enforcer, version })
    }

    /// An engine that allows nothing (before the database has been read).
    pub fn empty() -> Result<Self, AuthzError> {
        Self::build(-1, &[])
    }

    /// The policy version this engine was built from.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// The roles `user_id` holds in `tenant` (directly or through role
    /// inheritance), sorted.
    pub fn roles(&self, user_id: &str, tenant: &str) -> Vec<String> {
        if !subject_ok(user_id) || !valid(&[tenant]) {
            return Vec::new();
        }
        let roles: BTreeSet<String> = self
            .enforcer
            .get_implicit_roles_for_user(user_id, Some(tenant))
            .into_iter()
            .collect();
        roles.into_iter().collect()
    }

    /// What `user_id` may do in `tenant`, through its roles, as sorted and
    /// deduplicated `object:action` strings.
    pub fn permissions(&self, user_id: &str, tenant: &str) -> Vec<String> {
        if !subject_ok(user_id) || !valid(&[tenant]) {
            return Vec::new();
        }
        let permissions: BTreeSet<String> = self
            .enforcer
            .get_implicit_permissions_for_user(user_id, Some(tenant))
            .into_iter()
            // Rows are [subject, tenant, object, action]; Casbin already
            // filtered on the tenant, checked again so nothing can leak.
            .filter(|p| p.len() == 4 && p[1] == tenant)
            .map(|p| format!("{}:{}", p[2], p[3]))
            .collect();
        permissions.into_iter().collect()
    }

    /// The tenants in which `user_id` holds any role, sorted.
    pub fn tenants(&self, user_id: &str) -> Vec<String> {
        if !subject_ok(user_id) {
            return Vec::new();
        }
        let tenants: BTreeSet<String> = self
            .enforcer
            .get_filtered_grouping_policy(0, vec![user_id.to_string()])
            .into_iter()
            .filter_map(|g| g.get(2).cloned())
            .collect();
        tenants.into_iter().collect()
    }

    /// Whether `user_id` may do `action` on `object` in `tenant`. An evaluation
    /// error denies (and is logged): authorization fails closed.
    pub fn allowed(&self, user_id: &str, tenant: &str, object: &str, action: &str) -> bool {
        if !subject_ok(user_id)
            || !valid(&[tenant, action])
            || super::rules::check_object(object).is_err()
        {
            return false;
        }
        match self.enforcer.enforce((user_id, tenant, object, action)) {
            Ok(allowed) => allowed,
            Err(e) => {
                tracing::error!(error = %e, "policy evaluation failed; denying");
                false
            }
        }
    }
}

/// Casbin's filtered queries read an empty value as "any field", so an empty
/// user id would collect every permission of a tenant. Anything a stored rule
/// could not contain matches nothing, and is answered as such before Casbin.
/// The first name is a subject (a user id or `client:<id>`), the rest names.
fn valid(names: &[&str]) -> bool {
    names.split_first().is_some_and(|(subject, rest)| {
        super::rules::check_subject(subject).is_ok()
            && rest.iter().all(|n| super::rules::check_name(n).is_ok())
    })
}

/// The same for a subject: a user id, a role, or a client's `client:<id>`.
fn subject_ok(subject: &str) -> bool {
    super::rules::check_subject(subject).is_ok()
}

/// Wakes the thread that is blocked in [`block_on`].
struct ThreadWaker(std::thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Run a future to completion on this thread. Unlike a Tokio runtime's
/// `block_on`, this works from any thread, inside a runtime or not; it suits
/// futures that never wait on a reactor, as Casbin's are with an in-memory
/// adapter.
fn block_on<F: Future>(future: F) -> Result<F::Output, AuthzError> {
    let mut future = std::pin::pin!(future);
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    // A future that stays pending that long is waiting on something that
    // cannot happen here; report it instead of hanging start-up.
    for _ in 0..10_000 {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(v) => return Ok(v),
            Poll::Pending => std::thread::park_timeout(std::time::Duration::from_millis(1)),
        }
    }
    Err(AuthzError::Engine(
        "building the policy engine did not complete".into(),
    ))
}
