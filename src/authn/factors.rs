//! What a sign-in proved, and what that is worth: factors -> the `acr` and
//! `amr` values Ward puts in ID tokens. Pure. The values themselves, their
//! order and the standards they come from are in `domain::acr`.

use serde::{Deserialize, Serialize};

use crate::domain::acr::{Acr, Amr};

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
    pub fn amr(&self) -> Amr {
        match self {
            Factor::Password => Amr::Pwd,
            Factor::Totp => Amr::Otp,
            Factor::RecoveryCode => Amr::Rec,
            Factor::EmailCode => Amr::Email,
            Factor::Passkey { device_bound: true } => Amr::Hwk,
            Factor::Passkey {
                device_bound: false,
            } => Amr::Swk,
        }
    }
}

/// The assurance of a set of factors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assurance {
    pub acr: Acr,
    pub amr: Vec<Amr>,
}

/// A factor that, after a password, makes the sign-in multi-factor at AAL2.
/// Email is excluded: NIST SP 800-63B §5.1.3.1 forbids email for out-of-band
/// authentication.
fn is_aal2_second_factor(f: &Factor) -> bool {
    matches!(f, Factor::Totp | Factor::RecoveryCode)
}

pub fn assess(factors: &[Factor]) -> Assurance {
    let mut amr: Vec<Amr> = Vec::new();
    let mut push = |v: Amr| {
        if !amr.contains(&v) {
            amr.push(v);
        }
    };
    let mut passkey: Option<bool> = None;
    for f in factors {
        push(f.amr());
        if let Factor::Passkey { device_bound } = f {
            // User verification (PIN or biometric) happened on the authenticator.
            push(Amr::User);
            passkey = Some(passkey.unwrap_or(false) || *device_bound);
        }
    }
    let has_password = factors.contains(&Factor::Password);
    let acr = match passkey {
        Some(true) => Acr::Phrh,
        Some(false) => Acr::Phr,
        None if has_password && factors.iter().any(is_aal2_second_factor) => Acr::Aal2,
        None => Acr::Aal1,
    };
    // A user-verified passkey is multi-factor on its own (possession + PIN or biometric).
    if acr != Acr::Aal1 {
        push(Amr::Mfa);
    }
    Assurance { acr, amr }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(f: &[Factor]) -> (Acr, Vec<Amr>) {
        let a = assess(f);
        (a.acr, a.amr)
    }

    #[test]
    fn password_alone_is_aal1() {
        assert_eq!(of(&[Factor::Password]), (Acr::Aal1, vec![Amr::Pwd]));
    }

    #[test]
    fn password_and_totp_is_aal2_mfa() {
        let (acr, amr) = of(&[Factor::Password, Factor::Totp]);
        assert_eq!(acr, Acr::Aal2);
        assert_eq!(amr, vec![Amr::Pwd, Amr::Otp, Amr::Mfa]);
        let (acr, amr) = of(&[Factor::Password, Factor::RecoveryCode]);
        assert_eq!((acr, amr), (Acr::Aal2, vec![Amr::Pwd, Amr::Rec, Amr::Mfa]));
    }

    #[test]
    fn email_never_makes_aal2() {
        let (acr, amr) = of(&[Factor::Password, Factor::EmailCode]);
        assert_eq!(acr, Acr::Aal1);
        assert_eq!(amr, vec![Amr::Pwd, Amr::Email]);
        assert_eq!(of(&[Factor::EmailCode]).0, Acr::Aal1);
        assert_eq!(
            of(&[Factor::RecoveryCode]).0,
            Acr::Aal1,
            "a recovery code alone"
        );
    }

    #[test]
    fn passkeys_are_phishing_resistant() {
        let (acr, amr) = of(&[Factor::Passkey {
            device_bound: false,
        }]);
        assert_eq!(acr, Acr::Phr);
        assert_eq!(amr, vec![Amr::Swk, Amr::User, Amr::Mfa]);
        let (acr, amr) = of(&[Factor::Password, Factor::Passkey { device_bound: true }]);
        assert_eq!(acr, Acr::Phrh);
        assert_eq!(amr, vec![Amr::Pwd, Amr::Hwk, Amr::User, Amr::Mfa]);
    }
}
