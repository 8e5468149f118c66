use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::InvalidValue;

/// A user's immutable identifier (UUIDv4): the OIDC `sub`. Random, so never reused.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(String);

impl UserId {
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    pub fn parse(value: &str) -> Option<Self> {
        uuid::Uuid::parse_str(value)
            .ok()
            .map(|u| Self(u.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A login name: 1-64 characters of letters, digits and `. _ - @`, case-insensitive
/// (stored lower-case so `Alice` and `alice` cannot both exist).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    pub const MAX_CHARS: usize = 64;

    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        let v = value.trim().to_lowercase();
        if v.is_empty() {
            return Err(InvalidValue::new("username", "must not be empty"));
        }
        if v.chars().count() > Self::MAX_CHARS {
            return Err(InvalidValue::new(
                "username",
                format!("must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        if !v
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
        {
            return Err(InvalidValue::new(
                "username",
                "may contain only letters, digits and . _ - @",
            ));
        }
        Ok(Self(v))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An email address, checked for shape only; ownership is proven by verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// RFC 5321 §4.5.3.1.3: a path is at most 256 octets, so an address at most 254.
    pub const MAX_LEN: usize = 254;

    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        let v = value.trim();
        if v.len() > Self::MAX_LEN {
            return Err(InvalidValue::new(
                "email",
                format!("must be at most {} bytes", Self::MAX_LEN),
            ));
        }
        let valid = match v.rsplit_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && local.len() <= 64
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !v.chars().any(|c| c.is_whitespace() || c.is_control())
            }
            None => false,
        };
        if !valid {
            return Err(InvalidValue::new(
                "email",
                "is not an email address (name@example.org)",
            ));
        }
        Ok(Self(v.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A name to show; any text without control characters, at most 128 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_CHARS: usize = 128;

    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        let v = value.trim();
        if v.is_empty() {
            return Err(InvalidValue::new("display_name", "must not be empty"));
        }
        if v.chars().count() > Self::MAX_CHARS {
            return Err(InvalidValue::new(
                "display_name",
                format!("must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        if v.chars().any(char::is_control) {
            return Err(InvalidValue::new(
                "display_name",
                "must not contain control characters",
            ));
        }
        Ok(Self(v.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    Active,
    Disabled,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Disabled => "disabled",
        }
    }
}

impl FromStr for UserStatus {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "active" => Ok(Self::Active),
            "disabled" => Ok(Self::Disabled),
            _ => Err(InvalidValue::new(
                "status",
                format!("`{s}` is not active or disabled"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_normalised_and_checked() {
        assert_eq!(
            Username::parse(" Alice.Smith ").unwrap().as_str(),
            "alice.smith"
        );
        assert!(Username::parse("").is_err());
        assert!(Username::parse("a b").is_err());
        assert!(Username::parse(&"x".repeat(65)).is_err());
        assert!(Username::parse("dr.müller").is_ok());
    }

    #[test]
    fn emails_are_checked_for_shape() {
        assert!(Email::parse("nurse@hospital.example").is_ok());
        for bad in ["", "no-at-sign", "@x.org", "a@b", "a b@c.org", "a@.org"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        assert!(Email::parse(&format!("{}@x.org", "a".repeat(250))).is_err());
    }

    #[test]
    fn user_ids_are_uuids() {
        let id = UserId::generate();
        assert_eq!(UserId::parse(id.as_str()), Some(id));
        assert_eq!(UserId::parse("alice"), None);
    }
}
