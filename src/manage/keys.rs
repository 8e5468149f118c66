//! Signing-key lifecycle and master-key rotation.

use serde::Serialize;

use crate::audit::{AuditEvent, Outcome};
use crate::clock::Millis;
use crate::context::AppContext;
use crate::crypto::keyring::Keyring;
use crate::crypto::signing::{self, Algorithm, SigningKeyMaterial};
use crate::store::SigningKeyStore;
use crate::store::signing_keys::{ACTIVE, StoredSigningKey, signing_key_context};

use super::{ManageError, audited};

/// Extra time a retired key stays published beyond the longest token lifetime,
/// for clock skew and caches of the JWKS.
const PUBLISH_GRACE_MS: Millis = 5 * 60 * 1000;

#[derive(Debug, Clone, Serialize)]
pub struct KeyInfo {
    pub kid: String,
    pub alg: String,
    /// `active`, `retired` (still published) or `expired` (no longer published).
    pub state: String,
    pub created_at: Millis,
    pub retired_at: Option<Millis>,
    pub publish_until: Option<Millis>,
}

fn info(k: &StoredSigningKey, now: Millis) -> KeyInfo {
    let state = match (k.state.as_str(), k.publish_until) {
        (ACTIVE, _) => "active",
        (_, Some(until)) if until > now => "retired",
        _ => "expired",
    };
    KeyInfo {
        kid: k.kid.clone(),
        alg: k.alg.clone(),
        state: state.to_string(),
        created_at: k.created_at,
        retired_at: k.retired_at,
        publish_until: k.publish_until,
    }
}

fn seal(keyring: &Keyring, key: &SigningKeyMaterial, now: Millis) -> StoredSigningKey {
    StoredSigningKey {
        kid: key.kid.clone(),
        alg: key.alg.as_str().to_string(),
        state: ACTIVE.to_string(),
        private_key_sealed: keyring.seal(&signing_key_context(&key.kid), &key.private_pkcs8_der),
        public_jwk: key.public_jwk.to_string(),
        created_at: now,
        retired_at: None,
        publish_until: None,
    }
}

fn event(ctx: &AppContext, actor: &str, kind: &str) -> AuditEvent {
    AuditEvent::new(ctx.clock.now_ms(), actor, kind, Outcome::Success)
}

/// First start: make sure an ES256 and an RS256 key are active.
/// Several nodes starting together may race; the unique index on active keys
/// per algorithm lets exactly one win, and the others simply find its key.
pub fn ensure_active_keys(ctx: &AppContext) -> Result<Vec<String>, ManageError> {
    let mut created = Vec::new();
    for alg in Algorithm::ALL {
        if ctx.db.active_signing_key(alg.as_str())?.is_some() {
            continue;
        }
        let key = signing::generate(alg)?;
        let now = ctx.clock.now_ms();
        let stored = seal(&ctx.keyring, &key, now);
        let record = event(ctx, "system", "signing_key.create")
            .detail("kid", key.kid.as_str())
            .detail("alg", alg.as_str())
            .reason("initial_key");
        // False: another node starting at the same time won the race.
        if ctx.db.add_signing_key(&stored, &record)? {
            created.push(key.kid);
        }
    }
    Ok(created)
}

pub fn list(ctx: &AppContext, actor: &str) -> Result<Vec<KeyInfo>, ManageError> {
    let now = ctx.clock.now_ms();
    let keys = ctx
        .db
        .signing_keys(|keys| event(ctx, actor, "signing_key.list").detail("count", keys.len()))?;
    Ok(keys.iter().map(|k| info(k, now)).collect())
}

/// Create a new active key for `alg`; the previous one is retired but stays
/// published until every token it signed has expired.
pub fn rotate(
    ctx: &AppContext,
    actor: &str,
    alg: &str,
) -> Result<(KeyInfo, Option<KeyInfo>), ManageError> {
    let refusal = || event(ctx, actor, "signing_key.rotate").detail("alg", alg);
    audited(ctx, refusal, || {
        let alg: Algorithm = alg.parse()?;
        let key = signing::generate(alg)?;
        let now = ctx.clock.now_ms();
        let publish_until = now
            + i64::from(ctx.config.tokens.longest_signed_token_seconds()) * 1000
            + PUBLISH_GRACE_MS;
        let stored = seal(&ctx.keyring, &key, now);
        let record = |previous: Option<&StoredSigningKey>| {
            let mut e = event(ctx, actor, "signing_key.rotate")
                .detail("kid", key.kid.as_str())
                .detail("alg", alg.as_str());
            if let Some(prev) = previous {
                e = e
                    .detail("retired_kid", prev.kid.as_str())
                    .detail("publish_until", publish_until);
            }
            e
        };
        let retired = ctx
            .db
            .rotate_signing_key(&stored, now, publish_until, record)?;
        Ok((info(&stored, now), retired.map(|k| info(&k, now))))
    })
}

/// The active key for `alg`, opened with the keyring (for signing tokens).
pub fn load_active(ctx: &AppContext, alg: Algorithm) -> Result<SigningKeyMaterial, ManageError> {
    let stored = ctx
        .db
        .active_signing_key(alg.as_str())?
        .ok_or_else(|| ManageError::NotFound(format!("no active {alg} signing key")))?;
    Ok(crate::context::keys::open(&ctx.keyring, &stored)?)
}

/// Re-seal every stored secret under `next`, and record it. Returns the count.
/// The caller persists `next` only after this commits (see `cli::keys`).
pub fn rotate_master(ctx: &AppContext, actor: &str, next: &Keyring) -> Result<usize, ManageError> {
    let now = ctx.clock.now_ms();
    let refusal = || {
        event(ctx, actor, "master_key.rotate")
            .detail("from", ctx.keyring.key_id())
            .detail("to", next.key_id())
    };
    audited(ctx, refusal, || {
        let record = |count: usize| {
            event(ctx, actor, "master_key.rotate")
                .detail("from", ctx.keyring.key_id())
                .detail("to", next.key_id())
                .detail("resealed", count)
        };
        Ok(ctx.db.reseal_secrets(&ctx.keyring, next, now, record)?)
    })
}
