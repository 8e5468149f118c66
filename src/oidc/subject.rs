//! Which `sub` a client sees for a user (OpenID Connect Core 1.0 §8): the one
//! place that decides it, for the ID token, the access token, userinfo,
//! introspection and back-channel logout tokens; and the way back, from a
//! `sub` a client sends (an `id_token_hint`, a `claims` request's `sub`
//! value, an access token) to the local user.
//!
//! A `public` client sees the local user id. A `pairwise` one sees
//! `crypto::pairwise`'s keyed hash of its sector and the local id: stable,
//! the same for every client of the sector, different between sectors, and
//! not reversible without the key (§8.1). Nothing maps a pairwise `sub` back
//! by itself: the way back always knows the client (a token's audience or
//! `client_id`, or the grant) and the user it may be about (the session's,
//! or the grant's), and recomputes the `sub` to compare, so no table of
//! pairwise values is kept.

use serde_json::Value;

use super::Provider;
use super::error::OAuthError;
use crate::domain::records::Client;
use crate::domain::{Subject, UserId};
use crate::store::GrantRow;

/// The `sub` `client` sees for the local user `user_id`.
pub fn of(p: &Provider, client: &Client, user_id: &str) -> String {
    match &client.subject {
        Subject::Public => user_id.to_string(),
        Subject::Pairwise { sector, .. } => p.pairwise_key.subject(sector, user_id),
    }
}

/// Whether `sub`, as `client` knows its users, names the local user `user_id`.
pub fn names(p: &Provider, client: &Client, sub: &str, user_id: &str) -> bool {
    of(p, client, user_id) == sub
}

/// Whether the claims of an ID token Ward issued (an `id_token_hint`, checked
/// by the caller) are about the local user `user_id`: its `sub` is the one
/// its audience sees for them. An unknown audience names nobody.
pub fn hint_names(p: &Provider, claims: &Value, user_id: &str) -> Result<bool, OAuthError> {
    let Some(sub) = claims.get("sub").and_then(Value::as_str) else {
        return Ok(false);
    };
    let Some(aud) = audience(claims).and_then(crate::domain::ClientId::exact) else {
        return Ok(false);
    };
    Ok(p.store
        .client(&aud)?
        .is_some_and(|c| names(p, &c, sub, user_id)))
}

/// An ID token's single audience (Ward issues them to one client).
pub fn audience(claims: &Value) -> Option<&str> {
    match &claims["aud"] {
        Value::String(a) => Some(a),
        Value::Array(a) if a.len() == 1 => a[0].as_str(),
        _ => None,
    }
}

/// The local user a checked access token acts for: the user of its grant,
/// when the token's `sub` is the one the grant's client sees for them. None
/// for a token without a grant (client_credentials, whose `sub` is the
/// client) or one whose `sub` does not match.
pub fn user_of_access_token(
    p: &Provider,
    claims: &Value,
    grant: Option<&GrantRow>,
) -> Result<Option<UserId>, OAuthError> {
    let (Some(grant), Some(sub)) = (grant, claims.get("sub").and_then(Value::as_str)) else {
        return Ok(None);
    };
    let user = &grant.facts.user_id;
    Ok(p.store
        .client(&grant.client_id)?
        .filter(|c| names(p, c, sub, user.as_str()))
        .map(|_| user.clone()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::oidc::testing;
    use crate::store::memory::MemoryStore;

    fn pairwise(id: &str, sector: &str) -> Client {
        let mut c = testing::public_client();
        c.id = crate::domain::ClientId::parse(id).unwrap();
        c.subject = Subject::Pairwise {
            sector: sector.into(),
            sector_identifier_uri: None,
        };
        c
    }

    const USER: &str = "6f1d2c8e-8d0b-4b8a-9a43-2a4e2f0c1b11";

    #[test]
    fn a_public_client_sees_the_local_id_and_a_pairwise_one_its_sectors_hash() {
        let store = MemoryStore::new();
        let p = testing::provider(&store);
        assert_eq!(of(&p, &testing::public_client(), USER), USER);
        let a = of(&p, &pairwise("a", "a.example"), USER);
        assert_eq!(a, p.pairwise_key.subject("a.example", USER));
        assert_ne!(a, USER);
        // Same sector, same sub; another sector, another.
        assert_eq!(a, of(&p, &pairwise("a2", "a.example"), USER));
        assert_ne!(a, of(&p, &pairwise("b", "b.example"), USER));
        assert!(names(&p, &pairwise("a", "a.example"), &a, USER));
        assert!(!names(&p, &pairwise("b", "b.example"), &a, USER));
    }

    #[test]
    fn a_hint_names_a_user_through_its_audiences_sector() {
        let store = MemoryStore::new();
        let client = pairwise("app", "a.example");
        store.add_client(client.clone());
        let p = testing::provider(&store);
        let sub = of(&p, &client, USER);
        let hint = json!({ "sub": sub, "aud": "app" });
        assert!(hint_names(&p, &hint, USER).unwrap());
        assert!(!hint_names(&p, &hint, "someone-else").unwrap());
        // The local id is not what this client knows the user by.
        assert!(!hint_names(&p, &json!({ "sub": USER, "aud": "app" }), USER).unwrap());
        assert!(!hint_names(&p, &json!({ "sub": sub, "aud": "gone" }), USER).unwrap());
        assert!(!hint_names(&p, &json!({ "sub": sub, "aud": ["app", "x"] }), USER).unwrap());
    }
}
