//! The fake's SMART on FHIR state: FHIR servers, EHR launches (single use,
//! as in the database) and users' FHIR resources.

use std::collections::HashMap;

use super::MemoryStore;
use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::store::{FhirAdminStore, FhirServer, LaunchRow, SmartStore, StoreError};

#[derive(Default)]
pub(super) struct SmartState {
    servers: Vec<FhirServer>,
    /// By launch hash.
    launches: HashMap<String, LaunchRow>,
    /// By user id.
    fhir_users: HashMap<String, String>,
}

impl SmartStore for MemoryStore {
    fn fhir_server(&self, base_url: &str) -> Result<Option<FhirServer>, StoreError> {
        let s = self.lock();
        Ok(s.smart
            .servers
            .iter()
            .find(|f| f.base_url == base_url)
            .cloned())
    }

    fn create_launch(&self, launch: &LaunchRow, audit: &AuditEvent) -> Result<(), StoreError> {
        let mut s = self.lock();
        if s.smart.launches.contains_key(&launch.launch_hash) {
            return Err(super::duplicate("launch"));
        }
        s.smart
            .launches
            .insert(launch.launch_hash.clone(), launch.clone());
        s.audit.push(audit.clone());
        Ok(())
    }

    fn launch(&self, launch_hash: &str) -> Result<Option<LaunchRow>, StoreError> {
        Ok(self.lock().smart.launches.get(launch_hash).cloned())
    }

    fn use_launch(
        &self,
        launch_hash: &str,
        now: Millis,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let mut s = self.lock();
        let Some(l) = s.smart.launches.get_mut(launch_hash) else {
            return Ok(false);
        };
        if l.used_at.is_some() || l.expires_at <= now {
            return Ok(false);
        }
        l.used_at = Some(now);
        s.audit.push(audit.clone());
        Ok(true)
    }

    fn fhir_user(&self, user_id: &str) -> Result<Option<String>, StoreError> {
        Ok(self.lock().smart.fhir_users.get(user_id).cloned())
    }
}

impl FhirAdminStore for MemoryStore {
    fn add_fhir_server(&self, server: &FhirServer, audit: &AuditEvent) -> Result<bool, StoreError> {
        let mut s = self.lock();
        if s.smart
            .servers
            .iter()
            .any(|f| f.base_url == server.base_url || f.id == server.id)
        {
            return Ok(false);
        }
        s.smart.servers.push(server.clone());
        s.audit.push(audit.clone());
        Ok(true)
    }

    fn list_fhir_servers(
        &self,
        audit: &dyn Fn(&[FhirServer]) -> AuditEvent,
    ) -> Result<Vec<FhirServer>, StoreError> {
        let mut s = self.lock();
        let mut list = s.smart.servers.clone();
        list.sort_by(|a, b| a.base_url.cmp(&b.base_url));
        s.audit.push(audit(&list));
        Ok(list)
    }

    fn remove_fhir_server(
        &self,
        id_or_base_url: &str,
        audit: &dyn Fn(&FhirServer) -> AuditEvent,
    ) -> Result<Option<FhirServer>, StoreError> {
        let mut s = self.lock();
        let Some(i) = s
            .smart
            .servers
            .iter()
            .position(|f| f.id == id_or_base_url || f.base_url == id_or_base_url)
        else {
            return Ok(None);
        };
        let removed = s.smart.servers.remove(i);
        s.audit.push(audit(&removed));
        Ok(Some(removed))
    }

    fn set_fhir_user(
        &self,
        user_id: &str,
        fhir_user: Option<&str>,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let mut s = self.lock();
        if !s.users.contains_key(user_id) {
            return Ok(false);
        }
        match fhir_user {
            Some(f) => s
                .smart
                .fhir_users
                .insert(user_id.to_string(), f.to_string()),
            None => s.smart.fhir_users.remove(user_id),
        };
        s.audit.push(audit.clone());
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Outcome;
    use crate::domain::ClientId;
    use crate::smart::LaunchContext;

    fn event() -> AuditEvent {
        AuditEvent::new(1, "test", "smart.launch_used", Outcome::Success)
    }

    #[test]
    fn a_launch_is_used_once_and_not_after_it_expires() {
        let store = MemoryStore::new();
        let row = |hash: &str| LaunchRow {
            launch_hash: hash.into(),
            tenant: "st-mary".into(),
            client_id: ClientId::parse("app").unwrap(),
            ehr_client_id: ClientId::parse("ehr").unwrap(),
            user_id: None,
            context: LaunchContext::default(),
            created_at: 0,
            expires_at: 100,
            used_at: None,
        };
        store.create_launch(&row("a"), &event()).unwrap();
        store.create_launch(&row("b"), &event()).unwrap();
        assert!(store.use_launch("a", 10, &event()).unwrap());
        assert!(!store.use_launch("a", 11, &event()).unwrap());
        assert_eq!(store.launch("a").unwrap().unwrap().used_at, Some(10));
        assert!(!store.use_launch("b", 100, &event()).unwrap());
        assert!(!store.use_launch("nope", 1, &event()).unwrap());
    }
}
