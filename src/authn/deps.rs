//! What `authn` needs from the running server, as one value: the store, the
//! clock, the configuration, the password hasher, the keyring, the mailer,
//! and the protocol core's keys and policy for this request. The server
//! builds it from its `AppContext` ([`Deps::of`]); unit tests build it on
//! `store::memory::MemoryStore`, so the sign-in runs without a database.

use std::sync::Arc;

use crate::authn::password::Passwords;
use crate::authz::engine::PolicyEngine;
use crate::clock::{Clock, Millis};
use crate::config::Config;
use crate::context::AppContext;
use crate::crypto::keyring::Keyring;
use crate::mail::Mailer;
use crate::oidc::Provider;
use crate::oidc::keys::KeySet;
use crate::risk::GeoDb;
use crate::store::{Store, StoreError};

#[derive(Clone)]
pub struct Deps {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<Config>,
    pub passwords: Passwords,
    pub keyring: Keyring,
    pub mailer: Arc<Mailer>,
    pub geo: Option<Arc<GeoDb>>,
    /// The signing keys and the authorization policy as of this request
    /// (one version for the whole request, as `Authz::current` asks).
    pub keys: Arc<KeySet>,
    pub policy: Arc<PolicyEngine>,
    /// Clients' fetched key sets (the server's cache).
    pub client_keys: Arc<crate::jwks::ClientKeys>,
    /// The key of pairwise `sub` values (the server's).
    pub pairwise_key: crate::crypto::pairwise::PairwiseKey,
}

impl Deps {
    /// The server's: its database is the store.
    pub fn of(ctx: &AppContext) -> Self {
        Self {
            store: Arc::new(ctx.db.clone()),
            clock: ctx.clock.clone(),
            config: ctx.config.clone(),
            passwords: ctx.passwords.clone(),
            keyring: ctx.keyring.clone(),
            mailer: ctx.mailer.clone(),
            geo: ctx.geo.clone(),
            keys: ctx.keyset(),
            policy: ctx.authz.current(),
            client_keys: ctx.client_keys.clone(),
            pairwise_key: ctx.pairwise_key.clone(),
        }
    }

    pub fn now(&self) -> Millis {
        self.clock.now_ms()
    }

    /// Run store work on the blocking pool (every store method blocks).
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&dyn Store) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(&*store))
            .await
            .map_err(|_| StoreError::Unavailable)?
    }

    /// The protocol core's view, as `AppContext::provider` gives it.
    pub fn provider(&self) -> Provider<'_> {
        Provider {
            store: &*self.store,
            keys: &self.keys,
            issuer: &self.config.issuer,
            tokens: self.config.tokens,
            require_par: self.config.require_par,
            now: self.clock.now_ms(),
            policy: self.policy.clone(),
            risk: &self.config.risk,
            geo: self.geo.as_deref(),
            scope_min_acr: &self.config.scope_min_acr,
            client_keys: &self.client_keys,
            pairwise_key: &self.pairwise_key,
            consent_policy_version: &self.config.consent_policy_version,
        }
    }
}
