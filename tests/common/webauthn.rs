//! A software WebAuthn authenticator (plus the browser's part of the ceremony) for
//! Ward's HTTP tests. TEST CODE ONLY: it keeps private keys in memory, uses "none"
//! attestation and exists so that tests can drive the real server's WebAuthn
//! endpoints without a browser.
//!
//! Wire format: the serde JSON form of webauthn-rs-proto 0.6.2. The server sends a
//! `CreationChallengeResponse` / `RequestChallengeResponse` (`{"publicKey": {...}}`);
//! the client answers with a `RegisterPublicKeyCredential` / `PublicKeyCredential`.
//! Every binary field is base64url without padding (what webauthn-rs emits and parses).
//!
//! ```ignore
//! let mut authn = SoftAuthenticator::new();
//! let reg = authn.register(&creation_options_json, "http://localhost:8080");
//! // ... POST reg to the server ...
//! let assertion = authn.authenticate(&request_options_json, "http://localhost:8080");
//! ```
#![allow(dead_code)]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use rand_core::{OsRng, RngCore};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The default AAGUID of a [`SoftAuthenticator`]: the ASCII bytes of `ward-soft-authn!`,
/// i.e. the UUID `77617264-2d73-6f66-742d-617574686e21`.
pub const SOFT_AAGUID: [u8; 16] = *b"ward-soft-authn!";

/// COSE algorithm identifier of ES256 (ECDSA P-256 with SHA-256).
pub const COSE_ES256: i64 = -7;

// Authenticator data flag bits (WebAuthn §6.1).
pub const FLAG_UP: u8 = 0x01;
pub const FLAG_UV: u8 = 0x04;
pub const FLAG_BE: u8 = 0x08;
pub const FLAG_BS: u8 = 0x10;
pub const FLAG_AT: u8 = 0x40;
pub const FLAG_ED: u8 = 0x80;

/// One credential held by the authenticator (always discoverable / resident).
#[derive(Clone)]
pub struct SoftCredential {
    pub key: SigningKey,
    pub credential_id: Vec<u8>,
    pub rp_id: String,
    pub user_handle: Vec<u8>,
    /// The signature counter last reported for this credential.
    pub sign_count: u32,
}

impl SoftCredential {
    /// The credential id as it appears on the wire (`id` / `rawId`): base64url, unpadded.
    pub fn id_b64(&self) -> String {
        URL_SAFE_NO_PAD.encode(&self.credential_id)
    }
}

/// Per-ceremony deviations, for negative tests. `Default` = an honest ceremony.
#[derive(Clone, Debug, Default)]
pub struct Tweaks {
    /// Put this origin into clientDataJSON instead of the `origin` argument.
    pub origin: Option<String>,
    /// Hash this RP id into authenticatorData instead of the one in the options.
    /// (The credential is still stored under / looked up by the options' RP id.)
    pub rp_id: Option<String>,
    /// Put this challenge (raw bytes) into clientDataJSON instead of the server's.
    pub challenge: Option<Vec<u8>>,
    /// Override the authenticator's `user_verified` setting (the UV flag).
    pub user_verified: Option<bool>,
    /// Assertion only: report exactly this signature counter (the stored counter is
    /// left unchanged). E.g. `Some(cred.sign_count)` replays the previous counter value.
    pub sign_count: Option<u32>,
    /// Assertion only: use this credential (by raw id) instead of choosing one.
    pub credential_id: Option<Vec<u8>>,
}

impl Tweaks {
    /// True if any of the fields that should make a registration fail is set.
    pub fn is_ceremony_tweaked(&self) -> bool {
        self.origin.is_some()
            || self.rp_id.is_some()
            || self.challenge.is_some()
            || self.user_verified.is_some()
    }
}

/// A software authenticator: P-256 / ES256 keys, "none" attestation, resident credentials.
#[derive(Clone)]
pub struct SoftAuthenticator {
    pub credentials: Vec<SoftCredential>,
    /// AAGUID reported in the attested credential data at registration.
    pub aaguid: [u8; 16],
    /// Whether the authenticator performs user verification (sets the UV flag).
    pub user_verified: bool,
    /// BE flag ("backup eligible", i.e. a synced passkey).
    pub backup_eligible: bool,
    /// BS flag ("backed up"). webauthn-rs rejects BS without BE.
    pub backup_state: bool,
}

impl Default for SoftAuthenticator {
    fn default() -> Self {
        Self::new()
    }
}

