//! The tamper-evident audit trail: what a record holds, and the hash chain.
//!
//! Records are written in the same database transaction as the change they
//! describe, without a chain position (so writers never wait on each other). A
//! single sealer per database (see `app::sealer`) then gives pending records
//! their place in the chain in batches: `hash = SHA-256(prev_hash || canonical
//! content)`. `ward audit verify` walks the chain and names the first record whose
//! stored hash does not match its content or predecessor.

pub mod chain;
pub mod event;
pub mod sealed;

pub use chain::{ChainVerifier, GENESIS_HASH, VerifyFailure};
pub use event::{AuditEvent, AuditRecord, Outcome};
