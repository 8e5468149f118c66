//! Ward: an OpenID Connect identity and MFA authorization server for healthcare.
//!
//! Data flows one way: `web` (HTTP edge) -> `manage` / protocol logic -> `storage`.
//! See docs/architecture.md for the module map and the conventions.

pub mod app;
pub mod audit;
pub mod authn;
pub mod authz;
pub mod cli;
pub mod clock;
pub mod config;
pub mod context;
pub mod credentials;
pub mod crypto;
pub mod domain;
pub mod jwks;
pub mod logging;
pub mod mail;
pub mod manage;
pub mod oidc;
pub mod risk;
pub mod session;
pub mod smart;
pub mod storage;
pub mod store;
pub mod telemetry;
pub mod web;
