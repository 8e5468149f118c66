//! How a person proves who they are. Only passwords so far; passkeys, TOTP,
//! recovery and email codes join here as the login state machine grows.

pub mod account;
pub mod factors;
pub mod login;
pub mod passkey_flow;
pub mod passkeys;
pub mod password;
pub mod recovery;
pub mod throttle;
pub mod totp;
