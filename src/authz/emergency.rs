//! Break-glass emergency access (HIPAA 45 CFR 164.312(a)(2)(ii)), the rules:
//! who may elevate, with what proof, and why. Pure; storage and audit are the
//! caller's (`manage::break_glass`).

use crate::clock::Millis;
use crate::domain::acr::Acr;

/// The role an elevation adds in its tenant (defined per tenant in the policy).
pub const EMERGENCY_ROLE: &str = "emergency";
/// The permission that allows elevating: `emergency:elevate`.
pub const ELEVATE: (&str, &str) = ("emergency", "elevate");
/// A reason is a sentence, not a checkbox.
const MIN_REASON_CHARS: usize = 10;
const MAX_REASON_CHARS: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("You do not have emergency access in this organisation.")]
    NotPermitted,
    #[error(
        "Emergency access needs a fresh sign-in with a second factor or a passkey. Sign in again, then retry."
    )]
    NeedsFreshStrongSignIn,
    #[error("Give the reason for emergency access in a sentence (at least 10 characters).")]
    ReasonMissing,
    #[error("The reason is too long (at most 500 characters).")]
    ReasonTooLong,
}

/// What the request comes with.
pub struct Request<'a> {
    /// The user holds `emergency:elevate` in the tenant.
    pub permitted: bool,
    /// The session's acr.
    pub acr: Acr,
    pub auth_time: Millis,
    pub now: Millis,
    pub max_auth_age_ms: Millis,
    pub reason: &'a str,
}

/// Check a request; returns the reason as it will be recorded.
pub fn check(r: &Request<'_>) -> Result<String, Refusal> {
    if !r.permitted {
        return Err(Refusal::NotPermitted);
    }
    if !r.acr.satisfies(Acr::Aal2) || r.now - r.auth_time > r.max_auth_age_ms {
        return Err(Refusal::NeedsFreshStrongSignIn);
    }
    let reason: String = r
        .reason
        .trim()
        .chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .collect();
    match reason.chars().count() {
        n if n < MIN_REASON_CHARS => Err(Refusal::ReasonMissing),
        n if n > MAX_REASON_CHARS => Err(Refusal::ReasonTooLong),
        _ => Ok(reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request<'a>(acr: &'a str, age: Millis, reason: &'a str) -> Request<'a> {
        Request {
            permitted: true,
            acr: Acr::parse(acr).unwrap(),
            auth_time: 1_000_000 - age,
            now: 1_000_000,
            max_auth_age_ms: 300_000,
            reason,
        }
    }

    #[test]
    fn fresh_strong_sign_in_and_a_reason() {
        assert_eq!(
            check(&request("aal2", 10_000, "  Unconscious patient in A&E  ")),
            Ok("Unconscious patient in A&E".into())
        );
        assert!(check(&request("phr", 0, "Cardiac arrest, bed 4")).is_ok());
    }

    #[test]
    fn refusals() {
        let reason = "Cardiac arrest, bed 4";
        assert_eq!(
            check(&request("aal1", 0, reason)),
            Err(Refusal::NeedsFreshStrongSignIn)
        );
        assert_eq!(
            check(&request("aal2", 300_001, reason)),
            Err(Refusal::NeedsFreshStrongSignIn)
        );
        assert_eq!(
            check(&request("aal2", 0, "urgent")),
            Err(Refusal::ReasonMissing)
        );
        assert_eq!(
            check(&request("aal2", 0, &"x".repeat(501))),
            Err(Refusal::ReasonTooLong)
        );
        let mut r = request("phrh", 0, reason);
        r.permitted = false;
        assert_eq!(check(&r), Err(Refusal::NotPermitted));
    }
}
