//! `assess`: facts about one request and a policy in, a score, the reasons
//! behind it and a decision out. Pure: no clock, no storage, no I/O.

use std::net::IpAddr;

use super::geoip::GeoPoint;
use super::network;
use super::policy::{RiskPolicy, RuleAction};
use crate::clock::Millis;
use crate::domain::ClientId;
use crate::domain::acr::Acr;

/// How something about this request compares with the user's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Familiarity {
    /// Seen before for this user.
    Known,
    /// Not seen before, and the user has history to compare with.
    New,
    /// Nothing to compare with (a first sign-in, or the fact is unknown): the
    /// signal never fires, so a brand-new account is not punished for being new.
    NoHistory,
}

/// What the request asks for, to decide whether it is sensitive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sensitivity<'a> {
    pub client_id: Option<&'a ClientId>,
    pub scopes: &'a [String],
    pub claims: &'a [String],
}

/// Everything the engine looks at. The caller gathers it; `None` means
/// "not known" and keeps the signals that need it quiet.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskInput<'a> {
    pub now: Millis,
    pub ip: Option<IpAddr>,
    /// This browser's signed device cookie against the user's known devices.
    pub device: Familiarity,
    /// The address's network (`network::prefix`) against the user's known networks.
    pub network: Familiarity,
    /// Recent failed sign-in attempts on the account.
    pub account_failures: u32,
    /// Recent failed sign-in attempts from this address.
    pub address_failures: u32,
    /// When the user last signed in at aal2 or stronger in this session.
    pub last_strong_auth: Option<Millis>,
    /// The device (cookie hash) the session started on, and this request's;
    /// a difference means the session cookie moved to another browser.
    pub session_device: Option<&'a str>,
    pub request_device: Option<&'a str>,
    /// The user agent recorded when the session started.
    pub session_user_agent: Option<&'a str>,
    /// This request's user agent.
    pub user_agent: Option<&'a str>,
    /// Where the address is, when a GeoIP database is configured.
    pub location: Option<GeoPoint>,
    /// Where and when the user last signed in.
    pub last_location: Option<(GeoPoint, Millis)>,
    pub request: Sensitivity<'a>,
}

/// One signal that fired. `code` is stable (audit records and tests match
/// on it); `message` is for people reading the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub code: &'static str,
    pub message: String,
    pub weight: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Ask for a sign-in at `acr` or stronger; with `max_auth_age_seconds`,
    /// one made that recently (an older strong sign-in does not count).
    StepUp {
        acr: Acr,
        max_auth_age_seconds: Option<u32>,
    },
    Deny,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskAssessment {
    /// The sum of the reasons' weights, never below 0.
    pub score: i32,
    pub reasons: Vec<Reason>,
    pub decision: Decision,
}

