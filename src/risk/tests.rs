//! Unit tests for the risk engine, its policy, the GeoIP loader and networks.

use std::net::IpAddr;

use super::network::{contains_any, prefix};
use super::*;

const NOW: Millis = 1_800_000_000_000;
const HOUR_MS: Millis = 3_600_000;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A request with nothing unusual about it: every signal quiet.
fn quiet() -> RiskInput<'static> {
    RiskInput {
        now: NOW,
        ip: Some(ip("198.51.100.7")),
        device: Familiarity::Known,
        network: Familiarity::Known,
        account_failures: 0,
        address_failures: 0,
        last_strong_auth: Some(NOW - 60_000),
        session_device: Some("d1"),
        request_device: Some("d1"),
        session_user_agent: Some("Firefox"),
        user_agent: Some("Firefox"),
        location: None,
        last_location: None,
        request: Sensitivity {
            client_id: Some("portal"),
            scopes: &[],
            claims: &[],
        },
    }
}

fn policy_with(edit: impl FnOnce(&mut RawRiskConfig)) -> RiskPolicy {
    let mut raw = RawRiskConfig::default();
    edit(&mut raw);
    raw.validate().unwrap()
}

fn validation_error(edit: impl FnOnce(&mut RawRiskConfig)) -> String {
    let mut raw = RawRiskConfig::default();
    edit(&mut raw);
    raw.validate().unwrap_err()
}

