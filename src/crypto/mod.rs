//! Cryptography Ward uses, all from RustCrypto crates: sealing secrets at rest,
//! hashing generated secrets, the token-signing keys, and the keyed hash of
//! pairwise subject identifiers.

pub mod data_key;
pub mod keyring;
pub mod pairwise;
pub mod secrets;
pub mod signing;
pub mod verify;
