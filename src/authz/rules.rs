//! Policy rules: parsing and validating Casbin CSV, and writing it back.
//!
//! Validation is strict on purpose: a policy is security configuration, and a
//! typo that Casbin would silently accept (a stray field, a `*`) must be refused
//! with its line number rather than grant something nobody meant.

use std::collections::BTreeSet;

use serde::Serialize;

use super::AuthzError;

/// Longest tenant, role, object or action name (and user id, which is 36).
const MAX_NAME: usize = 63;

/// One rule of the policy.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Rule {
    /// `p, role, tenant, object, action`: the role may do the action on the object.
    Permission {
        role: String,
        tenant: String,
        object: String,
        action: String,
    },
    /// `g, subject, role, tenant`: the subject (a user id, or a role that then
    /// inherits) holds the role in the tenant.
    Assignment {
        subject: String,
        role: String,
        tenant: String,
    },
}

impl Rule {
    pub fn permission(role: &str, tenant: &str, object: &str, action: &str) -> Self {
        Self::Permission {
            role: role.into(),
            tenant: tenant.into(),
            object: object.into(),
            action: action.into(),
        }
    }

    pub fn assignment(subject: &str, role: &str, tenant: &str) -> Self {
        Self::Assignment {
            subject: subject.into(),
            role: role.into(),
            tenant: tenant.into(),
        }
    }

    /// The Casbin policy type: `p` or `g`.
    pub fn ptype(&self) -> &'static str {
        match self {
            Self::Permission { .. } => "p",
            Self::Assignment { .. } => "g",
        }
    }

    /// The Casbin fields after the type, in model order.
    pub fn fields(&self) -> Vec<&str> {
        match self {
            Self::Permission {
                role,
                tenant,
                object,
                action,
            } => vec![role, tenant, object, action],
            Self::Assignment {
                subject,
                role,
                tenant,
            } => vec![subject, role, tenant],
        }
    }

    pub fn tenant(&self) -> &str {
        match self {
            Self::Permission { tenant, .. } | Self::Assignment { tenant, .. } => tenant,
        }
    }

    /// Build and validate a rule from its type and fields (from a CSV line or a
    /// database row). `line` is only for the error message.
    pub fn parse(ptype: &str, fields: &[&str], line: usize) -> Result<Self, AuthzError> {
        let invalid = |message: String| AuthzError::InvalidRule { line, message };
        let expected = match ptype {
            "p" => 4,
            "g" => 3,
            other => {
                return Err(invalid(format!(
                    "unknown rule type `{other}`: only `p` (permission) and `g` (role assignment)"
                )));
            }
        };
        if fields.len() != expected {
            return Err(invalid(format!(
                "a `{ptype}` rule has {expected} fields after the type, this one has {}",
                fields.len()
            )));
        }
        for (i, field) in fields.iter().enumerate() {
            // A permission's third field is its object; an assignment's
            // first is its subject (a user id, a role, or `client:<id>`).
            let check = match (expected, i) {
                (4, 2) => check_object,
                (3, 0) => check_subject,
                _ => check_name,
            };
            check(field).map_err(|m| invalid(m.to_string()))?;
        }
        Ok(match fields {
            [role, tenant, object, action] => Self::permission(role, tenant, object, action),
            [subject, role, tenant] => Self::assignment(subject, role, tenant),
            _ => unreachable!("arity checked above"),
        })
    }

    /// The `p, a, b, c` line of this rule.
    pub fn to_csv_line(&self) -> String {
        let mut parts = vec![self.ptype()];
        parts.extend(self.fields());
        parts.join(", ")
    }

    /// Export order: permissions before assignments, grouped by tenant, then role.
    fn sort_key(&self) -> (u8, &str, &str, &str, &str) {
        match self {
            Self::Permission {
                role,
                tenant,
                object,
                action,
            } => (0, tenant, role, object, action),
            Self::Assignment {
                subject,
                role,
                tenant,
            } => (1, tenant, role, subject, ""),
        }
    }
}

