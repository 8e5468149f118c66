//! Clients' key sets published at a `jwks_uri` (SMART App Launch 2.2.0
//! §"Backend Services", RFC 7523 §3, RFC 7591 §2 `jwks_uri`): fetched when
//! first needed, cached per client, fetched again when the cache is older
//! than [`TTL_MS`] or an assertion names a `kid` the cached set does not hold
//! (a client rotating its key), at most once per [`MIN_REFETCH_MS`] per
//! client, so an attacker sending assertions with made-up `kid`s cannot make
//! Ward hammer the client's server. Free of actix and of the database: the
//! protocol core calls it between its reads, never inside a transaction.
//!
//! `address` says which URLs and addresses Ward may fetch from, `fetch` does
//! the one `GET`. See docs/smart.md, "Backend Services".

pub mod address;
pub mod fetch;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;

use crate::clock::Millis;
pub use fetch::{Fetch, FetchError, HttpFetcher};

/// How long a fetched key set is used without asking again.
pub const TTL_MS: i64 = 5 * 60 * 1000;
/// The shortest time between two fetches for one client, whatever happens.
pub const MIN_REFETCH_MS: i64 = 10 * 1000;

/// Why there is no key set to verify with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeysError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The last attempt failed and the next is not due yet.
    #[error("the key set could not be fetched recently; not asking again yet")]
    RateLimited,
}

/// What the cache holds for one client.
#[derive(Debug, Clone)]
struct Entry {
    uri: String,
    keys: Option<Arc<Value>>,
    /// When `keys` were fetched.
    fetched_at: Millis,
    /// When a fetch was last started, successful or not.
    attempted_at: Millis,
}

impl Entry {
    fn fresh(&self, now: Millis) -> Option<&Arc<Value>> {
        self.keys
            .as_ref()
            .filter(|_| now - self.fetched_at < TTL_MS)
    }
}

/// What to do for one lookup.
enum Decision {
    Use(Arc<Value>),
    Fetch,
    Refuse,
}

/// The clients' fetched key sets, shared by every request of the server.
pub struct ClientKeys {
    fetcher: Box<dyn Fetch>,
    entries: Mutex<HashMap<String, Entry>>,
    /// One fetch at a time per client: requests arriving meanwhile wait and
    /// use its result.
    gates: Mutex<HashMap<String, Arc<Mutex<()>>>>,
}

impl std::fmt::Debug for ClientKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientKeys").finish_non_exhaustive()
    }
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Whether `set` holds a key with this `kid`.
fn holds(set: &Value, kid: &str) -> bool {
    set.get("keys")
        .and_then(Value::as_array)
        .is_some_and(|keys| {
            keys.iter()
                .any(|k| k.get("kid").and_then(Value::as_str) == Some(kid))
        })
}

impl ClientKeys {
    pub fn new(fetcher: Box<dyn Fetch>) -> Self {
        Self {
            fetcher,
            entries: Mutex::default(),
            gates: Mutex::default(),
        }
    }

    /// The server's: over HTTP, with the development switch as configured.
    pub fn http(allow_insecure: bool) -> Self {
        Self::new(Box::new(HttpFetcher { allow_insecure }))
    }

    /// The key set of `client_id`, published at `uri`, to verify an
    /// assertion whose header names `kid` (if any).
    pub fn keys(
        &self,
        client_id: &str,
        uri: &str,
        kid: Option<&str>,
        now: Millis,
    ) -> Result<Arc<Value>, KeysError> {
        if let Decision::Use(keys) = self.decide(client_id, uri, kid, now) {
            return Ok(keys);
        }
        let gate = locked(&self.gates)
            .entry(client_id.to_string())
            .or_default()
            .clone();
        let _one_fetch = locked(&gate);
        // Another request may have fetched while this one waited.
        match self.decide(client_id, uri, kid, now) {
            Decision::Use(keys) => return Ok(keys),
            Decision::Refuse => return Err(KeysError::RateLimited),
            Decision::Fetch => {}
        }
        self.started(client_id, uri, now);
        let fetched = self.fetcher.fetch(uri).map(Arc::new);
        if let Ok(keys) = &fetched
            && let Some(e) = locked(&self.entries)
                .get_mut(client_id)
                .filter(|e| e.uri == uri)
        {
            e.keys = Some(keys.clone());
            e.fetched_at = now;
        }
        Ok(fetched?)
    }

    fn decide(&self, client_id: &str, uri: &str, kid: Option<&str>, now: Millis) -> Decision {
        let entries = locked(&self.entries);
        // A client registered again with another URI starts afresh.
        let Some(e) = entries.get(client_id).filter(|e| e.uri == uri) else {
            return Decision::Fetch;
        };
        let fresh = e.fresh(now);
        if let Some(keys) = fresh
            && kid.is_none_or(|k| holds(keys, k))
        {
            return Decision::Use(keys.clone());
        }
        if now - e.attempted_at >= MIN_REFETCH_MS || now < e.attempted_at {
            return Decision::Fetch;
        }
        // Too soon to ask again: a fresh set is still the best answer (the
        // unknown `kid` then fails to verify); a stale or missing one is none.
        match fresh {
            Some(keys) => Decision::Use(keys.clone()),
            None => Decision::Refuse,
        }
    }

    fn started(&self, client_id: &str, uri: &str, now: Millis) {
        let mut entries = locked(&self.entries);
        match entries.get_mut(client_id).filter(|e| e.uri == uri) {
            Some(e) => e.attempted_at = now,
            None => {
                entries.insert(
                    client_id.to_string(),
                    Entry {
                        uri: uri.to_string(),
                        keys: None,
                        fetched_at: 0,
                        attempted_at: now,
                    },
                );
            }
        }
    }
}

#[cfg(test)]
mod tests;
