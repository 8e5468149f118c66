//! A short-lived cache of clients: every token request authenticates its client,
//! and a database read per request would be most of the work of a
//! client_credentials grant. Entries live [`TTL`]; a change made by another
//! process (the CLI, another node) is seen within that time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::clients::Client;
use crate::domain::ClientId;

pub const TTL: Duration = Duration::from_secs(2);
/// Unknown ids are never cached, and the cache never grows past this.
const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub struct ClientCache {
    entries: Mutex<HashMap<ClientId, (Instant, Client)>>,
}

impl ClientCache {
    pub fn get(&self, id: &ClientId) -> Option<Client> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(id)
            .filter(|(at, _)| at.elapsed() < TTL)
            .map(|(_, c)| c.clone())
    }

    pub fn put(&self, client: &Client) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES {
                entries.retain(|_, (at, _)| at.elapsed() < TTL);
                if entries.len() >= MAX_ENTRIES {
                    return;
                }
            }
            entries.insert(client.id.clone(), (Instant::now(), client.clone()));
        }
    }
}
