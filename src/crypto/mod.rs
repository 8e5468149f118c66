//! Cryptography Ward uses, all from RustCrypto crates: sealing secrets at rest,
//! hashing generated secrets, and the token-signing keys.

pub mod keyring;
pub mod secrets;
pub mod signing;
pub mod verify;
