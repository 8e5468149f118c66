//! The risk policy: what the `[risk]` configuration section may say
//! (`RawRiskConfig`, with the defaults) and the validated form the engine
//! reads (`RiskPolicy`).

use std::net::IpAddr;
use std::path::PathBuf;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::domain::ClientId;
use crate::domain::acr::{ACR_VALUES, Acr};

/// How much each signal adds to the score. A negative weight lowers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Weights {
    pub new_device: i32,
    pub new_network: i32,
    pub account_failures: i32,
    pub address_failures: i32,
    pub sensitive_request: i32,
    pub stale_strong_auth: i32,
    pub user_agent_changed: i32,
    pub device_changed: i32,
    pub impossible_travel: i32,
    pub trusted_network: i32,
}

impl Default for Weights {
    fn default() -> Self {
        // With the default rules (step up at 50, deny at 100), one unfamiliar
        // thing alone (a new device, or a new network) does not interrupt a
        // sign-in; two together with failures or a sensitive request do. A
        // changed user agent within a session or an impossible journey is
        // enough on its own, because both suggest a stolen session.
        Self {
            new_device: 20,
            new_network: 20,
            account_failures: 25,
            address_failures: 20,
            sensitive_request: 40,
            stale_strong_auth: 30,
            user_agent_changed: 50,
            device_changed: 50,
            impossible_travel: 60,
            trusted_network: -30,
        }
    }
}

/// One rule as written: `{ min_score = 50, action = "step_up", acr = "aal2" }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    pub min_score: i32,
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
}

/// `[risk]`: plain values with the defaults; `validate` types them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawRiskConfig {
    pub enabled: bool,
    pub weights: Weights,
    /// Recent failed sign-ins on the account from which `account_failures` fires.
    pub account_failures_threshold: i64,
    /// Recent failed sign-ins from the address from which `address_failures` fires.
    pub address_failures_threshold: i64,
    /// How recent a strong (aal2 or better) sign-in must be for a sensitive request.
    pub strong_auth_max_age_seconds: i64,
    /// Speed above which a journey between two sign-ins is taken as impossible.
    pub impossible_travel_kmh: f64,
    /// Distance below which travel is never flagged: GeoIP places an address
    /// only roughly, so nearby cities can look far apart in minutes.
    pub impossible_travel_min_km: f64,
    pub sensitive_clients: Vec<String>,
    pub sensitive_scopes: Vec<String>,
    pub sensitive_claims: Vec<String>,
    /// CIDR networks or bare addresses that lower the score.
    pub allow_networks: Vec<String>,
    /// CIDR networks or bare addresses that are always refused.
    pub deny_networks: Vec<String>,
    pub rules: Vec<RawRule>,
    /// A GeoIP CSV file (GeoLite2-City-Blocks layout); empty = no location signals.
    pub geoip_file: String,
}

impl Default for RawRiskConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            weights: Weights::default(),
            account_failures_threshold: 3,
            address_failures_threshold: 10,
            strong_auth_max_age_seconds: 3600,
            // Faster than an airliner once airport time is counted; 500 km
            // keeps GeoIP's city-level error from flagging regional moves.
            impossible_travel_kmh: 1000.0,
            impossible_travel_min_km: 500.0,
            sensitive_clients: Vec::new(),
            sensitive_scopes: Vec::new(),
            sensitive_claims: Vec::new(),
            allow_networks: Vec::new(),
            deny_networks: Vec::new(),
            rules: vec![
                RawRule {
                    min_score: 50,
                    action: "step_up".to_owned(),
                    acr: Some(Acr::Aal2.to_string()),
                },
                RawRule {
                    min_score: 100,
                    action: "deny".to_owned(),
                    acr: None,
                },
            ],
            geoip_file: String::new(),
        }
    }
}

/// What a rule does once the score reaches its `min_score`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleAction {
    /// Ask for a sign-in at `acr` or stronger.
    StepUp {
        acr: Acr,
    },
    Deny,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub min_score: i32,
    pub action: RuleAction,
}

/// The validated policy.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskPolicy {
    pub enabled: bool,
    pub weights: Weights,
    pub account_failures_threshold: u32,
    pub address_failures_threshold: u32,
    pub strong_auth_max_age_seconds: u32,
    pub impossible_travel_kmh: f64,
    pub impossible_travel_min_km: f64,
    pub sensitive_clients: Vec<ClientId>,
    pub sensitive_scopes: Vec<String>,
    pub sensitive_claims: Vec<String>,
    pub allow_networks: Vec<IpNet>,
    pub deny_networks: Vec<IpNet>,
    /// Sorted by `min_score`, lowest first; no two share a `min_score`.
    pub rules: Vec<Rule>,
    /// Loading it is the caller's job (`GeoDb::load`), so that the policy
    /// stays a plain value and validation does no I/O.
    pub geoip_file: Option<PathBuf>,
}

impl Default for RiskPolicy {
    fn default() -> Self {
        RawRiskConfig::default()
            .validate()
            .expect("the default risk configuration is valid")
    }
}

