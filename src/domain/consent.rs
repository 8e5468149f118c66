//! Consent records (docs/privacy.md, "Consent records"): what a person agreed
//! a client may receive, for which stated purpose, when and how; and when and
//! how they took it back (GDPR Art. 7(1): the controller must be able to show
//! consent was given; Art. 7(3): withdrawing must be as easy as giving).

use std::str::FromStr;

use serde::Serialize;

use super::InvalidValue;
use crate::clock::Millis;

/// How a consent was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentGiven {
    /// The person answered "Allow" on the consent page.
    Page,
    /// Implied by policy: the client is registered `first_party` (Ward's own
    /// or the hospital's app), so no page was shown.
    FirstParty,
}

/// How a consent was withdrawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentWithdrawn {
    /// By the person, on `/account/apps`.
    Account,
    /// By an administrator with `ward user withdraw-consent`.
    Cli,
    /// By an administrator through `/admin/api`.
    AdminApi,
}

macro_rules! spelled {
    ($t:ty, $field:literal, $($v:ident => $s:literal),+) => {
        impl $t {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$v => $s),+ }
            }
        }
        impl FromStr for $t {
            type Err = InvalidValue;
            fn from_str(s: &str) -> Result<Self, InvalidValue> {
                match s {
                    $($s => Ok(Self::$v),)+
                    other => Err(InvalidValue::new($field, format!("`{other}` is not known"))),
                }
            }
        }
    };
}

spelled!(ConsentGiven, "given_by", Page => "page", FirstParty => "first_party");
spelled!(ConsentWithdrawn, "withdrawn_by", Account => "account", Cli => "cli", AdminApi => "admin_api");

/// One version of a user's consent for a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsentRecord {
    /// A random id that later records (disclosures) can refer to.
    pub id: String,
    pub user_id: String,
    pub client_id: crate::domain::ClientId,
    /// 1 for the first consent of this user for this client, then +1 each time.
    pub version: i64,
    /// The scopes consented to, sorted.
    pub scopes: Vec<String>,
    /// The user claims consented to, sorted; None for a consent remembered
    /// before consent records existed (then: the claims of its scopes).
    pub claims: Option<Vec<String>>,
    /// The client's purpose text when the consent was given.
    pub purpose: Option<String>,
    pub given_at: Millis,
    pub given_by: ConsentGiven,
    /// The operator's consent policy version (`consent_policy_version`) then.
    pub policy_version: String,
    pub withdrawn_at: Option<Millis>,
    pub withdrawn_by: Option<ConsentWithdrawn>,
}

impl ConsentRecord {
    pub fn is_live(&self) -> bool {
        self.withdrawn_at.is_none()
    }
}

/// The longest purpose text a client may register.
pub const MAX_PURPOSE_CHARS: usize = 500;

/// A client's purpose text: trimmed, 1 to 500 characters, no control
/// characters (it is shown on the consent page as it is).
pub fn check_purpose(text: &str) -> Result<String, InvalidValue> {
    let t = text.trim();
    if t.is_empty() || t.chars().count() > MAX_PURPOSE_CHARS {
        return Err(InvalidValue::new(
            "purpose",
            format!("must be 1 to {MAX_PURPOSE_CHARS} characters"),
        ));
    }
    if t.chars().any(char::is_control) {
        return Err(InvalidValue::new(
            "purpose",
            "must not contain control characters (line breaks included)",
        ));
    }
    Ok(t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ways_of_giving_and_withdrawing_round_trip() {
        for g in [ConsentGiven::Page, ConsentGiven::FirstParty] {
            assert_eq!(g.as_str().parse::<ConsentGiven>().unwrap(), g);
        }
        for w in [
            ConsentWithdrawn::Account,
            ConsentWithdrawn::Cli,
            ConsentWithdrawn::AdminApi,
        ] {
            assert_eq!(w.as_str().parse::<ConsentWithdrawn>().unwrap(), w);
        }
        assert!("email".parse::<ConsentWithdrawn>().is_err());
    }

    #[test]
    fn purposes_are_short_plain_text() {
        assert_eq!(
            check_purpose("  Book appointments. ").unwrap(),
            "Book appointments."
        );
        assert!(check_purpose("  ").is_err());
        assert!(check_purpose("a\nb").is_err());
        assert!(check_purpose(&"x".repeat(501)).is_err());
        assert!(check_purpose(&"é".repeat(500)).is_ok());
    }
}
