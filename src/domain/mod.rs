//! Ward's vocabulary: validated newtypes and enums, free of HTTP and SQL.
//! A value of one of these types has passed its checks; parse at the edge
//! (web, CLI, configuration) and pass the typed value inwards.
//!
//! - [`acr`]: what a sign-in is worth and how it was made. [`Acr`] (`aal1` <
//!   `aal2` < `phr` < `phrh`; `satisfies`, `stronger`, the NIST level that
//!   picks session timeouts) and [`Amr`] (RFC 8176 values plus `rec`,
//!   `email`). Sessions, grants, clients and authorization requests carry
//!   `Acr`; storage parses the stored text (an unknown value is a corrupt row).
//! - [`user`]: [`UserId`] (a UUID), [`Username`], [`Email`], [`DisplayName`],
//!   [`UserStatus`].
//! - [`client`]: [`ClientId`], [`ClientType`], [`GrantType`], [`PkcePolicy`],
//!   [`Scope`], [`RedirectUri`], and `is_loopback_host` (what counts as
//!   loopback for http:// redirect URIs and issuers).
//! - [`session`]: [`SessionId`], a session as Ward names it (the hash of its
//!   cookie's value; the value itself stays with the browser).
//! - [`subject`]: [`SubjectType`] and a client's [`Subject`] (public, or
//!   pairwise with its sector: OIDC Core §8.1), the sector of redirect URIs
//!   and the check of a `sector_identifier_uri` document.
//! - [`profile`]: the OIDC Core §5.1 profile claims (birthdate, locale,
//!   zoneinfo, phone number, address).
//! - [`consent`]: a consent record (`ConsentRecord`: versioned, with how it
//!   was given and withdrawn) and the check of a client's purpose text.
//! - [`disclosure`]: one row of the accounting of disclosures (`Disclosure`,
//!   `DisclosureKind`) and the cursor of a page of them.
//! - [`InvalidValue`]: why a value was refused, naming the field.
//!
//! This module imports nothing else of Ward's: every other module may use it.

pub mod acr;
pub mod claims;
pub mod client;
pub mod consent;
pub mod disclosure;
pub mod profile;
pub mod records;
pub mod session;
pub mod subject;
pub mod user;

pub use acr::{Acr, Amr};
pub use client::{ClientId, ClientType, GrantType, PkcePolicy, RedirectUri, Scope};
pub use session::SessionId;
pub use subject::{Subject, SubjectType};
pub use user::{DisplayName, Email, UserId, UserStatus, Username};

/// Why a value was refused, phrased for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InvalidValue {
    pub field: &'static str,
    pub message: String,
}

impl InvalidValue {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}
