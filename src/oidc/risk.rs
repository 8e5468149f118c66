//! Asking the risk engine (`crate::risk`, pure) about a sign-in or an
//! authorization request: gather the facts from the store and the request,
//! and turn a decision into what the flow does (docs/risk.md).
//!
//! Two moments are judged:
//! - a **sign-in**, once the account is known (after its first factor): a new
//!   browser or network, recent failures, impossible travel, denied networks,
//!   and what the pending request asks for;
//! - an **authorization request answered from an existing session**: the same,
//!   plus a user agent that changed within the session and the age of its
//!   last strong (AAL2+) sign-in.

use super::Provider;
use super::authorize::AuthorizationRequest;
use super::error::OAuthError;
use crate::audit::{AuditEvent, Outcome};
use crate::clock::Millis;
use crate::domain::{Acr, ClientId};
use crate::risk::{self, Decision, RiskAssessment, RiskInput, Sensitivity};
use crate::store::{HistoryQuery, SessionRow};

/// Failures older than this do not count as recent.
const RECENT_FAILURES_MS: Millis = 3_600_000;

/// What Ward sees of the browser behind a request.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The hash of the browser's signed device cookie.
    pub device_hash: Option<String>,
}

/// Whose sign-in or session is judged.
pub struct Account<'a> {
    pub user_id: &'a str,
    pub username: &'a str,
}

/// When the session (or the sign-in being finished, at `acr`) last proved
/// AAL2 or better; None if it never did.
pub fn strong_auth_time(acr: Acr, auth_time: Millis) -> Option<Millis> {
    (acr.nist_aal() >= 2).then_some(auth_time)
}

/// Judge a request. `session`: the session it would be answered from (None
/// while signing in); `strong_at`: see [`strong_auth_time`].
pub fn assess(
    p: &Provider,
    seen: &Seen,
    account: &Account,
    strong_at: Option<Millis>,
    session: Option<&SessionRow>,
    request: Option<&AuthorizationRequest>,
) -> Result<RiskAssessment, OAuthError> {
    let ip = seen
        .ip
        .as_deref()
        .and_then(|i| i.parse::<std::net::IpAddr>().ok());
    let history = p.store.risk_history(&HistoryQuery {
        user_id: account.user_id.to_string(),
        device_hash: seen.device_hash.clone(),
        network: ip.map(risk::network::prefix),
        account_key: (!account.username.is_empty())
            .then(|| crate::storage::throttle::account_key(account.username)),
        address_key: seen
            .ip
            .as_deref()
            .map(crate::storage::throttle::address_key),
        failures_since: p.now - RECENT_FAILURES_MS,
    })?;
    let none: &[String] = &[];
    let locate = |i: std::net::IpAddr| p.geo.and_then(|g| g.lookup(i));
    // Sessions store the user agent cut to 512 characters; compare like with
    // like. A request without one, inside a session that had one, counts as
    // a change (stripping the header must not hide a stolen cookie).
    let session_ua = session.and_then(|s| s.user_agent.as_deref());
    let request_ua: Option<String> = match (&seen.user_agent, session_ua) {
        (Some(ua), _) => Some(ua.chars().take(512).collect()),
        (None, Some(_)) => Some(String::new()),
        (None, None) => None,
    };
    let input = RiskInput {
        now: p.now,
        ip,
        device: history.device,
        network: history.network,
        account_failures: history.account_failures,
        address_failures: history.address_failures,
        last_strong_auth: strong_at,
        session_device: session.and_then(|s| s.device_hash.as_deref()),
        request_device: seen.device_hash.as_deref(),
        session_user_agent: session_ua,
        user_agent: request_ua.as_deref(),
        location: ip.and_then(locate),
        // Within a session, travel is measured from where and when this
        // session started, not from the account's latest sign-in on another
        // device (a laptop on a VPN and a phone would otherwise flap).
        last_location: match session {
            Some(s) => {
                s.ip.as_deref()
                    .and_then(|i| i.parse().ok())
                    .and_then(locate)
                    .map(|at| (at, s.created_at))
            }
            None => history.last_location,
        },
        request: Sensitivity {
            client_id: request.map(|r| &r.client_id),
            scopes: request.map(|r| r.scope.as_slice()).unwrap_or(none),
            claims: request
                .map(|r| r.requested_claims.as_slice())
                .unwrap_or(none),
        },
    };
    Ok(risk::assess(&input, p.risk))
}

/// Raise a request's requirements to what a step-up decision asks: the
/// stronger acr, and the shorter `max_age`. True if anything changed.
pub fn raise(request: &mut AuthorizationRequest, decision: &Decision) -> bool {
    let Decision::StepUp {
        acr,
        max_auth_age_seconds,
    } = decision
    else {
        return false;
    };
    let mut changed = false;
    let stronger = crate::domain::acr::stronger(request.required_acr, Some(*acr));
    if stronger != request.required_acr {
        request.required_acr = stronger;
        changed = true;
    }
    if let Some(age) = max_auth_age_seconds {
        let age = i64::from(*age);
        if request.max_age.is_none_or(|m| m > age) {
            request.max_age = Some(age);
            changed = true;
        }
    }
    changed
}

/// The audit record of an assessment that changed an outcome: `risk.denied`,
/// or `risk.step_up` (more proof was asked for). `stage` is `sign_in` or
/// `authorize`.
pub fn event(
    now: Millis,
    seen: &Seen,
    user_id: &str,
    client_id: Option<&ClientId>,
    assessment: &RiskAssessment,
    stage: &str,
) -> AuditEvent {
    let (kind, outcome) = match assessment.decision {
        Decision::Deny => ("risk.denied", Outcome::Failure),
        _ => ("risk.step_up", Outcome::Success),
    };
    let reasons: Vec<serde_json::Value> = assessment
        .reasons
        .iter()
        .map(|r| serde_json::json!({ "code": r.code, "message": r.message, "weight": r.weight }))
        .collect();
    let mut e = AuditEvent::new(now, format!("user:{user_id}"), kind, outcome)
        .subject(user_id)
        .reason(&assessment.codes().join(","))
        .detail("stage", stage)
        .detail("score", assessment.score)
        .detail("reasons", serde_json::Value::Array(reasons));
    if let Decision::StepUp {
        acr,
        max_auth_age_seconds,
    } = &assessment.decision
    {
        e = e.detail("required_acr", acr.as_str());
        if let Some(age) = max_auth_age_seconds {
            e = e.detail("max_auth_age_seconds", *age);
        }
    }
    if let Some(c) = client_id {
        e = e.client(c);
    }
    e.ip = seen.ip.clone();
    e.user_agent = seen.user_agent.clone();
    e
}

/// The error a denied request gets (RFC 6749 §4.1.2.1); the reasons stay in
/// the audit trail, where an attacker cannot read them.
pub fn denied() -> OAuthError {
    OAuthError::access_denied("the sign-in was refused by the security policy")
}