impl SoftAuthenticator {
    /// AAGUID [`SOFT_AAGUID`], UV on, BE/BS off (a device-bound passkey).
    pub fn new() -> Self {
        Self {
            credentials: Vec::new(),
            aaguid: SOFT_AAGUID,
            user_verified: true,
            backup_eligible: false,
            backup_state: false,
        }
    }

    /// The AAGUID as a hyphenated lowercase UUID string.
    pub fn aaguid_string(&self) -> String {
        uuid_string(&self.aaguid)
    }

    /// The most recently registered credential for `rp_id`, if any.
    pub fn credential_for(&self, rp_id: &str) -> Option<&SoftCredential> {
        self.credentials.iter().rev().find(|c| c.rp_id == rp_id)
    }

    /// Drop a credential (as if the user deleted the passkey from the device).
    pub fn forget(&mut self, credential_id: &[u8]) {
        self.credentials
            .retain(|c| c.credential_id != credential_id);
    }

    /// True if the options' `excludeCredentials` names a credential this authenticator
    /// holds (a browser would then refuse to create a new one with InvalidStateError).
    /// `register` itself does not enforce this.
    pub fn would_be_excluded(&self, options: &Value) -> bool {
        let pk = public_key(options);
        let rp_id = pk["rp"]["id"].as_str().unwrap_or_default();
        pk["excludeCredentials"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d["id"].as_str())
            .map(b64d)
            .any(|id| {
                self.credentials
                    .iter()
                    .any(|c| c.rp_id == rp_id && c.credential_id == id)
            })
    }

    /// navigator.credentials.create(): `options` is the server's CreationChallengeResponse
    /// JSON; returns the RegisterPublicKeyCredential JSON to post back.
    pub fn register(&mut self, options: &Value, origin: &str) -> Value {
        self.register_with(options, origin, Tweaks::default())
    }

    /// [`register`](Self::register) with deviations for negative tests. When
    /// `origin`, `rp_id`, `challenge` or `user_verified` is tweaked the server is
    /// expected to reject the result, so the new credential is NOT kept (later
    /// discoverable assertions keep using the last honestly registered one).
    pub fn register_with(&mut self, options: &Value, origin: &str, tweaks: Tweaks) -> Value {
        let pk = public_key(options);
        let rp_id = pk["rp"]["id"]
            .as_str()
            .expect("creation options: publicKey.rp.id")
            .to_string();
        let user_handle = b64d(
            pk["user"]["id"]
                .as_str()
                .expect("creation options: publicKey.user.id"),
        );
        let challenge = pk["challenge"]
            .as_str()
            .expect("creation options: publicKey.challenge");
        let algs: Vec<i64> = pk["pubKeyCredParams"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["alg"].as_i64())
            .collect();
        assert!(
            algs.is_empty() || algs.contains(&COSE_ES256),
            "server does not offer ES256 (-7): {algs:?}"
        );

        let key = SigningKey::random(&mut OsRng);
        let mut credential_id = vec![0u8; 32];
        OsRng.fill_bytes(&mut credential_id);
        let cred = SoftCredential {
            key,
            credential_id,
            rp_id: rp_id.clone(),
            user_handle,
            sign_count: 0,
        };

        let client_data = client_data_json("webauthn.create", challenge, origin, &tweaks);

        let uv = tweaks.user_verified.unwrap_or(self.user_verified);
        let hashed_rp = tweaks.rp_id.as_deref().unwrap_or(&rp_id);
        let mut auth_data = self.auth_data_head(hashed_rp, uv, FLAG_AT, cred.sign_count);
        auth_data.extend_from_slice(&self.aaguid);
        auth_data.extend_from_slice(&(cred.credential_id.len() as u16).to_be_bytes());
        auth_data.extend_from_slice(&cred.credential_id);
        auth_data.extend_from_slice(&cose_es256_key(&cred.key));

        let mut att_obj = Vec::new();
        cbor::map(&mut att_obj, 3);
        cbor::text(&mut att_obj, "fmt");
        cbor::text(&mut att_obj, "none");
        cbor::text(&mut att_obj, "attStmt");
        cbor::map(&mut att_obj, 0);
        cbor::text(&mut att_obj, "authData");
        cbor::bytes(&mut att_obj, &auth_data);

        let id = cred.id_b64();
        if !tweaks.is_ceremony_tweaked() {
            self.credentials.push(cred);
        }
        json!({
            "id": id,
            "rawId": id,
            "response": {
                "attestationObject": b64e(&att_obj),
                "clientDataJSON": b64e(client_data.as_bytes()),
            },
            "type": "public-key",
            "extensions": {},
        })
    }

