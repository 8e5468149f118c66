//! What a sign-in is worth (`acr`) and how it was made (`amr`): the values
//! Ward puts in ID tokens, requires in steps-up and keys session timeouts on.
//!
//! `acr`: `aal1`, `aal2` (NIST SP 800-63B), and `phr` / `phrh` (OpenID EAP ACR
//! Values 1.0 §2: phishing-resistant, and phishing-resistant with a
//! hardware-protected key) for passkeys, ordered `aal1` < `aal2` < `phr` <
//! `phrh`; an acr satisfies a requirement at its own level or any weaker one
//! (docs/mfa.md).
//!
//! `amr`: RFC 8176 §2 where one fits (`pwd`, `otp`, `hwk`, `swk`, `user`,
//! `mfa`); two are Ward's own, which RFC 8176 permits: `rec` for a recovery
//! code (a NIST SP 800-63B §5.1.2 look-up secret) and `email` for a code sent
//! by email.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::InvalidValue;

/// An authentication context class Ward issues. The derived order is the
/// strength order, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Acr {
    Aal1,
    Aal2,
    Phr,
    Phrh,
}

/// Every acr Ward issues, weakest first (discovery's `acr_values_supported`).
pub const ACR_VALUES: &[&str] = &[
    Acr::Aal1.as_str(),
    Acr::Aal2.as_str(),
    Acr::Phr.as_str(),
    Acr::Phrh.as_str(),
];

impl Acr {
    /// Every acr, weakest first.
    pub const ALL: [Acr; 4] = [Acr::Aal1, Acr::Aal2, Acr::Phr, Acr::Phrh];

    pub const fn as_str(self) -> &'static str {
        match self {
            Acr::Aal1 => "aal1",
            Acr::Aal2 => "aal2",
            Acr::Phr => "phr",
            Acr::Phrh => "phrh",
        }
    }

    /// The acr spelled `value` exactly (acr values are case-sensitive).
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == value)
            .ok_or_else(|| {
                InvalidValue::new(
                    "acr",
                    format!(
                        "`{value}` is not an acr Ward issues ({})",
                        ACR_VALUES.join(", ")
                    ),
                )
            })
    }

    /// Whether a sign-in at `self` meets a requirement of `required`.
    pub fn satisfies(self, required: Acr) -> bool {
        self >= required
    }

    /// The stronger of two acrs.
    pub fn stronger(self, other: Acr) -> Acr {
        self.max(other)
    }

    /// The NIST SP 800-63B assurance level, for session timeouts: `aal1` is 1;
    /// `aal2` and `phr` (a synced passkey; 800-63B-4 caps syncable
    /// authenticators at AAL2) are 2; `phrh` (a device-bound passkey with user
    /// verification, a multi-factor cryptographic authenticator) is 3.
    pub fn nist_aal(self) -> u8 {
        match self {
            Acr::Phrh => 3,
            Acr::Aal2 | Acr::Phr => 2,
            Acr::Aal1 => 1,
        }
    }
}

impl fmt::Display for Acr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Acr {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Acr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Acr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Acr::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The stronger of two optional requirements (None: no requirement).
pub fn stronger(a: Option<Acr>, b: Option<Acr>) -> Option<Acr> {
    // `None` orders before every `Some`, so the maximum is the stronger one.
    a.max(b)
}

/// The weakest acr Ward issues among `values` (unknown values ignored).
pub fn weakest_known<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<Acr> {
    values.into_iter().filter_map(|v| Acr::parse(v).ok()).min()
}

/// An authentication method reference Ward emits (RFC 8176 §2, plus `rec`
/// and `email`). Ordered by its spelling, so that a map keyed by amr
/// (`factor_times`) keeps the order it had with string keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Amr {
    /// A password.
    Pwd,
    /// A one-time password (TOTP).
    Otp,
    /// A recovery code (Ward's own).
    Rec,
    /// A code sent by email (Ward's own).
    Email,
    /// A hardware-protected key: a device-bound passkey.
    Hwk,
    /// A software-protected key: a synced passkey.
    Swk,
    /// User presence and verification on the authenticator (PIN or biometric).
    User,
    /// More than one factor (present exactly when the acr is above `aal1`).
    Mfa,
}