fn step_up(acr: &str, max_age: Option<u32>) -> Decision {
    Decision::StepUp {
        acr: acr.to_owned(),
        max_auth_age_seconds: max_age,
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

const PARIS: GeoPoint = GeoPoint {
    latitude: 48.8566,
    longitude: 2.3522,
};
const NEW_YORK: GeoPoint = GeoPoint {
    latitude: 40.7128,
    longitude: -74.0060,
};
const VERSAILLES: GeoPoint = GeoPoint {
    latitude: 48.8049,
    longitude: 2.1204,
};

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
    input.request.client_id = Some("pharmacy");
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

// ---- policy ----

#[test]
fn default_policy_matches_the_documented_defaults() {
    let p = RiskPolicy::default();
    assert!(p.enabled);
    assert_eq!(p.account_failures_threshold, 3);
    assert_eq!(p.address_failures_threshold, 10);
    assert_eq!(p.strong_auth_max_age_seconds, 3600);
    assert_eq!(p.impossible_travel_kmh, 1000.0);
    assert_eq!(p.impossible_travel_min_km, 500.0);
    assert_eq!(p.geoip_file, None);
    assert_eq!(
        p.rules,
        [
            Rule {
                min_score: 50,
                action: RuleAction::StepUp { acr: "aal2".into() }
            },
            Rule {
                min_score: 100,
                action: RuleAction::Deny
            },
        ]
    );
    assert_eq!(p.weights, Weights::default());
}

#[test]
fn raw_config_deserializes_with_defaults_and_refuses_unknown_keys() {
    let raw: RawRiskConfig = serde_json::from_value(serde_json::json!({
        "weights": { "new_device": 35 },
        "deny_networks": ["192.0.2.1", "2001:db8::/32"],
        "rules": [{ "min_score": 60, "action": "step_up", "acr": "phrh" }],
        "geoip_file": "/var/lib/ward/GeoLite2-City-Blocks-IPv4.csv"
    }))
    .unwrap();
    let p = raw.validate().unwrap();
    assert_eq!(p.weights.new_device, 35);
    assert_eq!(p.weights.new_network, 20);
    assert_eq!(p.deny_networks[0].to_string(), "192.0.2.1/32");
    assert_eq!(p.deny_networks[1].to_string(), "2001:db8::/32");
    assert_eq!(p.rules.len(), 1);
    assert_eq!(
        p.geoip_file.as_deref(),
        Some(std::path::Path::new(
            "/var/lib/ward/GeoLite2-City-Blocks-IPv4.csv"
        ))
    );

    let err = serde_json::from_value::<RawRiskConfig>(serde_json::json!({ "enabeld": false }))
        .unwrap_err();
    assert!(err.to_string().contains("enabeld"), "{err}");
    let err = serde_json::from_value::<RawRiskConfig>(
        serde_json::json!({ "weights": { "new_devcie": 1 } }),
    )
    .unwrap_err();
    assert!(err.to_string().contains("new_devcie"), "{err}");

    // What Serialize writes reads back the same.
    let text = serde_json::to_string(&RawRiskConfig::default()).unwrap();
    let back: RawRiskConfig = serde_json::from_str(&text).unwrap();
    assert_eq!(back, RawRiskConfig::default());
}

#[test]
fn bare_addresses_become_host_networks() {
    let p = policy_with(|r| r.allow_networks = strings(&["10.1.2.3", "::1", "10.9.9.9/8"]));
    let shown: Vec<String> = p.allow_networks.iter().map(|n| n.to_string()).collect();
    assert_eq!(shown, ["10.1.2.3/32", "::1/128", "10.0.0.0/8"]);
}

#[test]
fn validation_refuses_a_bad_network() {
    assert_eq!(
        validation_error(|r| r.allow_networks = strings(&["10.0.0.0/8", "10.0.0.0/33"])),
        "risk.allow_networks[1]: \"10.0.0.0/33\" is not an IP address or CIDR network"
    );
    assert!(
        validation_error(|r| r.deny_networks = strings(&["example.org"]))
            .starts_with("risk.deny_networks[0]: ")
    );
}

#[test]
fn validation_refuses_an_unknown_acr() {
    let err = validation_error(|r| {
        r.rules[1] = RawRule {
            min_score: 80,
            action: "step_up".into(),
            acr: Some("x".into()),
        }
    });
    assert!(
        err.starts_with("risk.rules[1].acr: unknown acr \"x\""),
        "{err}"
    );
}

#[test]
fn validation_refuses_step_up_without_acr_and_deny_with_acr() {
    assert_eq!(
        validation_error(|r| r.rules[0].acr = None),
        "risk.rules[0].acr: required when action is step_up"
    );
    assert_eq!(
        validation_error(|r| r.rules[1].acr = Some("aal2".into())),
        "risk.rules[1].acr: not allowed when action is deny"
    );
}

#[test]
fn validation_refuses_bad_rules() {
    assert!(
        validation_error(|r| r.rules[1].action = "block".into())
            .starts_with("risk.rules[1].action: unknown action \"block\"")
    );
    assert!(
        validation_error(|r| r.rules[0].min_score = 0).starts_with("risk.rules[0].min_score: ")
    );
    assert!(
        validation_error(|r| r.rules[1].min_score = 50)
            .starts_with("risk.rules[1].min_score: 50 is already used by risk.rules[0]")
    );
}

#[test]
fn validation_refuses_bad_numbers_and_names() {
    assert!(
        validation_error(|r| r.account_failures_threshold = 0)
            .starts_with("risk.account_failures_threshold: ")
    );
    assert!(
        validation_error(|r| r.address_failures_threshold = -1)
            .starts_with("risk.address_failures_threshold: ")
    );
    assert!(
        validation_error(|r| r.strong_auth_max_age_seconds = 1 << 40)
            .starts_with("risk.strong_auth_max_age_seconds: ")
    );
    assert!(
        validation_error(|r| r.impossible_travel_kmh = 0.0)
            .starts_with("risk.impossible_travel_kmh: ")
    );
    assert!(
        validation_error(|r| r.impossible_travel_kmh = f64::NAN)
            .starts_with("risk.impossible_travel_kmh: ")
    );
    assert!(
        validation_error(|r| r.impossible_travel_min_km = -1.0)
            .starts_with("risk.impossible_travel_min_km: ")
    );
    assert!(
        validation_error(|r| r.sensitive_scopes = strings(&["ehr:write", " "]))
            .starts_with("risk.sensitive_scopes[1]: ")
    );
}

// ---- networks ----

#[test]
fn prefixes_group_addresses_by_network() {
    assert_eq!(prefix(ip("203.0.113.77")), "203.0.113.0/24");
    assert_eq!(prefix(ip("2001:db8:1:2::5")), "2001:db8:1::/48");
    assert_eq!(prefix(ip("::ffff:203.0.113.77")), "203.0.113.0/24");
}

#[test]
fn contains_any_maps_ipv4_mapped_addresses() {
    let nets: Vec<ipnet::IpNet> = vec![
        "10.0.0.0/8".parse().unwrap(),
        "2001:db8::/32".parse().unwrap(),
    ];
    assert!(contains_any(&nets, ip("10.2.3.4")));
    assert!(contains_any(&nets, ip("::ffff:10.2.3.4")));
    assert!(contains_any(&nets, ip("2001:db8:5::1")));
    assert!(!contains_any(&nets, ip("11.0.0.1")));
    assert!(!contains_any(&nets, ip("2001:db9::1")));
    assert!(!contains_any(&[], ip("10.2.3.4")));
}

// ---- GeoIP ----

const GEO_CSV: &str = "\u{feff}network,geoname_id,registered_country_geoname_id,represented_country_geoname_id,is_anonymous_proxy,is_satellite_provider,postal_code,latitude,longitude,accuracy_radius,is_anycast\r
\"1.0.0.0/24\",2077456,2077456,,0,0,,\"-33.4940\",\"143.2104\",1000,0\r
1.0.1.0/24,1814991,1814991,,0,0,,34.7732,113.7220,1000,0\r
1.0.2.0/24,1814991,1814991,,0,0,,,,1000,0\r
\r
2001:db8::/32,2988507,3017382,,0,0,75001,48.8566,2.3522,20,0\r
";

#[test]
fn geoip_parses_the_geolite2_layout() {
    let db = GeoDb::from_csv_str(GEO_CSV).unwrap();
    assert_eq!(db.range_counts(), (2, 1));
    assert_eq!(
        db.lookup(ip("1.0.0.200")),
        Some(GeoPoint {
            latitude: -33.494,
            longitude: 143.2104
        })
    );
    assert_eq!(db.lookup(ip("1.0.1.0")).unwrap().latitude, 34.7732);
    assert_eq!(db.lookup(ip("1.0.1.255")).unwrap().latitude, 34.7732);
    // The row without coordinates was skipped.
    assert_eq!(db.lookup(ip("1.0.2.1")), None);
    assert_eq!(db.lookup(ip("0.255.255.255")), None);
    assert_eq!(db.lookup(ip("9.9.9.9")), None);
    assert_eq!(db.lookup(ip("2001:db8:ffff::1")).unwrap(), PARIS);
    assert_eq!(db.lookup(ip("2001:db9::1")), None);
    // IPv4-mapped IPv6 is looked up as IPv4.
    assert_eq!(db.lookup(ip("::ffff:1.0.1.9")).unwrap().latitude, 34.7732);
}

#[test]
fn geoip_finds_columns_by_name() {
    let db = GeoDb::from_csv_str("longitude,latitude,network\n2.35,48.85,192.0.2.0/24\n").unwrap();
    assert_eq!(
        db.lookup(ip("192.0.2.1")),
        Some(GeoPoint {
            latitude: 48.85,
            longitude: 2.35
        })
    );
}

#[test]
fn geoip_most_specific_network_wins() {
    let csv = "network,latitude,longitude\n\
               10.0.0.0/8,1,1\n\
               10.1.0.0/16,2,2\n\
               10.1.2.0/24,3,3\n\
               10.200.0.0/16,4,4\n\
               ::ffff:10.1.2.128/121,5,5\n";
    let db = GeoDb::from_csv_str(csv).unwrap();
    let lat = |s: &str| db.lookup(ip(s)).map(|p| p.latitude);
    assert_eq!(lat("10.0.0.1"), Some(1.0));
    assert_eq!(lat("10.1.0.1"), Some(2.0));
    assert_eq!(lat("10.1.2.3"), Some(3.0));
    assert_eq!(lat("10.1.2.130"), Some(5.0));
    assert_eq!(lat("10.1.3.0"), Some(2.0));
    assert_eq!(lat("10.2.0.0"), Some(1.0));
    assert_eq!(lat("10.200.9.9"), Some(4.0));
    assert_eq!(lat("10.255.255.255"), Some(1.0));
    assert_eq!(lat("11.0.0.0"), None);
}

#[test]
fn geoip_covers_the_ends_of_the_address_space() {
    let csv = "network,latitude,longitude\n0.0.0.0/0,1,1\n255.255.255.255/32,2,2\n::/0,3,3\n";
    let db = GeoDb::from_csv_str(csv).unwrap();
    assert_eq!(db.lookup(ip("0.0.0.0")).unwrap().latitude, 1.0);
    assert_eq!(db.lookup(ip("255.255.255.254")).unwrap().latitude, 1.0);
    assert_eq!(db.lookup(ip("255.255.255.255")).unwrap().latitude, 2.0);
    assert_eq!(db.lookup(ip("ffff::1")).unwrap().latitude, 3.0);
}

#[test]
fn geoip_refuses_bad_rows_with_line_numbers() {
    let bad = |body: &str| {
        GeoDb::from_csv_str(&format!(
            "network,latitude,longitude\n1.0.0.0/24,1,1\n{body}\n"
        ))
        .unwrap_err()
    };
    assert!(
        bad("1.0.1.0/24,91,0").starts_with("line 3: latitude 91"),
        "{}",
        bad("1.0.1.0/24,91,0")
    );
    assert!(bad("1.0.1.0/24,0,-180.5").starts_with("line 3: longitude -180.5"));
    assert!(bad("1.0.1.0/24,north,0").starts_with("line 3: latitude \"north\""));
    assert!(bad("1.0.1.0/24,NaN,0").starts_with("line 3: latitude NaN"));
    assert!(bad("1.0.1.0/33,0,0").starts_with("line 3: network \"1.0.1.0/33\""));
    assert!(bad("1.0.1.0/24,0").starts_with("line 3: expected at least 3 fields"));
    assert_eq!(
        GeoDb::from_csv_str("network,lat,lon\n").unwrap_err(),
        "line 1: the header has no \"latitude\" column"
    );
    assert_eq!(GeoDb::from_csv_str("\n\n").unwrap_err(), "no header row");
}

#[test]
fn geoip_load_reads_a_file_and_names_it_in_errors() {
    let dir = std::env::temp_dir().join(format!("ward-risk-geoip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("blocks.csv");
    std::fs::write(&path, GEO_CSV).unwrap();
    let db = GeoDb::load(&path).unwrap();
    assert_eq!(db.lookup(ip("1.0.1.1")).unwrap().longitude, 113.722);
    let missing = dir.join("missing.csv");
    assert!(GeoDb::load(&missing).unwrap_err().contains("missing.csv"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn distance_paris_new_york() {
    let d = PARIS.distance_km(&NEW_YORK);
    assert!((d - 5837.0).abs() <= 10.0, "{d}");
    assert!((NEW_YORK.distance_km(&PARIS) - d).abs() < 1e-9);
    assert_eq!(PARIS.distance_km(&PARIS), 0.0);
    // Antipodes: half the circumference, no NaN from rounding.
    let a = GeoPoint {
        latitude: 0.0,
        longitude: 0.0,
    };
    let b = GeoPoint {
        latitude: 0.0,
        longitude: 180.0,
    };
    assert!((a.distance_km(&b) - std::f64::consts::PI * 6371.0088).abs() < 1e-6);
}
