//! What a sign-in proved, and what that is worth: the `acr` and `amr` values
//! Ward puts in ID tokens. Pure.
//!
//! `amr` values follow RFC 8176 §2 where one fits (`pwd`, `otp`, `hwk`, `swk`,
//! `user`, `mfa`); two are Ward's own, which RFC 8176 permits: `rec` for a
//! recovery code (a NIST SP 800-63B §5.1.2 look-up secret) and `email` for a
//! code sent by email. `acr` values: `aal1`, `aal2` (NIST SP 800-63B), and
//! `phr` / `phrh` (OpenID EAP ACR Values 1.0 §2: phishing-resistant, and
//! phishing-resistant with a hardware-protected key) for passkeys.

use serde::{Deserialize, Serialize};

pub const ACR_AAL1: &str = "aal1";
pub const ACR_AAL2: &str = "aal2";
pub const ACR_PHR: &str = "phr";
pub const ACR_PHRH: &str = "phrh";

/// Every acr Ward issues, weakest first.
pub const ACR_VALUES: &[&str] = &[ACR_AAL1, ACR_AAL2, ACR_PHR, ACR_PHRH];

/// The stronger of two optional acr requirements (None: no requirement).
pub fn stronger<'a>(a: Option<&'a str>, b: Option<&'a str>) -> Option<&'a str> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if acr_satisfies(x, y) { x } else { y }),
        (x, y) => x.or(y),
    }
}

/// The NIST SP 800-63B assurance level an acr stands for, for session
/// timeouts: `aal1` is 1; `aal2` and `phr` (a synced passkey; 800-63B-4 caps
/// syncable authenticators at AAL2) are 2; `phrh` (a device-bound passkey with
/// user verification, a multi-factor cryptographic authenticator) is 3.
/// Unknown values count as 1.
pub fn nist_aal(acr: &str) -> u8 {
    match acr {
        ACR_PHRH => 3,
        ACR_AAL2 | ACR_PHR => 2,
        _ => 1,
    }
}

/// One proof of identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Factor {
    Password,
    Totp,
    RecoveryCode,
    EmailCode,
    /// A passkey with user verification. `device_bound`: the credential cannot
    /// leave its authenticator (not backup-eligible).
    Passkey {
        device_bound: bool,
    },
}

impl Factor {
    /// The factor's own amr value (RFC 8176 §2, or Ward's `rec` / `email`).
    pub fn amr(&self) -> &'static str {
        match self {
            Factor::Password => "pwd",
            Factor::Totp => "otp",
            Factor::RecoveryCode => "rec",
            Factor::EmailCode => "email",
            Factor::Passkey { device_bound: true } => "hwk",
            Factor::Passkey {
                device_bound: false,
            } => "swk",
        }
    }
}

/// The assurance of a set of factors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assurance {
    pub acr: String,
    pub amr: Vec<String>,
}

/// A factor that, after a password, makes the sign-in multi-factor at AAL2.
/// Email is excluded: NIST SP 800-63B §5.1.3.1 forbids email for out-of-band
/// authentication.
fn is_aal2_second_factor(f: &Factor) -> bool {
    matches!(f, Factor::Totp | Factor::RecoveryCode)
}

pub fn assess(factors: &[Factor]) -> Assurance {
    let mut amr: Vec<String> = Vec::new();
    let mut push = |v: &str| {
        if !amr.iter().any(|a| a == v) {
            amr.push(v.to_string());
        }
    };
    let mut passkey: Option<bool> = None;
    for f in factors {
        push(f.amr());
        if let Factor::Passkey { device_bound } = f {
            // User verification (PIN or biometric) happened on the authenticator.
            push("user");
            passkey = Some(passkey.unwrap_or(false) || *device_bound);
        }
    }
    let has_password = factors.contains(&Factor::Password);
    let acr = match passkey {
        Some(true) => ACR_PHRH,
        Some(false) => ACR_PHR,
        None if has_password && factors.iter().any(is_aal2_second_factor) => ACR_AAL2,
        None => ACR_AAL1,
    };
    // A user-verified passkey is multi-factor on its own (possession + PIN or biometric).
    if acr != ACR_AAL1 {
        push("mfa");
    }
    Assurance {
        acr: acr.to_string(),
        amr,
    }
}

/// Whether `acr` meets `required` in Ward's ordering (`phrh` > `phr` > `aal2` > `aal1`).
pub fn acr_satisfies(acr: &str, required: &str) -> bool {
    let rank = |v: &str| ACR_VALUES.iter().position(|a| *a == v);
    matches!((rank(acr), rank(required)), (Some(a), Some(r)) if a >= r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(f: &[Factor]) -> (String, Vec<String>) {
        let a = assess(f);
        (a.acr, a.amr)
    }

    #[test]
    fn password_alone_is_aal1() {
        assert_eq!(of(&[Factor::Password]), ("aal1".into(), vec!["pwd".into()]));
    }

    #[test]
    fn password_and_totp_is_aal2_mfa() {
        let (acr, amr) = of(&[Factor::Password, Factor::Totp]);
        assert_eq!(acr, "aal2");
        assert_eq!(amr, vec!["pwd", "otp", "mfa"]);
        let (acr, amr) = of(&[Factor::Password, Factor::RecoveryCode]);
        assert_eq!(
            (acr.as_str(), amr),
            ("aal2", vec!["pwd".into(), "rec".into(), "mfa".into()])
        );
    }

    #[test]
    fn email_never_makes_aal2() {
        let (acr, amr) = of(&[Factor::Password, Factor::EmailCode]);
        assert_eq!(acr, "aal1");
        assert_eq!(amr, vec!["pwd", "email"]);
        assert_eq!(of(&[Factor::EmailCode]).0, "aal1");
        assert_eq!(
            of(&[Factor::RecoveryCode]).0,
            "aal1",
            "a recovery code alone"
        );
    }

    #[test]
    fn passkeys_are_phishing_resistant() {
        let (acr, amr) = of(&[Factor::Passkey {
            device_bound: false,
        }]);
        assert_eq!(acr, "phr");
        assert_eq!(amr, vec!["swk", "user", "mfa"]);
        let (acr, amr) = of(&[Factor::Password, Factor::Passkey { device_bound: true }]);
        assert_eq!(acr, "phrh");
        assert_eq!(amr, vec!["pwd", "hwk", "user", "mfa"]);
    }

    #[test]
    fn acr_ordering() {
        assert!(acr_satisfies("phrh", "phr"));
        assert!(acr_satisfies("aal2", "aal2"));
        assert!(!acr_satisfies("aal2", "phr"));
        assert!(!acr_satisfies("aal1", "aal2"));
        assert!(!acr_satisfies("unknown", "aal1"));
    }
}
