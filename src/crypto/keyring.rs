//! The keyring seals secrets at rest with AES-256-GCM under the master key.
//!
//! A sealed value is the text `ward1.<key id>.<base64url(nonce || ciphertext || tag)>`.
//! The key id says which master key sealed it, so a wrong key is reported as
//! exactly that instead of as corruption, and a rotation can tell what is left to
//! re-seal. Every value is bound to a context string (e.g. `signing_key:<kid>`)
//! through the AEAD associated data, so a sealed value copied into another row
//! does not open there.

use std::fmt;
use std::io::Write;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, OsRng, Payload};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand_core::RngCore;
use sha2::{Digest, Sha256};

const PREFIX: &str = "ward1";
const NONCE_LEN: usize = 12;
/// The largest secret Ward seals (signing keys are about 1.2 KiB).
pub const MAX_PLAINTEXT: usize = 1 << 20;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyringError {
    #[error("sealed value is malformed")]
    Malformed,
    #[error("sealed by master key {sealed_by}, but the configured master key is {configured}")]
    WrongKey {
        sealed_by: String,
        configured: String,
    },
    #[error("sealed value failed authentication (tampered, or bound to another context)")]
    Tampered,
    #[error("master key: {0}")]
    BadKey(String),
}

/// A 256-bit master key. Its id is derived from the key, never the other way round.
#[derive(Clone)]
pub struct MasterKey {
    key: Key<Aes256Gcm>,
    id: String,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterKey({})", self.id)
    }
}

impl MasterKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        let mut h = Sha256::new();
        h.update(b"ward master key id\0");
        h.update(bytes);
        let id = hex::encode(&h.finalize()[..6]);
        Self {
            key: Key::<Aes256Gcm>::from(bytes),
            id,
        }
    }

    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        Self::from_bytes(bytes)
    }

    pub fn from_base64(text: &str) -> Result<Self, KeyringError> {
        let bytes = STANDARD
            .decode(text.trim())
            .or_else(|_| URL_SAFE_NO_PAD.decode(text.trim()))
            .map_err(|_| KeyringError::BadKey("not valid base64".into()))?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| KeyringError::BadKey("must decode to exactly 32 bytes".into()))?;
        Ok(Self::from_bytes(bytes))
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(&self.key[..])
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Read a key file (base64 text).
    pub fn read_file(path: &Path) -> Result<Self, KeyringError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| KeyringError::BadKey(format!("cannot read {}: {e}", path.display())))?;
        Self::from_base64(&text)
            .map_err(|e| KeyringError::BadKey(format!("{}: {e}", path.display())))
    }

    /// Write a key file readable by its owner only (mode 0600), refusing to overwrite.
    pub fn write_new_file(&self, path: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path)?;
        writeln!(file, "{}", self.to_base64())?;
        file.sync_all()?;
        sync_parent_dir(path)
    }
}

/// Make a file's creation or rename durable: fsync the directory that holds it.
pub fn sync_parent_dir(path: &Path) -> std::io::Result<()> {
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => std::fs::File::open(dir)?.sync_all(),
        None => Ok(()),
    }
}

/// Seals and opens secrets with one master key.
#[derive(Clone, Debug)]
pub struct Keyring {
    master: MasterKey,
}

impl Keyring {
    pub fn new(master: MasterKey) -> Self {
        Self { master }
    }

    pub fn key_id(&self) -> &str {
        self.master.id()
    }

