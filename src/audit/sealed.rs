//! Sealed records (crypto-shredding, docs/audit.md "Sealed records").
//!
//! At chaining time the sealer replaces the personal part of a record about
//! a person (its `details`, `ip` and `user_agent`) by one AES-256-GCM
//! ciphertext under that person's data key, and only then hashes it:
//!
//! ```text
//! details    = {"sealed":{"data":"<base64(nonce || ciphertext || tag)>","key":"<user id>"}}
//! ip         = NULL
//! user_agent = NULL
//! ```
//!
//! The chain covers the sealed bytes, so destroying the key later (erasure)
//! changes nothing the chain covers: `ward audit verify` still passes, and the
//! record reads as about an "erased subject" ([`ERASED`]). A record still
//! pending when its person is erased is chained in that erased form directly.

use serde_json::{Value, json};

use super::event::{AuditRecord, canonical_json};
use crate::crypto::data_key::DataKey;
use crate::domain::UserId;

/// The details of a record whose person was erased, as stored (erased before
/// sealing) and as read (the key is gone).
pub const ERASED: &str = r#"{"erased_subject":true}"#;

/// The person a record is about: its subject, or else the user who acted.
/// Only a user id in its canonical form counts (a user id is a UUID).
pub fn person_of(r: &AuditRecord) -> Option<&str> {
    let id = match &r.subject_user {
        Some(s) => s.as_str(),
        None => r.actor.strip_prefix("user:")?,
    };
    UserId::parse(id).filter(|u| u.as_str() == id).map(|_| id)
}

/// The account name typed in a record about nobody in particular (a failed
/// sign-in names what was typed, not the account, so that the trail does not
/// tell whether it exists): the sealer seals it under the key of the account
/// of that name, if there is one.
pub fn named_in(r: &AuditRecord) -> Option<String> {
    if r.subject_user.is_some() || r.actor.starts_with("user:") {
        return None;
    }
    if !r.details.contains(r#""username":"#) {
        return None;
    }
    let v: Value = serde_json::from_str(&r.details).ok()?;
    // Account names are stored lower-case (`domain::Username`).
    v["username"]
        .as_str()
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
}

/// The associated data that binds a ciphertext to its record and person, so
/// that a ciphertext copied into another record does not open there.
fn aad(record_id: i64, person: &str) -> Vec<u8> {
    format!("ward audit record {record_id} {person}").into_bytes()
}

/// Seal the personal part of `r` under `person`'s key (before hashing).
pub fn seal(r: &mut AuditRecord, person: &str, key: &DataKey) {
    let details: Value =
        serde_json::from_str(&r.details).unwrap_or_else(|_| Value::String(r.details.clone()));
    let plain = canonical_json(&json!({
        "details": details,
        "ip": r.ip.take(),
        "user_agent": r.user_agent.take(),
    }));
    let data = key.encrypt(&aad(r.id, person), plain.as_bytes());
    r.details = canonical_json(&json!({ "sealed": { "key": person, "data": data } }));
}

/// Replace the personal part of `r` by the erased form (its person was
/// erased before the record was chained).
pub fn erase(r: &mut AuditRecord) {
    r.details = ERASED.to_string();
    r.ip = None;
    r.user_agent = None;
}

/// The person whose key sealed `r`, if it is sealed.
pub fn sealed_for(r: &AuditRecord) -> Option<String> {
    if !r.details.starts_with(r#"{"sealed":"#) {
        return None;
    }
    let v: Value = serde_json::from_str(&r.details).ok()?;
    v["sealed"]["key"].as_str().map(str::to_string)
}

/// The record as a reader sees it: opened with its person's key, or, when
/// the key is gone (or does not open it), as about an erased subject. A
/// record that is not sealed is left as it is.
pub fn open(r: &mut AuditRecord, key: Option<&DataKey>) {
    let Some(person) = sealed_for(r) else { return };
    let opened = key.and_then(|k| {
        let v: Value = serde_json::from_str(&r.details).ok()?;
        let plain = k.decrypt(&aad(r.id, &person), v["sealed"]["data"].as_str()?)?;
        serde_json::from_slice::<Value>(&plain).ok()
    });
    match opened {
        Some(p) => {
            r.details = canonical_json(&p["details"]);
            r.ip = p["ip"].as_str().map(str::to_string);
            r.user_agent = p["user_agent"].as_str().map(str::to_string);
        }
        None => erase(r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: &str = "0b6e6c8e-6d3a-4f4e-9a57-8f6f0f3d2c11";

    fn record() -> AuditRecord {
        AuditRecord {
            id: 7,
            recorded_at: 1,
            actor: format!("user:{ALICE}"),
            subject_user: None,
            client_id: None,
            ip: Some("192.0.2.1".into()),
            user_agent: Some("Firefox".into()),
            event_type: "login.success".into(),
            outcome: "success".into(),
            reason: None,
            details: r#"{"username":"alice"}"#.into(),
            seq: None,
            prev_hash: None,
            hash: None,
        }
    }

    #[test]
    fn the_person_is_the_subject_else_the_acting_user() {
        let mut r = record();
        assert_eq!(person_of(&r), Some(ALICE));
        r.actor = "cli:root".into();
        assert_eq!(person_of(&r), None);
        r.subject_user = Some("not-a-uuid".into());
        assert_eq!(person_of(&r), None);
        r.subject_user = Some(ALICE.to_uppercase());
        assert_eq!(person_of(&r), None, "only the canonical spelling");
    }

    #[test]
    fn sealed_opens_with_the_key_and_reads_erased_without() {
        let key = DataKey::generate();
        let mut r = record();
        seal(&mut r, ALICE, &key);
        assert!(!r.details.contains("alice"), "{}", r.details);
        assert_eq!((r.ip.as_deref(), r.user_agent.as_deref()), (None, None));
        assert_eq!(sealed_for(&r).as_deref(), Some(ALICE));
        let mut opened = r.clone();
        open(&mut opened, Some(&key));
        assert_eq!(opened, record());
        let mut moved = r.clone();
        moved.id = 8;
        open(&mut moved, Some(&key));
        assert_eq!(moved.details, ERASED, "bound to its record");
        open(&mut r, None);
        assert_eq!((r.details.as_str(), r.ip), (ERASED, None));
    }
}