impl RawRiskConfig {
    /// Check every value and build the policy. Errors name the field, e.g.
    /// `risk.rules[1].acr: unknown acr "x"`.
    pub fn validate(&self) -> Result<RiskPolicy, String> {
        let account_failures_threshold = positive_u32(
            "risk.account_failures_threshold",
            self.account_failures_threshold,
        )?;
        let address_failures_threshold = positive_u32(
            "risk.address_failures_threshold",
            self.address_failures_threshold,
        )?;
        let strong_auth_max_age_seconds = positive_u32(
            "risk.strong_auth_max_age_seconds",
            self.strong_auth_max_age_seconds,
        )?;
        if !(self.impossible_travel_kmh.is_finite() && self.impossible_travel_kmh > 0.0) {
            return Err(format!(
                "risk.impossible_travel_kmh: must be a positive number, not {}",
                self.impossible_travel_kmh
            ));
        }
        if !(self.impossible_travel_min_km.is_finite() && self.impossible_travel_min_km >= 0.0) {
            return Err(format!(
                "risk.impossible_travel_min_km: must be zero or a positive number, not {}",
                self.impossible_travel_min_km
            ));
        }
        Ok(RiskPolicy {
            enabled: self.enabled,
            weights: self.weights,
            account_failures_threshold,
            address_failures_threshold,
            strong_auth_max_age_seconds,
            impossible_travel_kmh: self.impossible_travel_kmh,
            impossible_travel_min_km: self.impossible_travel_min_km,
            sensitive_clients: client_ids("risk.sensitive_clients", &self.sensitive_clients)?,
            sensitive_scopes: names("risk.sensitive_scopes", &self.sensitive_scopes)?,
            sensitive_claims: names("risk.sensitive_claims", &self.sensitive_claims)?,
            allow_networks: networks("risk.allow_networks", &self.allow_networks)?,
            deny_networks: networks("risk.deny_networks", &self.deny_networks)?,
            rules: rules(&self.rules)?,
            geoip_file: (!self.geoip_file.trim().is_empty())
                .then(|| PathBuf::from(self.geoip_file.trim())),
        })
    }
}

fn positive_u32(field: &str, value: i64) -> Result<u32, String> {
    match u32::try_from(value) {
        Ok(v) if v >= 1 => Ok(v),
        _ => Err(format!(
            "{field}: must be between 1 and {}, not {value}",
            u32::MAX
        )),
    }
}

/// Client ids, scopes and claim names are compared exactly; an empty or
/// padded entry could never match and is most likely a typo.
fn names(field: &str, values: &[String]) -> Result<Vec<String>, String> {
    for (i, v) in values.iter().enumerate() {
        if v.is_empty() || v.trim() != v {
            return Err(format!(
                "{field}[{i}]: {v:?} must not be empty or have surrounding spaces"
            ));
        }
    }
    Ok(values.to_vec())
}

/// Client ids as registered (`domain::ClientId`, spelled exactly): a name
/// no client can have would never match, so it is refused.
fn client_ids(field: &str, values: &[String]) -> Result<Vec<ClientId>, String> {
    names(field, values)?
        .iter()
        .enumerate()
        .map(|(i, v)| {
            ClientId::exact(v).ok_or_else(|| {
                format!(
                    "{field}[{i}]: {v:?} is not a client_id (ASCII letters, digits and . _ - :, \
                     not a UUID)"
                )
            })
        })
        .collect()
}

/// A CIDR network, or a bare address meaning just that address (/32 or /128).
fn networks(field: &str, values: &[String]) -> Result<Vec<IpNet>, String> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let s = v.trim();
            s.parse::<IpNet>()
                .map(|net| net.trunc())
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{field}[{i}]: {v:?} is not an IP address or CIDR network"))
        })
        .collect()
}

fn rules(raw: &[RawRule]) -> Result<Vec<Rule>, String> {
    let mut rules: Vec<Rule> = Vec::with_capacity(raw.len());
    for (i, r) in raw.iter().enumerate() {
        if r.min_score < 1 {
            // A score of 0 is every request with nothing unusual about it.
            return Err(format!(
                "risk.rules[{i}].min_score: must be at least 1, not {}",
                r.min_score
            ));
        }
        if let Some(j) = raw[..i].iter().position(|o| o.min_score == r.min_score) {
            return Err(format!(
                "risk.rules[{i}].min_score: {} is already used by risk.rules[{j}]",
                r.min_score
            ));
        }
        let action = match (r.action.as_str(), &r.acr) {
            ("step_up", Some(acr)) => match Acr::parse(acr) {
                Ok(acr) => RuleAction::StepUp { acr },
                Err(_) => {
                    return Err(format!(
                        "risk.rules[{i}].acr: unknown acr {acr:?} (expected one of {})",
                        ACR_VALUES.join(", ")
                    ));
                }
            },
            ("step_up", None) => {
                return Err(format!(
                    "risk.rules[{i}].acr: required when action is step_up"
                ));
            }
            ("deny", None) => RuleAction::Deny,
            ("deny", Some(_)) => {
                return Err(format!(
                    "risk.rules[{i}].acr: not allowed when action is deny"
                ));
            }
            (other, _) => {
                return Err(format!(
                    "risk.rules[{i}].action: unknown action {other:?} (expected step_up or deny)"
                ));
            }
        };
        rules.push(Rule {
            min_score: r.min_score,
            action,
        });
    }
    rules.sort_by_key(|r| r.min_score);
    Ok(rules)
}
