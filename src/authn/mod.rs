//! How a person proves who they are. Only passwords so far; passkeys, TOTP,
//! recovery and email codes join here as the login state machine grows.

pub mod login;
pub mod password;
pub mod throttle;
