//! How a person proves who they are: the sign-in state machine (`signin`),
//! the check of each factor (`login`: password, TOTP, recovery and emailed
//! codes; `passkey_flow`: passkeys), throttling, and the account's own
//! changes to its factors (`account`). Everything reaches storage through the
//! `store` traits held by [`Deps`], so the sign-in runs on the in-memory fake
//! in unit tests.

pub mod account;
pub mod deps;
pub mod factors;
pub mod login;
pub mod passkey_flow;
pub mod recovery;
pub mod signin;
pub mod throttle;
pub mod totp;

pub use deps::Deps;
// The primitives moved below `context`, which holds them; these paths stay for
// the flows and the callers outside the crate (tests, benches).
pub use crate::credentials::{passkeys, password};
