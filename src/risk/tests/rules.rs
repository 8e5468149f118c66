//! The `[risk]` policy: defaults, deserialisation and validation.

use super::*;

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
                action: RuleAction::StepUp { acr: Acr::Aal2 }
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
    // A sensitive client must be a client_id some client could have.
    assert!(
        validation_error(|r| r.sensitive_clients = strings(&["pharmacy", "a/b"]))
            .starts_with("risk.sensitive_clients[1]: \"a/b\" is not a client_id")
    );
    assert!(
        validation_error(|r| r.sensitive_clients = strings(&[" pharmacy"]))
            .starts_with("risk.sensitive_clients[0]: ")
    );
    assert!(
        validation_error(
            |r| r.sensitive_clients = strings(&["0b5f2a3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c"])
        )
        .starts_with("risk.sensitive_clients[0]: ")
    );
}
