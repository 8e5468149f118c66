//! The quiet baseline, and one test per signal.

use super::*;

// ---- the quiet baseline ----

#[test]
fn nothing_unusual_scores_zero_and_allows() {
    let a = assess(&quiet(), &RiskPolicy::default());
    assert_eq!(a.score, 0);
    assert!(a.reasons.is_empty());
    assert_eq!(a.decision, Decision::Allow);
    assert_eq!(a.summary(), "");
}

// ---- one test per signal ----

#[test]
fn new_device_fires_only_for_new() {
    let p = RiskPolicy::default();
    let mut input = quiet();
    input.device = Familiarity::New;
    let a = assess(&input, &p);
    assert_eq!(a.codes(), ["new_device"]);
    assert_eq!(a.score, 20);
    assert_eq!(
        a.reasons[0].message,
        "This browser has not signed in to this account before."
    );
    input.device = Familiarity::Known;
    assert!(assess(&input, &p).reasons.is_empty());
}

#[test]
fn new_network_fires_only_for_new_and_names_the_prefix() {
    let p = RiskPolicy::default();
    let mut input = quiet();
    input.network = Familiarity::New;
    let a = assess(&input, &p);
    assert_eq!(a.codes(), ["new_network"]);
    assert_eq!(a.score, 20);
    assert!(
        a.reasons[0].message.contains("198.51.100.0/24"),
        "{}",
        a.reasons[0].message
    );
    input.network = Familiarity::Known;
    assert!(assess(&input, &p).reasons.is_empty());
}

#[test]
fn no_history_never_fires() {
    let mut input = quiet();
    input.device = Familiarity::NoHistory;
    input.network = Familiarity::NoHistory;
    let a = assess(&input, &RiskPolicy::default());
    assert!(a.reasons.is_empty());
    assert_eq!(a.decision, Decision::Allow);
}

#[test]
fn account_failures_fire_at_the_threshold() {
    let p = RiskPolicy::default();
    let mut input = quiet();
    input.account_failures = 2;
    assert!(assess(&input, &p).reasons.is_empty());
    input.account_failures = 3;
    let a = assess(&input, &p);
    assert_eq!(a.codes(), ["account_failures"]);
    assert_eq!(a.score, 25);
    assert_eq!(
        a.reasons[0].message,
        "The account has had 3 failed sign-in attempts recently."
    );
}

#[test]
fn address_failures_fire_at_the_threshold() {
    let p = RiskPolicy::default();
    let mut input = quiet();
    input.address_failures = 9;
    assert!(assess(&input, &p).reasons.is_empty());
    input.address_failures = 12;
    let a = assess(&input, &p);
    assert_eq!(a.codes(), ["address_failures"]);
    assert_eq!(a.score, 20);
    assert!(a.reasons[0].message.contains("12 failed sign-in attempts"));
}

#[test]
fn sensitive_request_by_scope_names_the_scope() {
    let p = policy_with(|r| r.sensitive_scopes = strings(&["ehr:write"]));
    let scopes = strings(&["openid", "ehr:write"]);
    let mut input = quiet();
    input.request.scopes = &scopes;
    let a = assess(&input, &p);
    // The last strong sign-in was a minute ago: fresh.
    assert_eq!(a.codes(), ["sensitive_request"]);
    assert_eq!(a.score, 40);
    assert_eq!(a.decision, Decision::Allow);
    assert_eq!(
        a.reasons[0].message,
        "The request asks for the sensitive scope ehr:write."
    );
}

#[test]
fn sensitive_request_by_client_and_claims() {
    let p = policy_with(|r| {
        r.sensitive_clients = strings(&["pharmacy"]);
        r.sensitive_claims = strings(&["ssn", "diagnosis"]);
    });
    let claims = strings(&["diagnosis", "email", "ssn", "ssn"]);
    let mut input = quiet();
    let pharmacy = ClientId::parse("pharmacy").unwrap();
    input.request.client_id = Some(&pharmacy);
    input.request.claims = &claims;
    let a = assess(&input, &p);
    assert_eq!(a.codes(), ["sensitive_request"]);
    assert_eq!(
        a.reasons[0].message,
        "The request comes from the sensitive client pharmacy and asks for the sensitive \
         claims diagnosis, ssn."
    );
}

#[test]
fn ordinary_request_is_not_sensitive() {
    let p = policy_with(|r| {
        r.sensitive_clients = strings(&["pharmacy"]);
        r.sensitive_scopes = strings(&["ehr:write"]);
        r.sensitive_claims = strings(&["ssn"]);
    });
    let scopes = strings(&["openid", "ehr:read"]);
    let claims = strings(&["email"]);
    let mut input = quiet();
    input.request.scopes = &scopes;
    input.request.claims = &claims;
    input.last_strong_auth = None;
    assert!(assess(&input, &p).reasons.is_empty());
}

