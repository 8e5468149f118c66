//! `MemoryStore`: an in-memory test double implementing every store trait.
//!
//! It is compiled into the library (not only under `cfg(test)`) so that unit
//! tests anywhere in the crate can build a `Provider` without a database. It
//! keeps the semantics callers rely on: authorization requests and codes are
//! single use, a rotated refresh token cannot be rotated again, a session
//! ends once, a client assertion's `jti` is accepted once, and live rows are
//! filtered by `now`. It does not keep the audit hash chain or the back-channel
//! logout outbox; recorded audit events are kept in order for assertions.
//! What `authn` needs (factors, codes, throttle counters, sign-ins in
//! progress) is in factors.rs and signin.rs.
//!
//! One mutex guards all maps, so every method is atomic on its own, as the
//! database implementation's transactions are.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

mod factors;
mod grants;
mod signin;
mod smart;

use super::{
    AuditStore, AuthRequestRow, AuthRequestStore, BreakGlassStore, ClientStore, CodeRow, GrantRow,
    HistoryQuery, RefreshRow, RiskHistory, RiskStore, SessionRow, SessionStore, SignInSeen,
    StoreError, UserStore,
};
use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::domain::records::Client;
use crate::domain::records::User;
use crate::domain::{ClientId, SessionId, UserId, UserStatus};
use crate::risk::Familiarity;

/// A break-glass elevation as the fake keeps it.
#[derive(Debug, Clone)]
struct Elevation {
    id: String,
    user_id: String,
    tenant: String,
    started_at: Millis,
    expires_at: Millis,
}

#[derive(Default)]
struct State {
    clients: HashMap<ClientId, Client>,
    /// By user id: the user and their password hash.
    users: HashMap<String, (User, Option<String>)>,
    /// By id hash: the request and when it was used.
    auth_requests: HashMap<String, (AuthRequestRow, Option<Millis>)>,
    sessions: HashMap<SessionId, SessionRow>,
    /// By (user, client): the sorted scopes and when they were granted.
    consents: Vec<crate::domain::consent::ConsentRecord>,
    codes: HashMap<String, CodeRow>,
    grants: HashMap<String, GrantRow>,
    refresh: HashMap<String, RefreshRow>,
    /// By jti: when the revocation may be forgotten.
    revoked_jtis: HashMap<String, Millis>,
    /// By (client, jti): when the assertion expires.
    assertions: HashMap<(ClientId, String), Millis>,
    audit: Vec<AuditEvent>,
    /// Disclosures recorded, in order.
    disclosures: Vec<crate::domain::disclosure::Disclosure>,
    /// By user id; users without an entry have no history.
    risk: HashMap<String, RiskHistory>,
    break_glass: Vec<Elevation>,
    /// Factors, codes, throttle counters and sign-ins in progress (factors.rs, signin.rs).
    authn: factors::AuthnState,
    /// FHIR servers, EHR launches and users' FHIR resources (smart.rs).
    smart: smart::SmartState,
}

impl State {
    /// Whether the user exists and is active; `None` if they do not exist (the
    /// database's joins then find nothing).
    fn user_active(&self, user_id: &str) -> Option<bool> {
        self.users
            .get(user_id)
            .map(|(u, _)| u.status == UserStatus::Active)
    }

    fn with_user_status(&self, mut grant: GrantRow) -> Option<GrantRow> {
        grant.user_active = self.user_active(grant.facts.user_id.as_str())?;
        Some(grant)
    }

    /// End a live session and revoke its online grants; false if already ended.
    fn end_session(&mut self, id: &SessionId, now: Millis) -> bool {
        let Some(s) = self.sessions.get_mut(id).filter(|s| s.ended_at.is_none()) else {
            return false;
        };
        s.ended_at = Some(now);
        // As the database does: grants with offline_access outlive the session.
        for g in self.grants.values_mut() {
            if g.facts.session_hash.as_ref() == Some(id)
                && g.revoked_at.is_none()
                && !g.scope.join(" ").contains("offline_access")
            {
                g.revoked_at = Some(now);
            }
        }
        true
    }
}

