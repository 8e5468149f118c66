//! The accounting of disclosures (docs/privacy.md, "Accounting of
//! disclosures"; HIPAA 45 CFR 164.528, GDPR Art. 15(1)(c)): each time Ward
//! hands a client personal data about a person, one compact row says when,
//! to which client, under which `sub`, which claims (names, never values)
//! and scopes, under which consent, and in which tenant.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{ClientId, InvalidValue, UserId};
use crate::clock::Millis;

/// What was handed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DisclosureKind {
    /// A token response with an ID token (OIDC Core §3.1.3.3); the access
    /// token issued with it is part of the same disclosure.
    IdToken,
    /// A token response with an access token about a user and no ID token.
    AccessToken,
    /// A userinfo answer (OIDC Core §5.3).
    Userinfo,
    /// An introspection answer about a user's token (RFC 7662), to the
    /// client or resource server that asked.
    Introspection,
}

impl DisclosureKind {
    pub const ALL: [DisclosureKind; 4] = [
        Self::IdToken,
        Self::AccessToken,
        Self::Userinfo,
        Self::Introspection,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::IdToken => "id_token",
            Self::AccessToken => "access_token",
            Self::Userinfo => "userinfo",
            Self::Introspection => "introspection",
        }
    }
}

impl FromStr for DisclosureKind {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, InvalidValue> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| InvalidValue::new("kind", format!("`{s}` is not known")))
    }
}

/// One disclosure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Disclosure {
    pub id: String,
    pub disclosed_at: Millis,
    /// The person the data is about (the local user id).
    pub user_id: UserId,
    /// Who received it: for introspection, the client that introspected.
    pub client_id: ClientId,
    /// The `sub` that client saw (pairwise where it is registered so).
    pub sub: String,
    pub kind: DisclosureKind,
    /// The names of the claims about the person, sorted; never their values.
    pub claims: Vec<String>,
    /// The scopes of the token the disclosure was made under.
    pub scopes: Vec<String>,
    /// The consent record in force (the person's live consent for the
    /// client) when it was recorded; filled in by storage.
    pub consent_id: Option<String>,
    /// The tenant whose roles the token carried, if any.
    pub tenant: Option<String>,
    /// When writing: the client whose consent covers the disclosure when it
    /// is not the receiver (a resource server introspecting another
    /// client's token: the token's client). Not stored.
    #[serde(skip)]
    pub consent_client: Option<ClientId>,
}

impl Disclosure {
    /// A new row id: the time in 12 hex digits, then 20 random hex digits.
    /// Time-ordered, so that new rows append to the primary key's index
    /// instead of landing at random places in it (cheaper inserts), and the
    /// retention purge finds old rows by a range of it.
    pub fn new_id(at: Millis) -> String {
        let random = uuid::Uuid::new_v4().simple().to_string();
        format!("{:012x}{}", at.max(0), &random[..20])
    }

    /// The smallest id of a row made at `at` or later ([`Disclosure::new_id`]).
    pub fn first_id_at(at: Millis) -> String {
        format!("{:012x}", at.max(0))
    }
}

/// What a token response's audit record (`token.issued`) carries of its
/// disclosure, under the detail [`TokenDisclosure::DETAIL`]; the rest (when,
/// about whom, to which client) is the record's own. The audit sealer turns
/// it into a `disclosures` row when it chains the record, so a token
/// response costs no statement of its own for its accounting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenDisclosure {
    pub kind: String,
    pub sub: String,
    pub claims: Vec<String>,
    pub scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

impl TokenDisclosure {
    pub const DETAIL: &str = "disclosure";

    pub fn of(d: &Disclosure) -> Self {
        Self {
            kind: d.kind.as_str().to_string(),
            sub: d.sub.clone(),
            claims: d.claims.clone(),
            scopes: d.scopes.clone(),
            tenant: d.tenant.clone(),
        }
    }

    /// The row, for the record made at `at` about `user_id` to `client_id`;
    /// None when the detail is not one this release understands.
    pub fn into_disclosure(self, at: Millis, user_id: &str, client_id: &str) -> Option<Disclosure> {
        Some(Disclosure {
            id: Disclosure::new_id(at),
            disclosed_at: at,
            user_id: UserId::parse(user_id)?,
            client_id: ClientId::exact(client_id)?,
            sub: self.sub,
            kind: self.kind.parse().ok()?,
            claims: self.claims,
            scopes: self.scopes,
            consent_id: None,
            tenant: self.tenant,
            consent_client: None,
        })
    }
}

/// Where a page of a person's disclosures starts: older than this time, or
/// at this time with a smaller id (the order is newest first, then by id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Before {
    pub at: Millis,
    pub id: Option<String>,
}

impl Before {
    /// `MILLIS` or `MILLIS.ID` (the `next` cursor of a page).
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let bad = || {
            InvalidValue::new(
                "before",
                "expected a time in Unix milliseconds, or a `next` cursor",
            )
        };
        let (at, id) = match text.trim().split_once('.') {
            Some((at, id)) if !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric()) => {
                (at, Some(id.to_string()))
            }
            Some(_) => return Err(bad()),
            None => (text.trim(), None),
        };
        Ok(Self {
            at: at.parse().map_err(|_| bad())?,
            id,
        })
    }

    /// The cursor of the page after `d`.
    pub fn after(d: &Disclosure) -> String {
        format!("{}.{}", d.disclosed_at, d.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_cursors_parse() {
        for k in DisclosureKind::ALL {
            assert_eq!(k.as_str().parse::<DisclosureKind>().unwrap(), k);
        }
        assert!("token".parse::<DisclosureKind>().is_err());
        assert_eq!(Before::parse("12").unwrap(), Before { at: 12, id: None });
        assert_eq!(
            Before::parse("12.ab3").unwrap(),
            Before {
                at: 12,
                id: Some("ab3".into())
            }
        );
        for bad in ["", "x", "12.", "12.a-b", "1.2.3"] {
            assert!(Before::parse(bad).is_err(), "{bad}");
        }
        let (a, b) = (Disclosure::new_id(1_000), Disclosure::new_id(1_001));
        assert_eq!(a.len(), 32);
        assert!(a < b && Disclosure::first_id_at(1_001) <= b && Disclosure::first_id_at(1_001) > a);
    }
}