impl Amr {
    pub const ALL: [Amr; 8] = [
        Amr::Pwd,
        Amr::Otp,
        Amr::Rec,
        Amr::Email,
        Amr::Hwk,
        Amr::Swk,
        Amr::User,
        Amr::Mfa,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Amr::Pwd => "pwd",
            Amr::Otp => "otp",
            Amr::Rec => "rec",
            Amr::Email => "email",
            Amr::Hwk => "hwk",
            Amr::Swk => "swk",
            Amr::User => "user",
            Amr::Mfa => "mfa",
        }
    }

    /// The amr spelled `value` exactly, if Ward emits it.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == value)
    }
}

impl fmt::Display for Amr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialOrd for Amr {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Amr {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Serialize for Amr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Amr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Amr::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("`{s}` is not an amr Ward emits")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acr_strings_round_trip() {
        for a in Acr::ALL {
            assert_eq!(Acr::parse(a.as_str()), Ok(a));
            assert_eq!(a.to_string(), a.as_str());
            let json = serde_json::to_string(&a).unwrap();
            assert_eq!(json, format!("\"{a}\""));
            assert_eq!(serde_json::from_str::<Acr>(&json).unwrap(), a);
        }
        assert_eq!(ACR_VALUES, ["aal1", "aal2", "phr", "phrh"]);
        assert!(Acr::parse("AAL2").is_err());
        assert!(Acr::parse("aal3").is_err());
        assert!(serde_json::from_str::<Acr>("\"gold\"").is_err());
    }

    #[test]
    fn acr_ordering() {
        assert!(Acr::Phrh.satisfies(Acr::Phr));
        assert!(Acr::Aal2.satisfies(Acr::Aal2));
        assert!(!Acr::Aal2.satisfies(Acr::Phr));
        assert!(!Acr::Aal1.satisfies(Acr::Aal2));
        assert_eq!(Acr::Aal2.stronger(Acr::Phr), Acr::Phr);
        assert_eq!(Acr::Phrh.stronger(Acr::Aal1), Acr::Phrh);
    }

    #[test]
    fn stronger_of_optional_requirements() {
        use Acr::*;
        assert_eq!(stronger(Some(Aal2), Some(Phr)), Some(Phr));
        assert_eq!(stronger(Some(Phrh), Some(Aal1)), Some(Phrh));
        assert_eq!(stronger(None, Some(Aal2)), Some(Aal2));
        assert_eq!(stronger(Some(Aal1), None), Some(Aal1));
        assert_eq!(stronger(None, None), None);
    }

    #[test]
    fn weakest_known_ignores_unknown_values() {
        assert_eq!(weakest_known(["phr", "aal2"]), Some(Acr::Aal2));
        assert_eq!(weakest_known(["gold", "phrh"]), Some(Acr::Phrh));
        assert_eq!(weakest_known(["AAL1", "gold"]), None);
        assert_eq!(weakest_known([]), None);
    }

    #[test]
    fn nist_levels() {
        assert_eq!(
            Acr::ALL.map(Acr::nist_aal),
            [1, 2, 2, 3],
            "aal1, aal2, phr, phrh"
        );
    }

    #[test]
    fn amr_strings() {
        let all: Vec<&str> = Amr::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(
            all,
            ["pwd", "otp", "rec", "email", "hwk", "swk", "user", "mfa"]
        );
        for a in Amr::ALL {
            assert_eq!(Amr::parse(a.as_str()), Some(a));
        }
        assert_eq!(Amr::parse("sms"), None);
    }

    #[test]
    fn amr_serde_and_order_follow_the_spelling() {
        let list = vec![Amr::Pwd, Amr::Otp, Amr::Mfa];
        let json = serde_json::to_string(&list).unwrap();
        assert_eq!(json, r#"["pwd","otp","mfa"]"#);
        assert_eq!(serde_json::from_str::<Vec<Amr>>(&json).unwrap(), list);
        assert!(serde_json::from_str::<Amr>("\"sms\"").is_err());
        let times: std::collections::BTreeMap<Amr, i64> =
            [(Amr::Pwd, 1), (Amr::Email, 2), (Amr::Otp, 3)].into();
        assert_eq!(
            serde_json::to_string(&times).unwrap(),
            r#"{"email":2,"otp":3,"pwd":1}"#
        );
    }
}