/// Whether a name (tenant, role, object, action, user id) is acceptable:
/// `[a-z0-9][a-z0-9._-]{0,62}`. Returns why not.
pub fn check_name(name: &str) -> Result<(), &'static str> {
    if name.contains('*') {
        return Err(
            "wildcards (`*`) are not allowed: every permission and assignment is spelled out",
        );
    }
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
    if name.is_empty() {
        Err("empty field")
    } else if name.len() > MAX_NAME {
        Err("a name is at most 63 characters")
    } else if !first_ok || !rest_ok {
        Err(
            "names use lower-case letters, digits, `.`, `_` and `-`, and start with a letter or digit",
        )
    } else {
        Ok(())
    }
}

/// The prefix of a client's subject in the policy: `g, client:<client_id>, role, tenant`.
pub const CLIENT_PREFIX: &str = crate::domain::client::CLIENT_SUBJECT_PREFIX;

/// Longest client id (`domain::ClientId`).
const MAX_CLIENT_ID: usize = 128;

/// Whether an assignment's subject is acceptable: a name as [`check_name`]
/// says (a user id, or a role that inherits), or `client:<client_id>` for an
/// OAuth client acting for itself (SMART Backend Services' `system/` scopes,
/// an EHR's launch permission: docs/smart.md). The client id is what
/// `domain::ClientId` accepts; each refusal says why. A name never holds `:`,
/// so a user's or role's subject can never pass for a client's.
pub fn check_subject(subject: &str) -> Result<(), &'static str> {
    let Some(id) = subject.strip_prefix(CLIENT_PREFIX) else {
        return check_name(subject);
    };
    if id.is_empty() || id.len() > MAX_CLIENT_ID {
        Err("a client subject is `client:` and a client id of 1 to 128 characters")
    } else if id.contains('*') {
        Err("wildcards (`*`) are not allowed: every permission and assignment is spelled out")
    } else if crate::domain::ClientId::exact(id).is_none() {
        Err("a client id holds only ASCII letters, digits and . _ - : (and is not a UUID)")
    } else {
        Ok(())
    }
}

/// Whether a permission's object is acceptable: a name as [`check_name`]
/// says, or `fhir:<ResourceType>` (SMART on FHIR scopes are checked against
/// these, with the actions `c r u d s`: docs/smart.md). FHIR resource types
/// keep their case (`fhir:Observation`); there is still no wildcard.
pub fn check_object(name: &str) -> Result<(), &'static str> {
    match name.strip_prefix("fhir:") {
        Some(t) if crate::smart::scope::is_resource_type(t) => Ok(()),
        Some(_) => Err(
            "a FHIR object is `fhir:` and a resource type name, e.g. `fhir:Observation` (no wildcards)",
        ),
        None => check_name(name),
    }
}

/// Parse a whole policy file: `p` and `g` lines, `#` comment lines and blank
/// lines. Duplicate rules collapse into one. The first invalid line refuses
/// the whole file.
pub fn parse_csv(text: &str) -> Result<Vec<Rule>, AuthzError> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parts: Vec<&str> = line.split(',').map(str::trim).collect();
        let rule = Rule::parse(parts[0], &parts[1..], i + 1)?;
        if seen.insert(rule.clone()) {
            out.push(rule);
        }
    }
    Ok(out)
}