    /// A key for one purpose (say, signing device cookies), derived from the
    /// master key with HKDF-SHA256 (RFC 5869), so that the master key itself
    /// only ever encrypts. Rotating the master key changes every derived key.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        let hk = hkdf::Hkdf::<Sha256>::new(Some(b"ward derived key"), &self.master.key[..]);
        let mut out = [0u8; 32];
        hk.expand(purpose.as_bytes(), &mut out)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        out
    }

    pub fn seal(&self, context: &str, plaintext: &[u8]) -> String {
        let cipher = Aes256Gcm::new(&self.master.key);
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        // Encryption with a valid key and a 12-byte nonce cannot fail for inputs
        // below the AES-GCM size limit (64 GiB), which no secret approaches.
        // AES-GCM refuses only plaintexts over 64 GiB; Ward seals keys and seeds of
        // a few kilobytes at most, and refuses anything over 1 MiB before this point.
        assert!(
            plaintext.len() <= MAX_PLAINTEXT,
            "sealing more than 1 MiB is a programming error"
        );
        let ciphertext = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .expect("AES-GCM encryption of at most 1 MiB cannot fail");
        let mut blob = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&ciphertext);
        format!(
            "{PREFIX}.{}.{}",
            self.master.id,
            URL_SAFE_NO_PAD.encode(blob)
        )
    }

    pub fn open(
        &self,
        context: &str,
        sealed: &str,
    ) -> Result<zeroize::Zeroizing<Vec<u8>>, KeyringError> {
        let (key_id, blob) = split_sealed(sealed)?;
        if key_id != self.master.id {
            return Err(KeyringError::WrongKey {
                sealed_by: key_id.to_string(),
                configured: self.master.id.clone(),
            });
        }
        let blob = URL_SAFE_NO_PAD
            .decode(blob)
            .map_err(|_| KeyringError::Malformed)?;
        if blob.len() < NONCE_LEN + 16 {
            return Err(KeyringError::Malformed);
        }
        let (nonce, ciphertext) = blob.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| KeyringError::Malformed)?;
        Aes256Gcm::new(&self.master.key)
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map(zeroize::Zeroizing::new)
            .map_err(|_| KeyringError::Tampered)
    }

    /// Open with this keyring and seal again with `next` (master-key rotation).
    pub fn reseal(
        &self,
        next: &Keyring,
        context: &str,
        sealed: &str,
    ) -> Result<String, KeyringError> {
        let plain = self.open(context, sealed)?;
        Ok(next.seal(context, &plain))
    }
}

/// The id of the master key that sealed `sealed`.
pub fn sealed_key_id(sealed: &str) -> Option<&str> {
    split_sealed(sealed).ok().map(|(id, _)| id)
}

fn split_sealed(sealed: &str) -> Result<(&str, &str), KeyringError> {
    let mut parts = sealed.splitn(3, '.');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(PREFIX), Some(id), Some(blob)) if !id.is_empty() => Ok((id, blob)),
        _ => Err(KeyringError::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_in_the_same_context() {
        let k = Keyring::new(MasterKey::generate());
        let sealed = k.seal("totp:alice", b"JBSWY3DPEHPK3PXP");
        assert!(sealed.starts_with(&format!("ward1.{}.", k.key_id())));
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_eq!(
            &**k.open("totp:alice", &sealed).unwrap(),
            b"JBSWY3DPEHPK3PXP"
        );
    }

    #[test]
    fn same_plaintext_seals_differently_each_time() {
        let k = Keyring::new(MasterKey::generate());
        assert_ne!(k.seal("c", b"x"), k.seal("c", b"x"));
    }

    #[test]
    fn other_context_fails() {
        let k = Keyring::new(MasterKey::generate());
        let sealed = k.seal("totp:alice", b"secret");
        assert_eq!(k.open("totp:mallory", &sealed), Err(KeyringError::Tampered));
    }

    #[test]
    fn wrong_key_is_named_not_mistaken_for_corruption() {
        let a = Keyring::new(MasterKey::generate());
        let b = Keyring::new(MasterKey::generate());
        let sealed = a.seal("c", b"secret");
        assert!(matches!(
            b.open("c", &sealed),
            Err(KeyringError::WrongKey { .. })
        ));
    }

    #[test]
    fn tampering_is_detected() {
        let k = Keyring::new(MasterKey::generate());
        let sealed = k.seal("c", b"secret");
        let mut bytes = sealed.into_bytes();
        let last = bytes.len() - 3;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert_eq!(k.open("c", &tampered), Err(KeyringError::Tampered));
        assert_eq!(k.open("c", "ward1.abc"), Err(KeyringError::Malformed));
        assert_eq!(k.open("c", "garbage"), Err(KeyringError::Malformed));
    }

    #[test]
    fn reseal_moves_a_value_to_the_next_key() {
        let old = Keyring::new(MasterKey::generate());
        let new = Keyring::new(MasterKey::generate());
        let sealed = old.seal("c", b"secret");
        let resealed = old.reseal(&new, "c", &sealed).unwrap();
        assert_eq!(sealed_key_id(&resealed), Some(new.key_id()));
        assert_eq!(&**new.open("c", &resealed).unwrap(), b"secret");
    }

    #[test]
    fn base64_round_trip_and_validation() {
        let k = MasterKey::generate();
        assert_eq!(MasterKey::from_base64(&k.to_base64()).unwrap().id(), k.id());
        assert!(MasterKey::from_base64("c2hvcnQ=").is_err());
        assert!(MasterKey::from_base64("%%%").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn key_file_is_private_and_never_overwritten() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/master.key");
        let k = MasterKey::generate();
        k.write_new_file(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(MasterKey::read_file(&path).unwrap().id(), k.id());
        assert!(MasterKey::generate().write_new_file(&path).is_err());
    }
}
