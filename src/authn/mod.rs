//! How a person proves who they are: the sign-in state machine (`signin`),
//! the check of each factor (`login`: password, TOTP, recovery and emailed
//! codes; `passkey_flow`: passkeys), throttling, and the account's own
//! changes to its factors (`account`).

pub mod account;
pub mod factors;
pub mod login;
pub mod passkey_flow;
pub mod recovery;
pub mod signin;
pub mod throttle;
pub mod totp;

// The primitives moved below `context`, which holds them; these paths stay for
// the flows and the callers outside the crate (tests, benches).
pub use crate::credentials::{passkeys, password};