    /// navigator.credentials.get(): `options` is the server's RequestChallengeResponse
    /// JSON; returns the PublicKeyCredential JSON to post back. With an empty
    /// `allowCredentials` (discoverable / usernameless) it uses the newest credential
    /// stored for the RP id. `userHandle` is always returned (credentials are resident).
    pub fn authenticate(&mut self, options: &Value, origin: &str) -> Value {
        self.authenticate_with(options, origin, Tweaks::default())
    }

    /// [`authenticate`](Self::authenticate) with deviations for negative tests.
    pub fn authenticate_with(&mut self, options: &Value, origin: &str, tweaks: Tweaks) -> Value {
        let pk = public_key(options);
        let rp_id = pk["rpId"]
            .as_str()
            .expect("request options: publicKey.rpId")
            .to_string();
        let challenge = pk["challenge"]
            .as_str()
            .expect("request options: publicKey.challenge");
        let allowed: Vec<Vec<u8>> = pk["allowCredentials"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d["id"].as_str())
            .map(b64d)
            .collect();

        let idx = match &tweaks.credential_id {
            Some(want) => self
                .credentials
                .iter()
                .position(|c| &c.credential_id == want),
            None => self.credentials.iter().rposition(|c| {
                c.rp_id == rp_id && (allowed.is_empty() || allowed.contains(&c.credential_id))
            }),
        }
        .unwrap_or_else(|| panic!("soft authenticator holds no usable credential for {rp_id:?}"));

        let sign_count = match tweaks.sign_count {
            Some(n) => n,
            None => {
                let c = &mut self.credentials[idx];
                c.sign_count = c.sign_count.wrapping_add(1);
                c.sign_count
            }
        };
        let cred = &self.credentials[idx];

        let client_data = client_data_json("webauthn.get", challenge, origin, &tweaks);
        let uv = tweaks.user_verified.unwrap_or(self.user_verified);
        let hashed_rp = tweaks.rp_id.as_deref().unwrap_or(&rp_id);
        let auth_data = self.auth_data_head(hashed_rp, uv, 0, sign_count);

        let mut signed = auth_data.clone();
        signed.extend_from_slice(&Sha256::digest(client_data.as_bytes()));
        let sig: Signature = cred.key.sign(&signed);

        let id = cred.id_b64();
        json!({
            "id": id,
            "rawId": id,
            "response": {
                "authenticatorData": b64e(&auth_data),
                "clientDataJSON": b64e(client_data.as_bytes()),
                "signature": b64e(sig.to_der().as_bytes()),
                "userHandle": b64e(&cred.user_handle),
            },
            "type": "public-key",
            "extensions": {},
        })
    }

    /// rpIdHash || flags || signCount.
    fn auth_data_head(&self, rp_id: &str, uv: bool, extra_flags: u8, counter: u32) -> Vec<u8> {
        let mut flags = FLAG_UP | extra_flags;
        if uv {
            flags |= FLAG_UV;
        }
        if self.backup_eligible {
            flags |= FLAG_BE;
        }
        if self.backup_state {
            flags |= FLAG_BS;
        }
        let mut out = Sha256::digest(rp_id.as_bytes()).to_vec();
        out.push(flags);
        out.extend_from_slice(&counter.to_be_bytes());
        out
    }
}

/// What a registration response carries, decoded (to assert on what the server should
/// have stored).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistrationInfo {
    pub credential_id: Vec<u8>,
    pub aaguid: [u8; 16],
    pub flags: u8,
    pub sign_count: u32,
}

impl RegistrationInfo {
    pub fn aaguid_string(&self) -> String {
        uuid_string(&self.aaguid)
    }
    pub fn user_verified(&self) -> bool {
        self.flags & FLAG_UV != 0
    }
    pub fn backup_eligible(&self) -> bool {
        self.flags & FLAG_BE != 0
    }
    pub fn backup_state(&self) -> bool {
        self.flags & FLAG_BS != 0
    }
}

/// Decode a RegisterPublicKeyCredential JSON produced by [`SoftAuthenticator::register`]
/// (only understands this module's own attestation-object layout).
pub fn inspect_registration(reg: &Value) -> RegistrationInfo {
    let att = b64d(
        reg["response"]["attestationObject"]
            .as_str()
            .expect("response.attestationObject"),
    );
    let marker = {
        let mut m = Vec::new();
        cbor::text(&mut m, "authData");
        m
    };
    let pos = att
        .windows(marker.len())
        .position(|w| w == marker.as_slice())
        .expect("authData key")
        + marker.len();
    let (len, hdr) = cbor::read_len(&att[pos..]);
    let ad = &att[pos + hdr..pos + hdr + len];
    let flags = ad[32];
    let sign_count = u32::from_be_bytes(ad[33..37].try_into().unwrap());
    let aaguid: [u8; 16] = ad[37..53].try_into().unwrap();
    let id_len = u16::from_be_bytes(ad[53..55].try_into().unwrap()) as usize;
    RegistrationInfo {
        credential_id: ad[55..55 + id_len].to_vec(),
        aaguid,
        flags,
        sign_count,
    }
}

