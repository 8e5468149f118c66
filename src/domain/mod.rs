//! Ward's vocabulary: validated newtypes and enums, free of HTTP and SQL.
//! A value of one of these types has passed its checks; parse at the edge.

pub mod client;
pub mod profile;
pub mod user;

pub use client::{ClientId, ClientType, GrantType, PkcePolicy, RedirectUri, Scope};
pub use user::{DisplayName, Email, UserId, UserStatus, Username};

/// Why a value was refused, phrased for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InvalidValue {
    pub field: &'static str,
    pub message: String,
}

impl InvalidValue {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}
