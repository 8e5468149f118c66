//! Hash chaining and verification, as plain functions over records.

use sha2::{Digest, Sha256};

use super::event::{AuditRecord, canonical_json};

/// The `prev_hash` of the first record in the chain.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The canonical content a record's hash covers: every column except the hashes.
fn content(record: &AuditRecord, seq: i64) -> String {
    let details: serde_json::Value = serde_json::from_str(&record.details)
        .unwrap_or(serde_json::Value::String(record.details.clone()));
    canonical_json(&serde_json::json!({
        "seq": seq,
        "id": record.id,
        "recorded_at": record.recorded_at,
        "actor": record.actor,
        "subject_user": record.subject_user,
        "client_id": record.client_id,
        "ip": record.ip,
        "user_agent": record.user_agent,
        "event_type": record.event_type,
        "outcome": record.outcome,
        "reason": record.reason,
        "details": details,
    }))
}

/// `SHA-256(prev_hash || "\n" || canonical content)`, lower-case hex.
pub fn record_hash(prev_hash: &str, record: &AuditRecord, seq: i64) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(content(record, seq).as_bytes());
    hex::encode(h.finalize())
}

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyFailure {
    pub id: i64,
    pub seq: i64,
    pub problem: String,
}

/// Walks sealed records in `seq` order, one at a time, in constant memory.
#[derive(Debug)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
    pub verified: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_string(),
            verified: 0,
        }
    }
}

impl ChainVerifier {
    pub fn check(&mut self, record: &AuditRecord) -> Result<(), VerifyFailure> {
        let seq = record.seq.unwrap_or(-1);
        let fail = |problem: String| VerifyFailure {
            id: record.id,
            seq,
            problem,
        };
        if seq != self.expected_seq {
            return Err(fail(format!(
                "expected chain position {}, found {seq} (a record is missing or was inserted)",
                self.expected_seq
            )));
        }
        if record.prev_hash.as_deref() != Some(self.prev_hash.as_str()) {
            return Err(fail(
                "its prev_hash does not match the previous record's hash".into(),
            ));
        }
        let expected = record_hash(&self.prev_hash, record, seq);
        if record.hash.as_deref() != Some(expected.as_str()) {
            return Err(fail(
                "its content does not match its hash (the record was altered)".into(),
            ));
        }
        self.prev_hash = expected;
        self.expected_seq += 1;
        self.verified += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: i64) -> AuditRecord {
        AuditRecord {
            id,
            recorded_at: 1_000 + id,
            actor: "cli:root".into(),
            subject_user: Some("u1".into()),
            client_id: None,
            ip: None,
            user_agent: None,
            event_type: "user.created".into(),
            outcome: "success".into(),
            reason: None,
            details: r#"{"username":"alice"}"#.into(),
            seq: None,
            prev_hash: None,
            hash: None,
        }
    }

    fn sealed_chain(n: i64) -> Vec<AuditRecord> {
        let mut prev = GENESIS_HASH.to_string();
        (1..=n)
            .map(|i| {
                let mut r = record(i * 10);
                r.seq = Some(i);
                r.prev_hash = Some(prev.clone());
                let h = record_hash(&prev, &r, i);
                r.hash = Some(h.clone());
                prev = h;
                r
            })
            .collect()
    }

    fn verify(records: &[AuditRecord]) -> Result<u64, VerifyFailure> {
        let mut v = ChainVerifier::default();
        for r in records {
            v.check(r)?;
        }
        Ok(v.verified)
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(verify(&sealed_chain(5)), Ok(5));
    }

    #[test]
    fn an_altered_record_is_named() {
        let mut chain = sealed_chain(5);
        chain[2].actor = "someone-else".into();
        let err = verify(&chain).unwrap_err();
        assert_eq!((err.id, err.seq), (30, 3));
        assert!(err.problem.contains("altered"));
    }

    #[test]
    fn a_removed_record_is_named() {
        let mut chain = sealed_chain(5);
        chain.remove(1);
        let err = verify(&chain).unwrap_err();
        assert_eq!(err.seq, 3);
        assert!(err.problem.contains("missing"));
    }

    #[test]
    fn a_rehashed_record_breaks_its_successor() {
        let mut chain = sealed_chain(4);
        chain[1].details = r#"{"username":"mallory"}"#.into();
        let prev = chain[0].hash.clone().unwrap();
        chain[1].hash = Some(record_hash(&prev, &chain[1], 2));
        let err = verify(&chain).unwrap_err();
        assert_eq!(err.seq, 3);
    }
}