impl RiskAssessment {
    pub fn codes(&self) -> Vec<&'static str> {
        self.reasons.iter().map(|r| r.code).collect()
    }

    /// `new_device(+20), new_network(+20)`: short enough for audit details.
    /// Empty when nothing fired.
    pub fn summary(&self) -> String {
        self.reasons
            .iter()
            .map(|r| format!("{}({:+})", r.code, r.weight))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Score a request against the policy and decide.
/// Signals that suggest someone else holds the session.
fn hijack_suspected(reasons: &[Reason]) -> bool {
    reasons.iter().any(|r| {
        matches!(
            r.code,
            "device_changed" | "user_agent_changed" | "impossible_travel"
        )
    })
}

pub fn assess(input: &RiskInput, policy: &RiskPolicy) -> RiskAssessment {
    if !policy.enabled {
        return RiskAssessment {
            score: 0,
            reasons: Vec::new(),
            decision: Decision::Allow,
        };
    }
    let mut reasons = Vec::new();
    let denied = input
        .ip
        .filter(|ip| network::contains_any(&policy.deny_networks, *ip));
    if let Some(ip) = denied {
        // Weight 0: the refusal does not come from the score, and a large
        // weight would only make the score meaningless.
        push(
            &mut reasons,
            "denied_network",
            0,
            format!("The address {} is in a denied network.", ip.to_canonical()),
        );
    }

    familiarity_and_failures(input, policy, &mut reasons);
    let stale = sensitive_request(input, policy, &mut reasons);
    takeover_signs(input, policy, &mut reasons);
    if let Some(ip) = input
        .ip
        .filter(|ip| network::contains_any(&policy.allow_networks, *ip))
    {
        push(
            &mut reasons,
            "trusted_network",
            policy.weights.trusted_network,
            format!("The address {} is in a trusted network.", ip.to_canonical()),
        );
    }

    let score = reasons
        .iter()
        .fold(0i32, |sum, r| sum.saturating_add(r.weight))
        .max(0);

    let decision = if denied.is_some() {
        Decision::Deny
    } else {
        decide(policy, score, &reasons, stale)
    };
    RiskAssessment {
        score,
        reasons,
        decision,
    }
}

fn push(reasons: &mut Vec<Reason>, code: &'static str, weight: i32, message: String) {
    reasons.push(Reason {
        code,
        message,
        weight,
    });
}

/// `new_device`, `new_network`, `account_failures`, `address_failures`.
fn familiarity_and_failures(input: &RiskInput, policy: &RiskPolicy, reasons: &mut Vec<Reason>) {
    let w = &policy.weights;
    if input.device == Familiarity::New {
        push(
            reasons,
            "new_device",
            w.new_device,
            "This browser has not signed in to this account before.".to_owned(),
        );
    }

    if input.network == Familiarity::New {
        let message = match input.ip {
            Some(ip) => format!(
                "The account has not signed in from the network {} before.",
                network::prefix(ip)
            ),
            None => "The account has not signed in from this network before.".to_owned(),
        };
        push(reasons, "new_network", w.new_network, message);
    }

    if input.account_failures >= policy.account_failures_threshold {
        push(
            reasons,
            "account_failures",
            w.account_failures,
            format!(
                "The account has had {} recently.",
                failed_attempts(input.account_failures)
            ),
        );
    }

    if input.address_failures >= policy.address_failures_threshold {
        push(
            reasons,
            "address_failures",
            w.address_failures,
            format!(
                "This address has made {} recently.",
                failed_attempts(input.address_failures)
            ),
        );
    }
}

/// `sensitive_request`, and `stale_strong_auth` with it; true if stale.
fn sensitive_request(input: &RiskInput, policy: &RiskPolicy, reasons: &mut Vec<Reason>) -> bool {
    let w = &policy.weights;
    let sensitive = sensitive_parts(&input.request, policy);
    if !sensitive.is_empty() {
        push(
            reasons,
            "sensitive_request",
            w.sensitive_request,
            format!("The request {}.", sensitive.join(" and ")),
        );
        let max_age_ms = i64::from(policy.strong_auth_max_age_seconds) * 1000;
        let message = match input.last_strong_auth {
            None => Some(
                "The request is sensitive and this session has no sign-in at aal2 or stronger."
                    .to_owned(),
            ),
            Some(at) if input.now.saturating_sub(at) > max_age_ms => Some(format!(
                "The request is sensitive and the last sign-in at aal2 or stronger was {} ago, \
                 more than the {} allowed.",
                duration(input.now.saturating_sub(at) / 1000),
                duration(i64::from(policy.strong_auth_max_age_seconds)),
            )),
            Some(_) => None,
        };
        if let Some(message) = message {
            push(reasons, "stale_strong_auth", w.stale_strong_auth, message);
            return true;
        }
    }
    false
}

/// Signs that a session changed hands: `device_changed`,
/// `user_agent_changed`, `impossible_travel`.
fn takeover_signs(input: &RiskInput, policy: &RiskPolicy, reasons: &mut Vec<Reason>) {
    let w = &policy.weights;
    if let (Some(before), Some(now)) = (input.session_device, input.request_device)
        && before != now
    {
        push(
            reasons,
            "device_changed",
            w.device_changed,
            "This session's cookie is being used by another browser than the one it started in."
                .to_owned(),
        );
    }

    if let (Some(before), Some(now)) = (input.session_user_agent, input.user_agent)
        && before != now
    {
        // The strings are not quoted: they are whatever the client sent.
        push(
            reasons,
            "user_agent_changed",
            w.user_agent_changed,
            "The browser's user agent differs from the one that started this session.".to_owned(),
        );
    }

    if let (Some(here), Some((there, then))) = (input.location, input.last_location) {
        let km = here.distance_km(&there);
        let elapsed_ms = input.now.saturating_sub(then);
        // No time elapsed (or the clocks disagree): any distance is infinitely fast.
        let kmh = if elapsed_ms <= 0 {
            f64::INFINITY
        } else {
            km / (elapsed_ms as f64 / 3_600_000.0)
        };
        if km >= policy.impossible_travel_min_km && kmh > policy.impossible_travel_kmh {
            push(
                reasons,
                "impossible_travel",
                w.impossible_travel,
                format!(
                    "This sign-in is {km:.0} km from the previous one {:.1} hours earlier, \
                     faster than {:.0} km/h.",
                    elapsed_ms.max(0) as f64 / 3_600_000.0,
                    policy.impossible_travel_kmh
                ),
            );
        }
    }
}

/// The decision the rules give for `score` (the address is not denied).
fn decide(policy: &RiskPolicy, score: i32, reasons: &[Reason], stale: bool) -> Decision {
    // Rules are sorted by min_score: the last one reached is the strongest.
    match policy.rules.iter().rev().find(|r| score >= r.min_score) {
        None => Decision::Allow,
        Some(rule) => match &rule.action {
            RuleAction::Deny => Decision::Deny,
            RuleAction::StepUp { acr } => Decision::StepUp {
                acr: *acr,
                // A session that may have been taken over (its browser or
                // its place changed) proves nothing by its past sign-ins:
                // only a sign-in now (age 0) will do.
                max_auth_age_seconds: if hijack_suspected(reasons) {
                    Some(0)
                } else {
                    stale.then_some(policy.strong_auth_max_age_seconds)
                },
            },
        },
    }
}

/// What makes the request sensitive, as phrases that follow "The request":
/// only configured names are quoted, never arbitrary request values.
fn sensitive_parts(request: &Sensitivity, policy: &RiskPolicy) -> Vec<String> {
    let mut parts = Vec::new();
    if let Some(client) = request
        .client_id
        .filter(|c| policy.sensitive_clients.contains(c))
    {
        parts.push(format!("comes from the sensitive client {client}"));
    }
    let matched = |asked: &[String], sensitive: &[String]| -> Vec<String> {
        let mut found: Vec<String> = Vec::new();
        for a in asked {
            if sensitive.contains(a) && !found.contains(a) {
                found.push(a.clone());
            }
        }
        found
    };
    for (kind, found) in [
        ("scope", matched(request.scopes, &policy.sensitive_scopes)),
        ("claim", matched(request.claims, &policy.sensitive_claims)),
    ] {
        match found.len() {
            0 => {}
            1 => parts.push(format!("asks for the sensitive {kind} {}", found[0])),
            _ => parts.push(format!(
                "asks for the sensitive {kind}s {}",
                found.join(", ")
            )),
        }
    }
    parts
}

fn failed_attempts(n: u32) -> String {
    if n == 1 {
        "1 failed sign-in attempt".to_owned()
    } else {
        format!("{n} failed sign-in attempts")
    }
}

/// A rough duration for people: "45 seconds", "20 minutes", "3 hours", "2 days".
fn duration(seconds: i64) -> String {
    let (n, unit) = match seconds {
        s if s < 120 => (s, "second"),
        s if s < 120 * 60 => (s / 60, "minute"),
        s if s < 48 * 3600 => (s / 3600, "hour"),
        s => (s / 86_400, "day"),
    };
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}