pub fn b64e(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

/// Decode base64url, tolerating padding and the standard alphabet.
pub fn b64d(s: &str) -> Vec<u8> {
    let t: String = s
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    URL_SAFE_NO_PAD
        .decode(t)
        .unwrap_or_else(|e| panic!("bad base64url {s:?}: {e}"))
}

fn uuid_string(b: &[u8; 16]) -> String {
    let h = |r: std::ops::Range<usize>| b[r].iter().map(|x| format!("{x:02x}")).collect::<String>();
    format!(
        "{}-{}-{}-{}-{}",
        h(0..4),
        h(4..6),
        h(6..8),
        h(8..10),
        h(10..16)
    )
}

/// Accepts both `{"publicKey": {...}}` and the bare inner options object.
fn public_key(options: &Value) -> &Value {
    if options.get("publicKey").is_some() {
        &options["publicKey"]
    } else {
        options
    }
}

/// clientDataJSON in the browsers' member order: type, challenge, origin, crossOrigin.
fn client_data_json(ty: &str, challenge_b64: &str, origin: &str, tweaks: &Tweaks) -> String {
    let challenge = match &tweaks.challenge {
        Some(raw) => b64e(raw),
        None => challenge_b64.to_string(),
    };
    let origin = tweaks.origin.as_deref().unwrap_or(origin);
    format!(
        r#"{{"type":{},"challenge":{},"origin":{},"crossOrigin":false}}"#,
        Value::from(ty),
        Value::from(challenge),
        Value::from(origin),
    )
}

/// COSE_Key (RFC 9053) for an EC2 P-256 ES256 public key, CTAP2 canonical order.
fn cose_es256_key(key: &SigningKey) -> Vec<u8> {
    let point = key.verifying_key().to_encoded_point(false);
    let mut out = Vec::new();
    cbor::map(&mut out, 5);
    cbor::int(&mut out, 1); // kty
    cbor::int(&mut out, 2); //   EC2
    cbor::int(&mut out, 3); // alg
    cbor::int(&mut out, COSE_ES256);
    cbor::int(&mut out, -1); // crv
    cbor::int(&mut out, 1); //   P-256
    cbor::int(&mut out, -2); // x
    cbor::bytes(&mut out, point.x().expect("uncompressed point"));
    cbor::int(&mut out, -3); // y
    cbor::bytes(&mut out, point.y().expect("uncompressed point"));
    out
}

/// Just enough CBOR (RFC 8949) encoding: definite-length maps, text and byte strings,
/// integers.
mod cbor {
    fn head(out: &mut Vec<u8>, major: u8, n: u64) {
        let m = major << 5;
        if n < 24 {
            out.push(m | n as u8);
        } else if n <= u8::MAX as u64 {
            out.extend_from_slice(&[m | 24, n as u8]);
        } else if n <= u16::MAX as u64 {
            out.push(m | 25);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= u32::MAX as u64 {
            out.push(m | 26);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            out.push(m | 27);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }

    pub fn int(out: &mut Vec<u8>, v: i64) {
        if v >= 0 {
            head(out, 0, v as u64);
        } else {
            head(out, 1, (-1 - v) as u64);
        }
    }

    pub fn bytes(out: &mut Vec<u8>, b: &[u8]) {
        head(out, 2, b.len() as u64);
        out.extend_from_slice(b);
    }

    pub fn text(out: &mut Vec<u8>, s: &str) {
        head(out, 3, s.len() as u64);
        out.extend_from_slice(s.as_bytes());
    }

    /// Header of a map with `pairs` entries; the caller writes key, value, key, value...
    pub fn map(out: &mut Vec<u8>, pairs: u64) {
        head(out, 5, pairs);
    }

    /// Length argument of the item at `b[0]` and the size of its header.
    pub fn read_len(b: &[u8]) -> (usize, usize) {
        match b[0] & 0x1f {
            n @ 0..=23 => (n as usize, 1),
            24 => (b[1] as usize, 2),
            25 => (u16::from_be_bytes([b[1], b[2]]) as usize, 3),
            26 => (u32::from_be_bytes([b[1], b[2], b[3], b[4]]) as usize, 5),
            x => panic!("unsupported CBOR length encoding {x}"),
        }
    }
}
