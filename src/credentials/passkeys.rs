//! Passkeys (WebAuthn Level 3) through webauthn-rs: discoverable credentials
//! with user verification, for usernameless and autofill sign-in. This module
//! only talks WebAuthn; where ceremony state and credentials are kept is the
//! caller's business (the database, single use, short-lived).

use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{
    CreationChallengeResponse, DiscoverableAuthentication, Passkey, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, RequestChallengeResponse, Url, Uuid,
    Webauthn, WebauthnBuilder, WebauthnError,
};
use webauthn_rs_proto::{
    AuthenticatorSelectionCriteria, ResidentKeyRequirement, UserVerificationPolicy,
};

#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    /// The issuer cannot serve as a WebAuthn relying party (no host, say).
    #[error("the issuer cannot be a WebAuthn relying party: {0}")]
    Config(String),
    /// The authenticator's answer failed verification; the reason is for the audit trail.
    #[error("the passkey was refused: {0}")]
    Refused(String),
}

impl From<WebauthnError> for PasskeyError {
    fn from(e: WebauthnError) -> Self {
        Self::Refused(format!("{e:?}"))
    }
}

/// A newly registered passkey and what Ward records about it.
pub struct Registered {
    pub passkey: Passkey,
    pub credential_id: String,
    /// The authenticator model as the authenticator reports it (not attested).
    pub aaguid: Uuid,
    pub backup_eligible: bool,
    pub backup_state: bool,
}

/// The authenticator data flags (WebAuthn §6.1).
const FLAG_BACKUP_ELIGIBLE: u8 = 0x08;
const FLAG_BACKUP_STATE: u8 = 0x10;

/// What a verified assertion tells.
pub struct Asserted {
    pub user_id: Uuid,
    pub credential_id: String,
    pub backup_eligible: bool,
    pub backup_state: bool,
    pub counter: u32,
}

pub struct Passkeys {
    /// None when the issuer's host is an IP address: WebAuthn RP ids are
    /// domain names (WebAuthn §5.1.3), so passkeys are off for such an issuer.
    webauthn: Option<Webauthn>,
}

/// Ceremony state as stored between start and finish.
#[derive(Serialize, Deserialize)]
pub enum CeremonyState {
    Register(PasskeyRegistration),
    Authenticate(DiscoverableAuthentication),
}