/// An in-memory store for tests; see the module documentation.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A test that panicked while holding the lock leaves usable maps.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn add_client(&self, client: Client) {
        self.lock().clients.insert(client.id.clone(), client);
    }

    /// Add (or replace) a user, with their password hash if they have one.
    pub fn add_user(&self, user: User, password_hash: Option<String>) {
        self.lock()
            .users
            .insert(user.id.to_string(), (user, password_hash));
    }

    pub fn set_user_status(&self, user_id: &str, status: UserStatus) {
        if let Some((u, _)) = self.lock().users.get_mut(user_id) {
            u.status = status;
        }
    }

    pub fn set_risk_history(&self, user_id: &str, history: RiskHistory) {
        self.lock().risk.insert(user_id.to_string(), history);
    }

    pub fn add_break_glass(
        &self,
        id: &str,
        user_id: &str,
        tenant: &str,
        started_at: Millis,
        expires_at: Millis,
    ) {
        self.lock().break_glass.push(Elevation {
            id: id.to_string(),
            user_id: user_id.to_string(),
            tenant: tenant.to_string(),
            started_at,
            expires_at,
        });
    }

    /// Every audit event recorded so far, oldest first.
    pub fn audit_events(&self) -> Vec<AuditEvent> {
        self.lock().audit.clone()
    }

    /// The event types recorded so far, oldest first.
    pub fn audit_types(&self) -> Vec<String> {
        self.lock()
            .audit
            .iter()
            .map(|e| e.event_type.clone())
            .collect()
    }

    /// The disclosures recorded so far, oldest first, for assertions.
    pub fn disclosures(&self) -> Vec<crate::domain::disclosure::Disclosure> {
        self.lock().disclosures.clone()
    }

    /// The grants stored so far (any state), for assertions.
    pub fn grants(&self) -> Vec<GrantRow> {
        self.lock().grants.values().cloned().collect()
    }
}

fn duplicate(what: &str) -> StoreError {
    StoreError::Internal(format!("duplicate {what}"))
}

impl ClientStore for MemoryStore {
    fn client(&self, id: &ClientId) -> Result<Option<Client>, StoreError> {
        Ok(self.lock().clients.get(id).cloned())
    }
}

impl UserStore for MemoryStore {
    fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        Ok(self.lock().users.get(id).map(|(u, _)| u.clone()))
    }

    fn user_with_password(
        &self,
        username: &str,
    ) -> Result<Option<(User, Option<String>)>, StoreError> {
        Ok(self
            .lock()
            .users
            .values()
            .find(|(u, _)| u.username == username)
            .cloned())
    }

    fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        Ok(self.user_with_password(username)?.map(|(u, _)| u))
    }
}

impl AuthRequestStore for MemoryStore {
    fn save_auth_request(&self, row: &AuthRequestRow) -> Result<(), StoreError> {
        let mut s = self.lock();
        if s.auth_requests.contains_key(&row.id_hash) {
            return Err(duplicate("authorization request"));
        }
        s.auth_requests
            .insert(row.id_hash.clone(), (row.clone(), None));
        Ok(())
    }

    fn auth_request(
        &self,
        id_hash: &str,
        now: Millis,
    ) -> Result<Option<AuthRequestRow>, StoreError> {
        Ok(self
            .lock()
            .auth_requests
            .get(id_hash)
            .filter(|(r, used)| used.is_none() && r.expires_at > now)
            .map(|(r, _)| r.clone()))
    }

    fn update_auth_request(&self, id_hash: &str, params: &str) -> Result<(), StoreError> {
        if let Some((r, None)) = self.lock().auth_requests.get_mut(id_hash) {
            r.params = params.to_string();
        }
        Ok(())
    }

    fn update_auth_request_audited(
        &self,
        id_hash: &str,
        params: &str,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let mut s = self.lock();
        let Some((r, None)) = s.auth_requests.get_mut(id_hash) else {
            return Ok(false);
        };
        r.params = params.to_string();
        s.audit.push(audit.clone());
        Ok(true)
    }

