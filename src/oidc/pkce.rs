//! PKCE (RFC 7636) with S256 only: `plain` offers no protection against a
//! stolen authorization request, so Ward refuses it (RFC 9700 §2.1.1).
//!
//! Every client must use it unless it is a confidential client registered with
//! `pkce = optional`: such a client may protect its codes with the OpenID
//! Connect `nonce` instead (RFC 9700 §2.1.1, §4.5.3.2). What a client sent at
//! the authorization endpoint decides what the token endpoint accepts.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::OAuthError;
use crate::domain::{ClientType, PkcePolicy};

/// RFC 7636 §4.1/§4.2: 43-128 characters of `[A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"`.
fn well_formed(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Validate the challenge of an authorization request.
pub fn check_challenge(
    challenge: Option<&str>,
    method: Option<&str>,
) -> Result<String, OAuthError> {
    let challenge = challenge.ok_or_else(|| {
        OAuthError::invalid_request("code_challenge is required (PKCE, RFC 7636)")
    })?;
    match method {
        Some("S256") => {}
        None => {
            return Err(OAuthError::invalid_request(
                "code_challenge_method is required and must be S256",
            ));
        }
        Some(_) => {
            return Err(OAuthError::invalid_request(
                "code_challenge_method must be S256; plain is not allowed",
            ));
        }
    }
    // An S256 challenge is the base64url of a SHA-256 digest: exactly 43 characters.
    if challenge.len() != 43 || !well_formed(challenge) {
        return Err(OAuthError::invalid_request(
            "code_challenge is not a valid S256 challenge",
        ));
    }
    Ok(challenge.to_string())
}

/// The rule a client's requests follow: its registered policy, except that a
/// public client always needs PKCE (RFC 9700 §2.1.1: public clients MUST use
/// it), whatever its stored row says.
pub fn policy(client_type: ClientType, registered: PkcePolicy) -> PkcePolicy {
    match client_type {
        ClientType::Public => PkcePolicy::Required,
        ClientType::Confidential => registered,
    }
}

/// The PKCE part of an authorization request: the challenge to keep with the
/// code, or `None` when a client allowed to go without PKCE sent none.
///
/// A challenge, when sent, is always checked (S256 only) and later enforced at
/// the token endpoint (RFC 9700 §2.1.1). Without one, the `nonce` in the ID
/// token is what binds the code to the client's transaction (RFC 9700 §4.5.3.2),
/// so the request must be an OpenID request (an ID token is issued) with a nonce.
pub fn check_request(
    policy: PkcePolicy,
    challenge: Option<&str>,
    method: Option<&str>,
    scope: &[String],
    nonce: Option<&str>,
) -> Result<Option<String>, OAuthError> {
    match (policy, challenge, method) {
        (PkcePolicy::Optional, None, Some(_)) => Err(OAuthError::invalid_request(
            "code_challenge_method was sent without code_challenge",
        )),
        (PkcePolicy::Optional, None, None) => {
            if !scope.iter().any(|s| s == "openid") || nonce.is_none_or(str::is_empty) {
                return Err(OAuthError::invalid_request(
                    "without code_challenge (PKCE) this client must send scope openid and a \
                     nonce (RFC 9700 §2.1.1)",
                ));
            }
            Ok(None)
        }
        _ => check_challenge(challenge, method).map(Some),
    }
}

/// The PKCE part of a code redemption (RFC 7636 §4.5, §4.6). `challenge` is
/// the one stored with the code, if the authorization request had one.
pub fn check_redemption(challenge: Option<&str>, verifier: Option<&str>) -> Result<(), OAuthError> {
    match (challenge, verifier) {
        (Some(c), Some(v)) if verify(v, c) => Ok(()),
        (Some(_), Some(_)) => Err(OAuthError::invalid_grant("PKCE verification failed")),
        (Some(_), None) => Err(OAuthError::invalid_request(
            "code_verifier is required (PKCE)",
        )),
        // RFC 9700 §2.1.1, §4.8.2 (PKCE downgrade): a code_verifier is accepted
        // only if the authorization request carried a code_challenge. Otherwise
        // an attacker who stripped the challenge from the request would pass.
        (None, Some(_)) => Err(OAuthError::invalid_grant(
            "code_verifier sent, but the authorization request had no code_challenge",
        )),
        (None, None) => Ok(()),
    }
}

/// Does the verifier match the stored challenge? (constant time)
pub fn verify(verifier: &str, challenge: &str) -> bool {
    if !well_formed(verifier) {
        return false;
    }
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    computed.as_bytes().ct_eq(challenge.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_example() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(verify(verifier, challenge));
        assert!(!verify(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX",
            challenge
        ));
        assert_eq!(
            check_challenge(Some(challenge), Some("S256")).unwrap(),
            challenge
        );
    }

    #[test]
    fn plain_and_missing_are_refused() {
        let c = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(check_challenge(Some(c), Some("plain")).is_err());
        assert!(check_challenge(Some(c), None).is_err());
        assert!(check_challenge(None, Some("S256")).is_err());
        assert!(check_challenge(Some("short"), Some("S256")).is_err());
        assert!(!verify("short", c));
    }

    const C: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    const V: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

    fn scope(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn public_clients_always_need_pkce() {
        use ClientType::{Confidential, Public};
        use PkcePolicy::{Optional, Required};
        assert_eq!(policy(Public, Optional), Required);
        assert_eq!(policy(Public, Required), Required);
        assert_eq!(policy(Confidential, Optional), Optional);
        assert_eq!(policy(Confidential, Required), Required);
    }

    #[test]
    fn a_required_policy_needs_a_challenge_even_with_a_nonce() {
        let openid = scope("openid profile");
        let err = check_request(PkcePolicy::Required, None, None, &openid, Some("n")).unwrap_err();
        assert_eq!(err.code, "invalid_request");
        assert!(err.description.contains("code_challenge is required"));
        assert_eq!(
            check_request(PkcePolicy::Required, Some(C), Some("S256"), &openid, None).unwrap(),
            Some(C.to_string())
        );
    }

    #[test]
    fn an_optional_policy_without_a_challenge_needs_openid_and_a_nonce() {
        let openid = scope("openid profile");
        assert_eq!(
            check_request(PkcePolicy::Optional, None, None, &openid, Some("n-0S6")).unwrap(),
            None
        );
        for (scope, nonce) in [
            (openid.clone(), None),
            (openid.clone(), Some("")),
            (scope("profile email"), Some("n-0S6")),
        ] {
            let err = check_request(PkcePolicy::Optional, None, None, &scope, nonce).unwrap_err();
            assert_eq!(err.code, "invalid_request", "{scope:?} {nonce:?}");
            assert!(err.description.contains("nonce"), "{}", err.description);
        }
        // A method alone is a mistake, not a request without PKCE.
        assert!(
            check_request(PkcePolicy::Optional, None, Some("S256"), &openid, Some("n")).is_err()
        );
    }

    #[test]
    fn an_optional_policy_still_checks_a_challenge_it_is_sent() {
        let openid = scope("openid");
        assert_eq!(
            check_request(PkcePolicy::Optional, Some(C), Some("S256"), &openid, None).unwrap(),
            Some(C.to_string())
        );
        for method in [Some("plain"), None] {
            assert!(
                check_request(PkcePolicy::Optional, Some(C), method, &openid, Some("n")).is_err()
            );
        }
        assert!(
            check_request(
                PkcePolicy::Optional,
                Some("short"),
                Some("S256"),
                &openid,
                Some("n")
            )
            .is_err()
        );
    }

    #[test]
    fn redemption_follows_what_the_request_carried() {
        assert!(check_redemption(Some(C), Some(V)).is_ok());
        let code = |r: Result<(), OAuthError>| r.unwrap_err().code;
        assert_eq!(
            code(check_redemption(Some(C), Some(&V.replace('k', "K")))),
            "invalid_grant"
        );
        assert_eq!(code(check_redemption(Some(C), None)), "invalid_request");
        assert!(check_redemption(None, None).is_ok());
        // PKCE downgrade (RFC 9700 §4.8.2): a verifier for a code without a challenge.
        assert_eq!(code(check_redemption(None, Some(V))), "invalid_grant");
    }
}
