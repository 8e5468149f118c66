//! The `claims` request parameter (OpenID Connect Core §5.5) as a value: what
//! a client asked for, by name, for the ID token and for userinfo. Parsing
//! and applying it is the protocol core's (`oidc::claims`); stores keep it
//! with codes and grants.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One claim asked for by the `claims` parameter (OIDC Core §5.5.1): `null`
/// (asked for, voluntarily), or an object with `essential`, `value` or
/// `values`. For claims other than `acr`, a value or values is still only a
/// request for the claim: the user's real value is released (§5.5.1).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClaimRequest {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub essential: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<Value>,
}

/// The `claims` request parameter (OIDC Core §5.5): the claims asked for in
/// the ID token and from userinfo, by name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClaimsRequest {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub userinfo: BTreeMap<String, ClaimRequest>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub id_token: BTreeMap<String, ClaimRequest>,
}
