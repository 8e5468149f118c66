//! What names a browser session.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A browser session's identifier as Ward keeps it: the SHA-256 hash (hex)
/// of the session cookie's random value. The cookie value is a bearer secret
/// that only the browser holds (`session::start` hands it out once, and
/// `session::id_of` hashes what a request brings); every layer below the
/// cookie names the session by this value, and tokens by the `sid` derived
/// from it (`session::sid`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionId(String);

impl SessionId {
    /// The id a stored hash names (a session row's key, or the hash of a cookie).
    pub fn from_hash(hash: impl Into<String>) -> Self {
        Self(hash.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