    fn use_auth_request(&self, id_hash: &str, now: Millis) -> Result<bool, StoreError> {
        Ok(match self.lock().auth_requests.get_mut(id_hash) {
            Some((_, used @ None)) => {
                *used = Some(now);
                true
            }
            _ => false,
        })
    }
}

impl SessionStore for MemoryStore {
    fn create_session(
        &self,
        row: &SessionRow,
        replaces: Option<&SessionId>,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        if s.sessions.contains_key(&row.id_hash) {
            return Err(duplicate("session"));
        }
        if let Some(old) = replaces {
            s.end_session(old, row.created_at);
        }
        s.sessions.insert(row.id_hash.clone(), row.clone());
        s.audit.push(audit.clone());
        Ok(())
    }

    fn session(&self, id: &SessionId) -> Result<Option<SessionRow>, StoreError> {
        Ok(self.lock().sessions.get(id).cloned())
    }

    fn touch_session(&self, id: &SessionId, now: Millis) -> Result<(), StoreError> {
        if let Some(row) = self.lock().sessions.get_mut(id) {
            row.last_seen_at = now;
        }
        Ok(())
    }

    fn mark_session_shared(&self, id: &SessionId) -> Result<(), StoreError> {
        if let Some(row) = self.lock().sessions.get_mut(id) {
            row.shared_workstation = true;
        }
        Ok(())
    }

    fn end_session(
        &self,
        id: &SessionId,
        now: Millis,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let mut s = self.lock();
        let ended = s.end_session(id, now);
        if ended {
            s.audit.push(audit.clone());
        }
        Ok(ended)
    }

    fn user_sessions(&self, user_id: &UserId, limit: i64) -> Result<Vec<SessionRow>, StoreError> {
        let s = self.lock();
        let mut mine: Vec<_> = s
            .sessions
            .values()
            .filter(|r| &r.user_id == user_id)
            .cloned()
            .collect();
        mine.sort_by(|a, b| (b.created_at, &b.id_hash).cmp(&(a.created_at, &a.id_hash)));
        mine.truncate(usize::try_from(limit).unwrap_or(0));
        Ok(mine)
    }
}

impl AuditStore for MemoryStore {
    fn audit(&self, event: AuditEvent) -> Result<(), StoreError> {
        self.lock().audit.push(event);
        Ok(())
    }
}

impl super::DisclosureStore for MemoryStore {
    fn disclose(
        &self,
        disclosure: crate::domain::disclosure::Disclosure,
    ) -> Result<(), StoreError> {
        self.lock().disclosures.push(disclosure);
        Ok(())
    }
}

impl RiskStore for MemoryStore {
    fn risk_history(&self, q: &HistoryQuery) -> Result<RiskHistory, StoreError> {
        let known = self.lock().risk.get(&q.user_id).cloned();
        Ok(known.unwrap_or(RiskHistory {
            device: Familiarity::NoHistory,
            network: Familiarity::NoHistory,
            account_failures: 0,
            address_failures: 0,
            last_location: None,
        }))
    }

    /// Only the browser is remembered: the history the risk engine reads is
    /// what a test set with [`MemoryStore::set_risk_history`].
    fn remember_sign_in(&self, seen: &SignInSeen, _now: Millis) -> Result<bool, StoreError> {
        let key = (seen.user_id.clone(), seen.device_hash.clone());
        Ok(self.lock().authn.devices.insert(key))
    }
}

