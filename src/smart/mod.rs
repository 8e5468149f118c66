//! SMART on FHIR (SMART App Launch 2.2.0): the scope grammar, the launch
//! context and the FHIR server registry's rules, free of HTTP and storage.
//! See docs/smart.md.

pub mod describe;
pub mod grant;
pub mod launch;
pub mod picker;
pub mod registry;
pub mod scope;

pub use launch::{LaunchContext, SmartGrant};
pub use scope::{ClinicalScope, Compartment, Permissions, Resource, Scope, ScopeError, Syntax};
