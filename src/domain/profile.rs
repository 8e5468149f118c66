//! The standard profile claims a user may have (OpenID Connect Core 1.0 §5.1):
//! names, birthdate, locale, time zone, phone number and postal address, each
//! checked when it is set.

use serde::{Deserialize, Serialize};

use super::InvalidValue;

/// Longest name part, locale, zone or address field Ward keeps.
const MAX_CHARS: usize = 256;

/// A name part (`given_name`, `family_name`, `middle_name`): any text without
/// control characters, 1 to 128 characters (§5.1 allows several names
/// separated by spaces).
pub fn name_part(field: &'static str, value: &str) -> Result<String, InvalidValue> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > 128 {
        return Err(InvalidValue::new(field, "must be 1 to 128 characters"));
    }
    if v.chars().any(char::is_control) {
        return Err(InvalidValue::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(v.to_string())
}

/// `birthdate` (§5.1): ISO 8601 `YYYY-MM-DD`, or `YYYY` alone; the year
/// `0000` means the year is withheld (`0000-MM-DD`).
pub fn birthdate(value: &str) -> Result<String, InvalidValue> {
    let v = value.trim();
    let bad = || {
        InvalidValue::new(
            "birthdate",
            format!("`{v}` is not a date as YYYY-MM-DD or a year as YYYY"),
        )
    };
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let parts: Vec<&str> = v.split('-').collect();
    match parts.as_slice() {
        [y] if digits(y, 4) && *y != "0000" => Ok(v.to_string()),
        [y, m, d] if digits(y, 4) && digits(m, 2) && digits(d, 2) => {
            // 0000 stands for "not given": check the day against a leap year.
            let year: i32 = if *y == "0000" {
                2000
            } else {
                y.parse().map_err(|_| bad())?
            };
            let month =
                time::Month::try_from(m.parse::<u8>().map_err(|_| bad())?).map_err(|_| bad())?;
            let day: u8 = d.parse().map_err(|_| bad())?;
            time::Date::from_calendar_date(year, month, day).map_err(|_| bad())?;
            Ok(v.to_string())
        }
        _ => Err(bad()),
    }
}

/// `locale` (§5.1): a BCP 47 language tag such as `en-US` or `fr-CA`; checked
/// for shape (a 2-3 letter language, then 1-8 character alphanumeric subtags).
pub fn locale(value: &str) -> Result<String, InvalidValue> {
    let v = value.trim();
    let mut parts = v.split('-');
    let lang_ok = parts
        .next()
        .is_some_and(|l| (2..=3).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_alphabetic()));
    let rest_ok =
        parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    if !lang_ok || !rest_ok || v.len() > 35 {
        return Err(InvalidValue::new(
            "locale",
            format!("`{v}` is not a BCP 47 language tag (e.g. en-US)"),
        ));
    }
    Ok(v.to_string())
}

/// `zoneinfo` (§5.1): a time zone of the IANA database such as `Europe/Paris`
/// or `America/Los_Angeles`; checked for shape.
pub fn zoneinfo(value: &str) -> Result<String, InvalidValue> {
    let v = value.trim();
    let ok = !v.is_empty()
        && v.len() <= 64
        && v.split('/').all(|part| {
            part.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'+'))
        });
    if !ok {
        return Err(InvalidValue::new(
            "zoneinfo",
            format!("`{v}` is not an IANA time zone (e.g. Europe/Paris)"),
        ));
    }
    Ok(v.to_string())
}

/// `phone_number` (§5.1): E.164 (`+1 604 555 1234`) is recommended; Ward
/// accepts a leading `+`, digits, spaces, `-`, `.`, `(` and `)`, 4 to 15
/// digits (E.164's maximum), and an RFC 3966 extension (`;ext=5678`).
pub fn phone_number(value: &str) -> Result<String, InvalidValue> {
    let v = value.trim();
    let bad = || {
        InvalidValue::new(
            "phone_number",
            format!("`{v}` is not a phone number (E.164 recommended, e.g. +1 604 555 1234)"),
        )
    };
    let (number, ext) = match v.split_once(";ext=") {
        Some((n, e)) => (n, Some(e)),
        None => (v, None),
    };
    if ext.is_some_and(|e| e.is_empty() || e.len() > 10 || !e.bytes().all(|b| b.is_ascii_digit())) {
        return Err(bad());
    }
    let body = number.strip_prefix('+').unwrap_or(number);
    if !body
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b' ' | b'-' | b'.' | b'(' | b')'))
    {
        return Err(bad());
    }
    let digits = body.bytes().filter(u8::is_ascii_digit).count();
    if !(4..=15).contains(&digits) || !body.starts_with(|c: char| c.is_ascii_digit() || c == '(') {
        return Err(bad());
    }
    Ok(v.to_string())
}

