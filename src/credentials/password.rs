//! Passwords: argon2id hashing and NIST SP 800-63B §5.1.1.2 rules.
//!
//! Hashing is deliberately slow (~15 ms at the OWASP parameters), so the async
//! entry points run it on the blocking pool: a burst of logins must never stall
//! the async workers that answer token and health requests. An unknown account
//! still costs one verification against a dummy hash, so the response time does
//! not reveal whether the account exists.

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand_core::OsRng;

use crate::config::PasswordParams;

/// NIST SP 800-63B §5.1.1.2: at least 8 characters.
pub const MIN_CHARS: usize = 8;
/// Inputs are capped at 1,024 bytes (NIST asks for at least 64 characters) so a
/// multi-megabyte "password" cannot be used to burn CPU.
pub const MAX_BYTES: usize = 1024;

static COMMON_PASSWORDS: &str = include_str!("../../data/common-passwords-10k.txt");

fn common_passwords() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        COMMON_PASSWORDS
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()
    })
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordPolicyError {
    #[error("the password must be at least {MIN_CHARS} characters long")]
    TooShort,
    #[error("the password must be at most {MAX_BYTES} bytes long")]
    TooLong,
    #[error("this password is one of the most commonly used passwords; choose another")]
    Common,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum PasswordError {
    #[error(transparent)]
    Policy(#[from] PasswordPolicyError),
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error("the password worker was interrupted")]
    Interrupted,
}

/// NIST rules: length only, no composition rules, and no commonly used passwords.
pub fn check_policy(password: &str) -> Result<(), PasswordPolicyError> {
    if password.len() > MAX_BYTES {
        return Err(PasswordPolicyError::TooLong);
    }
    if password.chars().count() < MIN_CHARS {
        return Err(PasswordPolicyError::TooShort);
    }
    if common_passwords().contains(password.to_lowercase().as_str()) {
        return Err(PasswordPolicyError::Common);
    }
    Ok(())
}

/// argon2id hasher with fixed parameters and a dummy hash for unknown accounts.
#[derive(Clone)]
pub struct Passwords {
    inner: Arc<Inner>,
}

struct Inner {
    argon2: Argon2<'static>,
    dummy_hash: String,
    /// At most this many hashes run at once, leaving a core for everything else.
    slots: tokio::sync::Semaphore,
}

/// One fewer than the cores (at least one): a burst of logins queues here
/// instead of taking every core from the request handlers.
fn concurrent_hashes() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get().saturating_sub(1))
        .unwrap_or(1)
        .max(1)
}

impl Passwords {
    pub fn new(params: PasswordParams) -> Result<Self, PasswordError> {
        let params = Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            None,
        )
        .map_err(|e| PasswordError::Hashing(e.to_string()))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let salt = SaltString::generate(&mut OsRng);
        let dummy_hash = argon2
            .hash_password(b"ward dummy password for unknown accounts", &salt)
            .map_err(|e| PasswordError::Hashing(e.to_string()))?
            .to_string();
        Ok(Self {
            inner: Arc::new(Inner {
                argon2,
                dummy_hash,
                slots: tokio::sync::Semaphore::new(concurrent_hashes()),
            }),
        })
    }

    /// Check the policy and hash (blocking; prefer [`Self::hash_async`] in async code).
    pub fn hash(&self, password: &str) -> Result<String, PasswordError> {
        let _span = tracing::info_span!("password.hash").entered();
        check_policy(password)?;
        let salt = SaltString::generate(&mut OsRng);
        self.inner
            .argon2
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| PasswordError::Hashing(e.to_string()))
    }

    /// Verify against a stored hash, or against the dummy hash when there is none
    /// (unknown account, or no password set) so that both cost the same. Blocking.
    pub fn verify(&self, password: &str, stored: Option<&str>) -> bool {
        let _span = tracing::info_span!("password.verify").entered();
        // Over-long input is refused before hashing, for every account alike.
        if password.len() > MAX_BYTES {
            return false;
        }
        let (hash, real) = match stored {
            Some(h) => (h, true),
            None => (self.inner.dummy_hash.as_str(), false),
        };
        let Ok(parsed) = PasswordHash::new(hash) else {
            return false;
        };
        let ok = self
            .inner
            .argon2
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        ok && real
    }

    pub async fn hash_async(&self, password: String) -> Result<String, PasswordError> {
        let _slot = self
            .inner
            .slots
            .acquire()
            .await
            .map_err(|_| PasswordError::Interrupted)?;
        let this = self.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(|| this.hash(&password)))
            .await
            .map_err(|_| PasswordError::Interrupted)?
    }

    pub async fn verify_async(&self, password: String, stored: Option<String>) -> bool {
        let Ok(_slot) = self.inner.slots.acquire().await else {
            return false;
        };
        let this = self.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            span.in_scope(|| this.verify(&password, stored.as_deref()))
        })
        .await
        .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passwords() -> Passwords {
        Passwords::new(PasswordParams {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        })
        .unwrap()
    }

    #[test]
    fn policy_follows_nist() {
        assert_eq!(check_policy("short"), Err(PasswordPolicyError::TooShort));
        assert_eq!(check_policy("password"), Err(PasswordPolicyError::Common));
        assert_eq!(check_policy("PASSWORD"), Err(PasswordPolicyError::Common));
        assert_eq!(
            check_policy(&"x".repeat(MAX_BYTES + 1)),
            Err(PasswordPolicyError::TooLong)
        );
        // No composition rules: a long lower-case passphrase is fine.
        assert_eq!(check_policy("correct horse battery staple"), Ok(()));
        // 64 characters (NIST's minimum maximum) are accepted; multi-byte characters count as one.
        assert_eq!(check_policy(&"ü".repeat(64)), Ok(()));
        assert_eq!(check_policy("üüüüüüüü"), Ok(()));
    }

    #[test]
    fn the_shipped_list_is_loaded() {
        assert_eq!(common_passwords().len(), 10_000);
    }

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let p = passwords();
        let h = p.hash("tulip-anaesthesia-42").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(p.verify("tulip-anaesthesia-42", Some(&h)));
        assert!(!p.verify("tulip-anaesthesia-43", Some(&h)));
        assert!(!p.verify("tulip-anaesthesia-42", Some("not a phc string")));
    }

    #[test]
    fn unknown_accounts_never_verify_but_cost_a_hash() {
        let p = passwords();
        let start = std::time::Instant::now();
        assert!(!p.verify("whatever-password", None));
        // The dummy verification did real argon2 work (not a short-cut).
        assert!(start.elapsed() >= std::time::Duration::from_millis(2));
    }
}