#[test]
fn stale_strong_auth_only_for_sensitive_requests() {
    let p = policy_with(|r| r.sensitive_scopes = strings(&["ehr:write"]));
    let scopes = strings(&["ehr:write"]);
    let mut input = quiet();
    input.last_strong_auth = None;
    // Not sensitive: no strong sign-in is not a signal by itself.
    assert!(assess(&input, &p).reasons.is_empty());

    input.request.scopes = &scopes;
    let a = assess(&input, &p);
    assert_eq!(a.codes(), ["sensitive_request", "stale_strong_auth"]);
    assert_eq!(a.score, 70);

    // Exactly at the limit is still fresh; one millisecond more is stale.
    input.last_strong_auth = Some(NOW - 3600 * 1000);
    assert_eq!(assess(&input, &p).codes(), ["sensitive_request"]);
    input.last_strong_auth = Some(NOW - 3600 * 1000 - 1);
    let a = assess(&input, &p);
    assert_eq!(a.codes(), ["sensitive_request", "stale_strong_auth"]);
    assert!(
        a.reasons[1].message.contains("60 minutes ago"),
        "{}",
        a.reasons[1].message
    );
}

#[test]
fn user_agent_changed_needs_both_and_a_difference() {
    let p = RiskPolicy::default();
    let mut input = quiet();
    input.user_agent = Some("curl/8.0");
    let a = assess(&input, &p);
    assert_eq!(a.codes(), ["user_agent_changed"]);
    assert_eq!(a.score, 50);
    // A possibly stolen session: only a sign-in made now counts.
    assert_eq!(a.decision, step_up("aal2", Some(0)));
    // The message never repeats what the client sent.
    assert!(!a.reasons[0].message.contains("curl"));

    input.session_user_agent = None;
    assert!(assess(&input, &p).reasons.is_empty());
    input.session_user_agent = Some("Firefox");
    input.user_agent = None;
    assert!(assess(&input, &p).reasons.is_empty());
}

#[test]
fn device_changed_means_the_cookie_moved() {
    let p = RiskPolicy::default();
    let mut input = quiet();
    input.request_device = Some("d2");
    let a = assess(&input, &p);
    assert_eq!(a.codes(), ["device_changed"]);
    assert_eq!(a.decision, step_up("aal2", Some(0)), "a sign-in now");
    input.session_device = None;
    assert!(
        assess(&input, &p).reasons.is_empty(),
        "no session, no signal"
    );
}

#[test]
fn impossible_travel_fires_for_fast_long_journeys() {
    let p = RiskPolicy::default();
    let mut input = quiet();
    input.location = Some(NEW_YORK);
    input.last_location = Some((PARIS, NOW - 2 * HOUR_MS));
    let a = assess(&input, &p);
    assert_eq!(a.codes(), ["impossible_travel"]);
    assert_eq!(a.score, 60);
    assert_eq!(
        a.reasons[0].message,
        "This sign-in is 5837 km from the previous one 2.0 hours earlier, faster than 1000 km/h."
    );
    assert_eq!(a.decision, step_up("aal2", Some(0)), "a sign-in now");
}

#[test]
fn impossible_travel_quiet_when_slow_near_or_unknown() {
    let p = RiskPolicy::default();
    let mut input = quiet();
    // Eight hours for 5837 km is an ordinary flight.
    input.location = Some(NEW_YORK);
    input.last_location = Some((PARIS, NOW - 8 * HOUR_MS));
    assert!(assess(&input, &p).reasons.is_empty());
    // Under the minimum distance, even at once.
    input.location = Some(VERSAILLES);
    input.last_location = Some((PARIS, NOW));
    assert!(assess(&input, &p).reasons.is_empty());
    // Either location unknown.
    input.location = None;
    input.last_location = Some((PARIS, NOW - 60_000));
    assert!(assess(&input, &p).reasons.is_empty());
    input.location = Some(NEW_YORK);
    input.last_location = None;
    assert!(assess(&input, &p).reasons.is_empty());
}

#[test]
fn impossible_travel_with_no_elapsed_time_is_infinitely_fast() {
    let p = RiskPolicy::default();
    let mut input = quiet();
    input.location = Some(NEW_YORK);
    for then in [NOW, NOW + HOUR_MS] {
        input.last_location = Some((PARIS, then));
        let a = assess(&input, &p);
        assert_eq!(a.codes(), ["impossible_travel"]);
        assert!(
            a.reasons[0].message.contains("0.0 hours"),
            "{}",
            a.reasons[0].message
        );
    }
}

#[test]
fn trusted_network_lowers_the_score() {
    let p = policy_with(|r| r.allow_networks = strings(&["198.51.100.0/24"]));
    let a = assess(&quiet(), &p);
    assert_eq!(a.codes(), ["trusted_network"]);
    assert_eq!(a.reasons[0].weight, -30);
    // Floored at zero.
    assert_eq!(a.score, 0);

    let mut input = quiet();
    input.ip = Some(ip("203.0.113.9"));
    assert!(assess(&input, &p).reasons.is_empty());
    input.ip = None;
    assert!(assess(&input, &p).reasons.is_empty());
}

#[test]
fn denied_network_denies_with_a_zero_weight_reason() {
    let p = policy_with(|r| r.deny_networks = strings(&["198.51.100.7"]));
    let a = assess(&quiet(), &p);
    assert_eq!(a.codes(), ["denied_network"]);
    assert_eq!(a.reasons[0].weight, 0);
    assert_eq!(a.score, 0);
    assert_eq!(a.decision, Decision::Deny);

    let mut input = quiet();
    input.ip = Some(ip("198.51.100.8"));
    assert_eq!(assess(&input, &p).decision, Decision::Allow);
}
