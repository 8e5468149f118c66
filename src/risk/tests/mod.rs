//! Unit tests for the risk engine, its policy, the GeoIP loader and networks:
//! the shared fixtures here, the tests by subject in the files below.

use std::net::IpAddr;

use super::*;
use crate::domain::ClientId;
use crate::domain::acr::Acr;

mod combinations;
mod geo;
mod rules;
mod signals;

const NOW: Millis = 1_800_000_000_000;
const HOUR_MS: Millis = 3_600_000;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A request with nothing unusual about it: every signal quiet.
static PORTAL: std::sync::LazyLock<ClientId> =
    std::sync::LazyLock::new(|| ClientId::parse("portal").unwrap());

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
            client_id: Some(&PORTAL),
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
        acr: Acr::parse(acr).unwrap(),
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
