//! Signals together: scores, thresholds, rules and the decisions they lead to.

use super::*;

// ---- combinations ----

#[test]
fn new_device_and_network_alone_allow() {
    let mut input = quiet();
    input.device = Familiarity::New;
    input.network = Familiarity::New;
    let a = assess(&input, &RiskPolicy::default());
    assert_eq!(a.score, 40);
    assert_eq!(a.decision, Decision::Allow);
    assert_eq!(a.summary(), "new_device(+20), new_network(+20)");
}

#[test]
fn new_device_network_and_failures_step_up_to_aal2() {
    let mut input = quiet();
    input.device = Familiarity::New;
    input.network = Familiarity::New;
    input.account_failures = 4;
    let a = assess(&input, &RiskPolicy::default());
    assert_eq!(a.score, 65);
    assert_eq!(a.decision, step_up("aal2", None));
    assert_eq!(a.codes(), ["new_device", "new_network", "account_failures"]);
}

#[test]
fn sensitive_request_with_stale_strong_auth_steps_up_with_max_age() {
    let p = policy_with(|r| {
        r.sensitive_scopes = strings(&["ehr:write"]);
        r.strong_auth_max_age_seconds = 900;
    });
    let scopes = strings(&["ehr:write"]);
    let mut input = quiet();
    input.request.scopes = &scopes;
    input.last_strong_auth = Some(NOW - 2 * HOUR_MS);
    let a = assess(&input, &p);
    assert_eq!(a.score, 70);
    assert_eq!(a.decision, step_up("aal2", Some(900)));
    assert_eq!(
        a.summary(),
        "sensitive_request(+40), stale_strong_auth(+30)"
    );
}

#[test]
fn step_up_without_stale_auth_carries_no_max_age() {
    let p = policy_with(|r| r.sensitive_scopes = strings(&["ehr:write"]));
    let scopes = strings(&["ehr:write"]);
    let mut input = quiet();
    input.request.scopes = &scopes;
    input.device = Familiarity::New;
    let a = assess(&input, &p);
    assert_eq!(a.score, 60);
    assert_eq!(a.decision, step_up("aal2", None));
}

#[test]
fn enough_signals_deny_under_the_defaults() {
    let mut input = quiet();
    input.user_agent = Some("curl/8.0");
    input.location = Some(NEW_YORK);
    input.last_location = Some((PARIS, NOW - HOUR_MS));
    let a = assess(&input, &RiskPolicy::default());
    assert_eq!(a.score, 110);
    assert_eq!(a.decision, Decision::Deny);
}

#[test]
fn denied_network_beats_trusted_network_and_everything() {
    let p = policy_with(|r| {
        r.allow_networks = strings(&["198.51.100.0/24"]);
        r.deny_networks = strings(&["198.51.100.0/28"]);
    });
    let mut input = quiet();
    input.device = Familiarity::New;
    let a = assess(&input, &p);
    assert_eq!(
        a.codes(),
        ["denied_network", "new_device", "trusted_network"]
    );
    assert_eq!(a.score, 0);
    assert_eq!(a.decision, Decision::Deny);
}

#[test]
fn trusted_network_brings_a_step_up_back_under_the_threshold() {
    let p = policy_with(|r| r.allow_networks = strings(&["198.51.100.0/24"]));
    let mut input = quiet();
    input.device = Familiarity::New;
    input.network = Familiarity::New;
    input.account_failures = 3;
    let a = assess(&input, &p);
    assert_eq!(a.score, 35);
    assert_eq!(a.decision, Decision::Allow);
}

#[test]
fn score_is_floored_at_zero() {
    let p = policy_with(|r| {
        r.allow_networks = strings(&["198.51.100.0/24"]);
        r.weights.trusted_network = -500;
    });
    let mut input = quiet();
    input.device = Familiarity::New;
    let a = assess(&input, &p);
    assert_eq!(a.score, 0);
    assert_eq!(a.summary(), "new_device(+20), trusted_network(-500)");
}

#[test]
fn custom_rules_choose_the_highest_reached() {
    let p = policy_with(|r| {
        // Written out of order: validation sorts them.
        r.rules = vec![
            RawRule {
                min_score: 120,
                action: "deny".into(),
                acr: None,
            },
            RawRule {
                min_score: 70,
                action: "step_up".into(),
                acr: Some("phr".into()),
            },
        ];
    });
    assert_eq!(
        p.rules.iter().map(|r| r.min_score).collect::<Vec<_>>(),
        [70, 120]
    );
    let mut input = quiet();
    input.user_agent = Some("other");
    assert_eq!(assess(&input, &p).decision, Decision::Allow); // 50
    input.device = Familiarity::New;
    input.network = Familiarity::New;
    assert_eq!(assess(&input, &p).decision, step_up("phr", Some(0))); // 90, with a changed user agent
    input.account_failures = 3;
    input.address_failures = 10;
    let a = assess(&input, &p); // 135
    assert_eq!(a.score, 135);
    assert_eq!(a.decision, Decision::Deny);
}

#[test]
fn no_rules_never_step_up() {
    let p = policy_with(|r| r.rules.clear());
    let mut input = quiet();
    input.user_agent = Some("other");
    input.location = Some(NEW_YORK);
    input.last_location = Some((PARIS, NOW));
    let a = assess(&input, &p);
    assert_eq!(a.score, 110);
    assert_eq!(a.decision, Decision::Allow);
}

#[test]
fn custom_weights_and_thresholds_apply() {
    let p = policy_with(|r| {
        r.weights.new_device = 55;
        r.account_failures_threshold = 1;
    });
    let mut input = quiet();
    input.device = Familiarity::New;
    input.account_failures = 1;
    let a = assess(&input, &p);
    assert_eq!(a.score, 80);
    assert_eq!(a.decision, step_up("aal2", None));
    assert!(
        a.reasons[1]
            .message
            .contains("1 failed sign-in attempt recently")
    );
}

#[test]
fn disabled_policy_allows_without_evaluating() {
    let p = policy_with(|r| {
        r.enabled = false;
        r.deny_networks = strings(&["0.0.0.0/0"]);
    });
    let mut input = quiet();
    input.device = Familiarity::New;
    input.user_agent = Some("other");
    let a = assess(&input, &p);
    assert_eq!(a.score, 0);
    assert!(a.reasons.is_empty());
    assert_eq!(a.decision, Decision::Allow);
}