/// The `address` claim (§5.1.1): a structured postal address. Every member
/// is optional, but an address has at least one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Address {
    /// The full address for display; may contain line breaks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formatted: Option<String>,
    /// House number, street, and so on; may contain line breaks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

impl Address {
    /// Parse and check the JSON object (`{"street_address": ..., ...}`).
    pub fn parse_json(text: &str) -> Result<Self, InvalidValue> {
        let parsed: Self = serde_json::from_str(text).map_err(|e| {
            InvalidValue::new(
                "address",
                format!(
                    "is not a JSON object of formatted, street_address, locality, region, postal_code, country ({e})"
                ),
            )
        })?;
        parsed.checked()
    }

    /// Trim every member, drop empty ones, refuse control characters (line
    /// breaks only in `formatted` and `street_address`, §5.1.1) and an
    /// address with no member at all.
    pub fn checked(self) -> Result<Self, InvalidValue> {
        let clean = |name: &'static str, v: Option<String>, multiline: bool| {
            let Some(v) = v.map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) else {
                return Ok(None);
            };
            if v.chars().count() > MAX_CHARS {
                return Err(InvalidValue::new(
                    "address",
                    format!("{name} must be at most {MAX_CHARS} characters"),
                ));
            }
            if v.chars()
                .any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\r')))
            {
                return Err(InvalidValue::new(
                    "address",
                    format!("{name} must not contain control characters"),
                ));
            }
            Ok(Some(v))
        };
        let a = Self {
            formatted: clean("formatted", self.formatted, true)?,
            street_address: clean("street_address", self.street_address, true)?,
            locality: clean("locality", self.locality, false)?,
            region: clean("region", self.region, false)?,
            postal_code: clean("postal_code", self.postal_code, false)?,
            country: clean("country", self.country, false)?,
        };
        if a == Self::default() {
            return Err(InvalidValue::new("address", "has no member"));
        }
        Ok(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn birthdates_are_dates_or_years() {
        for ok in ["1980-02-29", "1975", "0000-12-25", "0000-02-29"] {
            assert_eq!(birthdate(ok).unwrap(), ok);
        }
        for bad in [
            "1981-02-29",
            "1980-13-01",
            "80-01-01",
            "1980/01/01",
            "0000",
            "1980-1-1",
            "yesterday",
            "",
        ] {
            assert!(birthdate(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn phone_numbers_are_checked_loosely() {
        for ok in [
            "+1 (604) 555-1234;ext=5678",
            "+441632960961",
            "020 7946 0018",
        ] {
            assert!(phone_number(ok).is_ok(), "{ok}");
        }
        for bad in [
            "call me",
            "+",
            "123",
            "+1 604 555 1234 5678 9012",
            "+1-604;ext=",
            "+1 604 555<script>",
            "++44 1632",
        ] {
            assert!(phone_number(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn locales_and_zones_are_checked_for_shape() {
        assert!(locale("en-US").is_ok() && locale("fr").is_ok() && locale("zh-Hant-TW").is_ok());
        assert!(locale("english please").is_err() && locale("e").is_err());
        assert!(zoneinfo("Europe/Paris").is_ok() && zoneinfo("America/Los_Angeles").is_ok());
        assert!(zoneinfo("UTC").is_ok() && zoneinfo("Etc/GMT+5").is_ok());
        assert!(zoneinfo("../etc/passwd").is_err() && zoneinfo("Paris time").is_err());
    }

    #[test]
    fn addresses_are_structured() {
        let a = Address::parse_json(
            r#"{"street_address":"1 Main St\nApt 2","locality":" Springfield ","country":"US"}"#,
        )
        .unwrap();
        assert_eq!(a.locality.as_deref(), Some("Springfield"));
        assert_eq!(a.street_address.as_deref(), Some("1 Main St\nApt 2"));
        assert!(
            Address::parse_json(r#"{"city":"x"}"#).is_err(),
            "unknown member"
        );
        assert!(Address::parse_json(r#"{"locality":""}"#).is_err(), "empty");
        assert!(Address::parse_json(r#"{"locality":"a\nb"}"#).is_err());
        assert!(Address::parse_json("[1]").is_err());
    }

    #[test]
    fn name_parts_are_plain_text() {
        assert_eq!(name_part("given_name", " Ada ").unwrap(), "Ada");
        assert!(name_part("given_name", "").is_err());
        assert!(name_part("given_name", "a\u{7}b").is_err());
    }
}
