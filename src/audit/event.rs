use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::clock::Millis;
use crate::domain::ClientId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "success" => Some(Self::Success),
            "failure" => Some(Self::Failure),
            _ => None,
        }
    }
}

/// A security event about to be recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub recorded_at: Millis,
    /// Who acted: `cli:<os user>`, `user:<id>`, `client:<id>`, `system`.
    pub actor: String,
    pub subject_user: Option<String>,
    pub client_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// A stable dotted code such as `user.created` or `signing_key.rotated`.
    pub event_type: String,
    pub outcome: Outcome,
    /// A stable reason code for failures and notable successes.
    pub reason: Option<String>,
    /// Further facts as a JSON object; never secrets.
    pub details: Map<String, Value>,
}

impl AuditEvent {
    pub fn new(
        recorded_at: Millis,
        actor: impl Into<String>,
        event_type: &str,
        outcome: Outcome,
    ) -> Self {
        Self {
            recorded_at,
            actor: actor.into(),
            subject_user: None,
            client_id: None,
            ip: None,
            user_agent: None,
            event_type: event_type.to_string(),
            outcome,
            reason: None,
            details: Map::new(),
        }
    }

    pub fn subject(mut self, user_id: &str) -> Self {
        self.subject_user = Some(user_id.to_string());
        self
    }

    pub fn client(mut self, client_id: &ClientId) -> Self {
        self.client_id = Some(client_id.as_str().to_string());
        self
    }

    pub fn reason(mut self, reason: &str) -> Self {
        self.reason = Some(reason.to_string());
        self
    }

    pub fn detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_string(), value.into());
        self
    }

    /// The details as stored: canonical JSON (keys sorted, no whitespace).
    pub fn details_json(&self) -> String {
        canonical_json(&Value::Object(self.details.clone()))
    }
}

/// A stored record, as read back for verification and export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub id: i64,
    pub recorded_at: Millis,
    pub actor: String,
    pub subject_user: Option<String>,
    pub client_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub event_type: String,
    pub outcome: String,
    pub reason: Option<String>,
    /// Canonical JSON text, exactly as stored and hashed.
    pub details: String,
    pub seq: Option<i64>,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
}

/// JSON with object keys sorted and no insignificant whitespace. serde_json's
/// `Map` is a BTreeMap (the `preserve_order` feature is off), so serialising a
/// `Value` already sorts keys; this function exists to say that it matters.
pub fn canonical_json(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "{}".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_are_canonical() {
        let e = AuditEvent::new(1, "system", "x.y", Outcome::Success)
            .detail("zeta", 1)
            .detail("alpha", serde_json::json!({"b": 2, "a": 1}));
        assert_eq!(e.details_json(), r#"{"alpha":{"a":1,"b":2},"zeta":1}"#);
    }
}
