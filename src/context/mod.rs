//! [`AppContext`]: what a request or a command needs (configuration, database,
//! keyring, clock, mailer, the credential primitives, the signing keys, the
//! authorization policy), shared by `authn`, `manage`, `web` and `cli`.
//!
//! It sits below the operations that take it and depends only on lower layers,
//! so that taking a context never imports the start-up code. Building one
//! (connect, check the master key, migrate, ensure keys) is `app::AppContext::open`,
//! the composition root.

pub mod keys;

use std::sync::{Arc, RwLock};

use crate::authz::Authz;
use crate::clock::Clock;
use crate::config::Config;
use crate::credentials::passkeys::Passkeys;
use crate::credentials::password::Passwords;
use crate::crypto::keyring::Keyring;
use crate::crypto::pairwise::PairwiseKey;
use crate::jwks::ClientKeys;
use crate::mail::Mailer;
use crate::oidc::Provider;
use crate::oidc::keys::KeySet;
use crate::risk::GeoDb;
use crate::storage::Database;

pub use keys::KeyLoadError;

/// Everything a request or a command needs. Cheap to clone.
#[derive(Clone)]
pub struct AppContext {
    /// The signing keys in memory; replaced whole when keys are rotated or reloaded.
    pub keys: LiveKeys,
    pub config: Arc<Config>,
    pub db: Database,
    pub keyring: Keyring,
    pub passwords: Passwords,
    pub clock: Arc<dyn Clock>,
    /// Sends the templated emails (docs/mail.md); `enabled()` is false for transport `none`.
    pub mailer: Arc<Mailer>,
    /// The WebAuthn relying party (RP id and origin from the issuer).
    pub passkeys: Arc<Passkeys>,
    /// Signs the long-lived browser (device) cookie (`session::device`).
    pub device_key: [u8; 32],
    /// The key of pairwise subject identifiers (`oidc::subject`), stored sealed.
    pub pairwise_key: PairwiseKey,
    /// The GeoIP database for the risk engine's impossible-travel signal, when configured.
    pub geo: Option<Arc<GeoDb>>,
    /// The authorization policy (Casbin), reloaded when the database's policy
    /// version moves (docs/authorization.md).
    pub authz: Authz,
    /// Clients' key sets fetched from their `jwks_uri`, cached (docs/smart.md).
    pub client_keys: Arc<ClientKeys>,
}

/// The signing keys shared by every clone of a context. Empty until the first
/// [`AppContext::reload_keys`]; only that replaces them, so readers take the
/// whole set with [`AppContext::keyset`] and never see half a rotation.
#[derive(Clone, Default)]
pub struct LiveKeys(Arc<RwLock<Arc<KeySet>>>);

impl AppContext {
    /// The current key set (cheap: one reference count).
    pub fn keyset(&self) -> Arc<KeySet> {
        self.keys.0.read().map(|k| k.clone()).unwrap_or_default()
    }

    /// Load the published and active keys from the database (at start, after a
    /// rotation, and periodically so that every node follows rotations).
    pub fn reload_keys(&self) -> Result<(), KeyLoadError> {
        let set = Arc::new(keys::load_keyset(
            &self.db,
            &self.keyring,
            self.clock.now_ms(),
        )?);
        if let Ok(mut k) = self.keys.0.write() {
            *k = set;
        }
        Ok(())
    }

    /// The protocol core's view of this context for one request.
    pub fn provider<'a>(&'a self, keys: &'a KeySet) -> Provider<'a> {
        Provider {
            store: &self.db,
            keys,
            issuer: &self.config.issuer,
            tokens: self.config.tokens,
            require_par: self.config.require_par,
            now: self.clock.now_ms(),
            policy: self.authz.current(),
            risk: &self.config.risk,
            geo: self.geo.as_deref(),
            scope_min_acr: &self.config.scope_min_acr,
            client_keys: &self.client_keys,
            pairwise_key: &self.pairwise_key,
            consent_policy_version: &self.config.consent_policy_version,
        }
    }
}
