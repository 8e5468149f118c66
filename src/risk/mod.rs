//! The risk engine: from what is known about a sign-in or an authorization
//! request (device, network, failures, location, what is asked for) to a score
//! and a decision (allow, ask for more proof, or refuse).
//!
//! `engine::assess` is pure; the caller gathers the facts (`RiskInput`) from
//! storage and the request. The only I/O here is `GeoDb::load`, which reads a
//! GeoIP CSV file.

pub mod engine;
pub mod geoip;
pub mod network;
pub mod policy;

#[cfg(test)]
mod tests;

pub use engine::{Decision, Familiarity, Reason, RiskAssessment, RiskInput, Sensitivity, assess};
pub use geoip::{GeoDb, GeoPoint};
pub use policy::{RawRiskConfig, RawRule, RiskPolicy, Rule, RuleAction, Weights};

pub use crate::clock::Millis;