impl BreakGlassStore for MemoryStore {
    fn active_break_glass(
        &self,
        user_id: &str,
        tenant: &str,
        now: Millis,
    ) -> Result<Option<(String, Millis)>, StoreError> {
        // The latest-expiring elevation in force, as the database orders them.
        Ok(self
            .lock()
            .break_glass
            .iter()
            .filter(|e| e.user_id == user_id && e.tenant == tenant)
            .filter(|e| e.started_at <= now && e.expires_at > now)
            .max_by_key(|e| e.expires_at)
            .map(|e| (e.id.clone(), e.expires_at)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Outcome;
    use crate::store::{AuthFacts, GrantStore};

    fn event() -> AuditEvent {
        AuditEvent::new(0, "test", "test.event", Outcome::Success)
    }

    fn user() -> UserId {
        UserId::parse("00000000-0000-4000-8000-000000000001").unwrap()
    }

    fn id(hash: &str) -> SessionId {
        SessionId::from_hash(hash)
    }

    fn session(hash: &str) -> SessionRow {
        SessionRow {
            id_hash: id(hash),
            user_id: user(),
            created_at: 10,
            last_seen_at: 10,
            expires_at: 1000,
            auth_time: 10,
            acr: crate::domain::Acr::Aal1,
            amr: vec![crate::domain::Amr::Pwd],
            ip: None,
            user_agent: None,
            ended_at: None,
            device_hash: None,
            factor_times: Default::default(),
            shared_workstation: false,
        }
    }

    fn grant(grant_id: &str, scope: &str) -> GrantRow {
        GrantRow {
            id: grant_id.into(),
            client_id: ClientId::parse("c").unwrap(),
            scope: scope.split(' ').map(str::to_string).collect(),
            nonce: None,
            facts: AuthFacts {
                user_id: user(),
                auth_time: 10,
                acr: crate::domain::Acr::Aal1,
                amr: vec![],
                session_hash: Some(id("s1")),
                tenant: None,
            },
            created_at: 10,
            expires_at: 1000,
            revoked_at: None,
            user_active: true,
            claims: None,
            smart: None,
        }
    }

    #[test]
    fn auth_requests_are_single_use_and_expire() {
        let store = MemoryStore::new();
        let row = AuthRequestRow {
            id_hash: "r".into(),
            client_id: ClientId::parse("c").unwrap(),
            params: "{}".into(),
            pushed: true,
            browser_hash: None,
            created_at: 0,
            expires_at: 100,
        };
        store.save_auth_request(&row).unwrap();
        assert!(store.save_auth_request(&row).is_err(), "a duplicate id");
        assert_eq!(store.auth_request("r", 99).unwrap(), Some(row));
        assert_eq!(store.auth_request("r", 100).unwrap(), None, "expired");
        assert!(store.use_auth_request("r", 50).unwrap());
        assert!(!store.use_auth_request("r", 51).unwrap());
        assert_eq!(store.auth_request("r", 52).unwrap(), None, "used");
        assert!(!store.use_auth_request("unknown", 50).unwrap());
    }

    #[test]
    fn ending_a_session_once_revokes_its_online_grants() {
        let store = MemoryStore::new();
        store
            .create_session(&session("s1"), None, &event())
            .unwrap();
        {
            let mut s = store.lock();
            s.grants.insert("g1".into(), grant("g1", "openid"));
            s.grants
                .insert("g2".into(), grant("g2", "openid offline_access"));
        }
        assert!(store.end_session(&id("s1"), 20, &event()).unwrap());
        assert!(!store.end_session(&id("s1"), 21, &event()).unwrap());
        assert!(!store.end_session(&id("unknown"), 21, &event()).unwrap());
        let s = store.lock();
        assert_eq!(s.grants["g1"].revoked_at, Some(20));
        assert_eq!(
            s.grants["g2"].revoked_at, None,
            "offline_access outlives it"
        );
        assert_eq!(s.sessions[&id("s1")].ended_at, Some(20));
        assert_eq!(s.audit.len(), 2, "creation and the one ending");
    }

    #[test]
    fn assertion_jtis_are_remembered_until_they_expire() {
        let store = MemoryStore::new();
        let (c, other) = (
            ClientId::parse("c").unwrap(),
            ClientId::parse("other").unwrap(),
        );
        assert!(store.remember_assertion(&c, "j", 100, 0).unwrap());
        assert!(!store.remember_assertion(&c, "j", 100, 50).unwrap());
        assert!(store.remember_assertion(&other, "j", 100, 50).unwrap());
        assert!(store.remember_assertion(&c, "j", 300, 101).unwrap());
    }
}