pub fn credential_id_text(raw: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

impl Passkeys {
    /// The relying party is the issuer: its host is the RP id and its origin
    /// the only allowed origin (WebAuthn §5.1.3 step 9).
    pub fn new(issuer: &Url, rp_name: &str) -> Result<Self, PasskeyError> {
        let Some(rp_id) = issuer.domain() else {
            tracing::warn!(
                issuer = %issuer,
                "passkeys are off: a WebAuthn relying party id must be a domain name, not an IP address"
            );
            return Ok(Self { webauthn: None });
        };
        let origin = Url::parse(&issuer.origin().ascii_serialization())
            .map_err(|e| PasskeyError::Config(e.to_string()))?;
        let webauthn = WebauthnBuilder::new(rp_id, &origin)
            .map_err(|e| PasskeyError::Config(format!("{e:?}")))?
            .rp_name(rp_name)
            .build()
            .map_err(|e| PasskeyError::Config(format!("{e:?}")))?;
        Ok(Self {
            webauthn: Some(webauthn),
        })
    }

    /// Whether passkeys work with this issuer.
    pub fn available(&self) -> bool {
        self.webauthn.is_some()
    }

    fn webauthn(&self) -> Result<&Webauthn, PasskeyError> {
        self.webauthn.as_ref().ok_or_else(|| {
            PasskeyError::Config("passkeys need an issuer with a domain name".into())
        })
    }

    /// Options for creating a discoverable passkey with user verification.
    /// webauthn-rs asks for `residentKey: discouraged`; a usernameless sign-in
    /// needs the credential stored on the authenticator, so Ward requires it.
    pub fn start_registration(
        &self,
        user_id: Uuid,
        username: &str,
        display_name: &str,
        existing: Vec<Vec<u8>>,
    ) -> Result<(CreationChallengeResponse, CeremonyState), PasskeyError> {
        let exclude = (!existing.is_empty()).then_some(existing);
        let (mut ccr, state) = self.webauthn()?.start_passkey_registration(
            user_id,
            username,
            display_name,
            exclude,
        )?;
        let selection =
            ccr.public_key
                .authenticator_selection
                .get_or_insert(AuthenticatorSelectionCriteria {
                    authenticator_attachment: None,
                    resident_key: None,
                    require_resident_key: false,
                    user_verification: UserVerificationPolicy::Required,
                });
        selection.resident_key = Some(ResidentKeyRequirement::Required);
        selection.require_resident_key = true;
        selection.user_verification = UserVerificationPolicy::Required;
        Ok((ccr, CeremonyState::Register(state)))
    }

    pub fn finish_registration(
        &self,
        response: &RegisterPublicKeyCredential,
        state: &PasskeyRegistration,
    ) -> Result<Registered, PasskeyError> {
        let passkey = self
            .webauthn()?
            .finish_passkey_registration(response, state)?;
        let auth_data = authenticator_data(&response.response.attestation_object)
            .ok_or_else(|| PasskeyError::Refused("unreadable attestation object".into()))?;
        // authData: rpIdHash (32) | flags (1) | signCount (4) | AAGUID (16) | … (WebAuthn §6.1)
        let flags = auth_data[32];
        let aaguid = Uuid::from_slice(&auth_data[37..53])
            .map_err(|_| PasskeyError::Refused("no AAGUID".into()))?;
        Ok(Registered {
            credential_id: credential_id_text(passkey.cred_id().as_ref()),
            passkey,
            aaguid,
            backup_eligible: flags & FLAG_BACKUP_ELIGIBLE != 0,
            backup_state: flags & FLAG_BACKUP_STATE != 0,
        })
    }

    /// A usernameless (discoverable) request; the page decides between the
    /// modal dialog and conditional mediation (autofill).
    pub fn start_authentication(
        &self,
    ) -> Result<(RequestChallengeResponse, CeremonyState), PasskeyError> {
        let (mut rcr, state) = self.webauthn()?.start_discoverable_authentication()?;
        rcr.mediation = None;
        Ok((rcr, CeremonyState::Authenticate(state)))
    }

    /// Which user and credential an assertion claims to be, before it is verified.
    pub fn identify(&self, response: &PublicKeyCredential) -> Result<(Uuid, String), PasskeyError> {
        let (user, cred) = self
            .webauthn()?
            .identify_discoverable_authentication(response)?;
        Ok((user, credential_id_text(cred)))
    }

    /// Verify an assertion against the stored passkey it names. User
    /// verification is required (webauthn-rs enforces it for discoverable sign-in).
    pub fn finish_authentication(
        &self,
        response: &PublicKeyCredential,
        state: DiscoverableAuthentication,
        user_id: Uuid,
        passkey: &Passkey,
    ) -> Result<(Asserted, Passkey), PasskeyError> {
        let result = self
            .webauthn()?
            .finish_discoverable_authentication_v2(response, state, passkey)?;
        if !result.user_verified() {
            return Err(PasskeyError::Refused("user verification missing".into()));
        }
        let mut updated = passkey.clone();
        updated.update_credential(&result);
        Ok((
            Asserted {
                user_id,
                credential_id: credential_id_text(result.cred_id().as_ref()),
                backup_eligible: result.backup_eligible(),
                backup_state: result.backup_state(),
                counter: result.counter(),
            },
            updated,
        ))
    }
}

/// The `authData` of a CBOR attestation object, if it is long enough to hold
/// attested credential data.
fn authenticator_data(attestation_object: &[u8]) -> Option<Vec<u8>> {
    let map: std::collections::BTreeMap<String, serde_cbor_2::Value> =
        serde_cbor_2::from_slice(attestation_object).ok()?;
    match map.get("authData")? {
        serde_cbor_2::Value::Bytes(b) if b.len() >= 53 => Some(b.clone()),
        _ => None,
    }
}

/// Property-based fuzzing of the CBOR Ward reads itself (the attestation
/// object's `authData`); the WebAuthn JSON bodies are fuzzed in
/// tests/fuzz_parsers.rs and tests/fuzz_http.rs.
#[cfg(test)]
mod fuzz {
    use proptest::prelude::*;

    use super::*;

    fn cases() -> u32 {
        std::env::var("WARD_FUZZ_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1024)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn attestation_object_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = authenticator_data(&bytes);
        }

        #[test]
        fn attestation_object_round_trip(
            auth_data in prop::collection::vec(any::<u8>(), 0..120),
            fmt in ".{0,10}",
        ) {
            let mut map = std::collections::BTreeMap::new();
            map.insert("fmt".to_string(), serde_cbor_2::Value::Text(fmt));
            map.insert("authData".to_string(), serde_cbor_2::Value::Bytes(auth_data.clone()));
            let bytes = serde_cbor_2::to_vec(&map).unwrap();
            let got = authenticator_data(&bytes);
            prop_assert_eq!(got.is_some(), auth_data.len() >= 53);
            if let Some(got) = got {
                prop_assert_eq!(got, auth_data);
            }
        }

        #[test]
        fn attestation_object_at_the_size_limit(depth in 1usize..60_000, len in 0u32..u32::MAX) {
            // Deep nesting and lengths that promise more than is there, within a 64 KiB body.
            let started = std::time::Instant::now();
            let _ = authenticator_data(&vec![0x81; depth]);
            let mut huge = vec![0xa1, 0x68];
            huge.extend_from_slice(b"authData");
            huge.push(0x5a);
            huge.extend_from_slice(&len.to_be_bytes());
            huge.extend_from_slice(&[0u8; 64]);
            prop_assert!(authenticator_data(&huge).is_none() || len <= 64);
            let mut arr = vec![0x9a];
            arr.extend_from_slice(&len.to_be_bytes());
            let _ = authenticator_data(&arr);
            prop_assert!(started.elapsed() < std::time::Duration::from_secs(1));
        }
    }
}