/// The policy as CSV in a stable order (so that two exports of the same policy
/// are byte-identical and diff cleanly).
pub fn to_csv(rules: &[Rule]) -> String {
    let mut sorted: Vec<&Rule> = rules.iter().collect();
    sorted.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    sorted.dedup();
    let mut out = String::from(
        "# Ward authorization policy (Casbin RBAC with domains); see docs/authorization.md.\n",
    );
    for r in sorted {
        out.push_str(&r.to_csv_line());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_kinds_and_skips_comments() {
        let rules = parse_csv(
            "# comment\n\np, nurse, st-mary, ehr, read\n  g,alice-id ,nurse, st-mary\np, nurse, st-mary, ehr, read\n",
        )
        .unwrap();
        assert_eq!(
            rules,
            vec![
                Rule::permission("nurse", "st-mary", "ehr", "read"),
                Rule::assignment("alice-id", "nurse", "st-mary"),
            ]
        );
    }

    #[test]
    fn refuses_bad_lines_with_their_number() {
        for (text, needle) in [
            ("p, nurse, st-mary, ehr\n", "4 fields"),
            ("g, u, nurse, st-mary, extra\n", "3 fields"),
            ("x, a, b, c\n", "unknown rule type"),
            ("p, nurse, *, ehr, read\n", "wildcards"),
            ("p, nurse, st-mary, ehr, *\n", "wildcards"),
            ("g, *, admin, ward\n", "wildcards"),
            ("p, Nurse, st-mary, ehr, read\n", "lower-case"),
            ("p, nurse, st mary, ehr, read\n", "lower-case"),
            ("p, nurse, , ehr, read\n", "empty"),
            ("p, -nurse, st-mary, ehr, read\n", "start with"),
        ] {
            let err = parse_csv(&format!("# first\n{text}"))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("line 2") && err.contains(needle),
                "{text}: {err}"
            );
        }
        let long = "a".repeat(64);
        assert!(parse_csv(&format!("p, {long}, t, o, a")).is_err());
        assert!(parse_csv(&format!("p, {}, t, o, a", &long[1..])).is_ok());
    }

    #[test]
    fn clients_may_hold_roles_but_nothing_else_takes_their_form() {
        let rules = parse_csv("g, client:Backend.svc-1, nurse, st-mary\n").unwrap();
        assert_eq!(
            rules,
            vec![Rule::assignment("client:Backend.svc-1", "nurse", "st-mary")]
        );
        assert_eq!(
            parse_csv(&to_csv(&rules)).unwrap(),
            rules,
            "export round-trips"
        );
        for (text, needle) in [
            ("g, client:, nurse, st-mary\n", "1 to 128"),
            ("g, client:a b, nurse, st-mary\n", "ASCII"),
            ("g, client:*, nurse, st-mary\n", "wildcards"),
            ("g, Client:svc, nurse, st-mary\n", "lower-case"),
            // Only the subject of an assignment may be a client.
            ("g, u1, client:svc, st-mary\n", "lower-case"),
            ("p, client:svc, st-mary, ehr, read\n", "lower-case"),
        ] {
            let err = parse_csv(text).unwrap_err().to_string();
            assert!(err.contains(needle), "{text}: {err}");
        }
        let long = format!("g, client:{}, nurse, t\n", "a".repeat(129));
        assert!(parse_csv(&long).is_err());
    }

    #[test]
    fn export_is_stable_and_round_trips() {
        let rules = vec![
            Rule::assignment("u1", "nurse", "st-mary"),
            Rule::permission("nurse", "st-mary", "ehr", "write"),
            Rule::permission("admin", "riverside", "roles", "read"),
            Rule::permission("nurse", "st-mary", "ehr", "read"),
        ];
        let text = to_csv(&rules);
        let lines: Vec<&str> = text.lines().skip(1).collect();
        assert_eq!(
            lines,
            [
                "p, admin, riverside, roles, read",
                "p, nurse, st-mary, ehr, read",
                "p, nurse, st-mary, ehr, write",
                "g, u1, nurse, st-mary",
            ]
        );
        let mut back = parse_csv(&text).unwrap();
        back.sort();
        let mut original = rules.clone();
        original.sort();
        assert_eq!(back, original);
        let mut reversed = rules;
        reversed.reverse();
        assert_eq!(to_csv(&reversed), text);
    }
}
