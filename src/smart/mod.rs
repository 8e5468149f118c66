//! SMART on FHIR (SMART App Launch 2.2.0): the scope grammar, free of HTTP
//! and storage. See docs/smart.md.

pub mod describe;
pub mod grant;
pub mod scope;

pub use scope::{ClinicalScope, Compartment, Permissions, Resource, Scope, ScopeError, Syntax};
