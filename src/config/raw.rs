//! What a configuration file or the environment may say: plain values, with
//! the defaults. Unknown keys are refused; `Config::validate` types them.

use serde::{Deserialize, Serialize};

/// Environment variables that start with `WARD_` but are not configuration keys.
pub(super) const NON_KEY_VARIABLES: &[&str] = &[
    "WARD_CONFIG",
    "WARD_TEST_DATABASE_URL",
    "WARD_LOG",
    crate::clock::TEST_CLOCK_VARIABLE,
];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawConfig {
    pub issuer: String,
    pub listen: String,
    pub data_dir: String,
    pub database_url: String,
    pub database_pool_size: i64,
    pub migrate_on_start: bool,
    pub master_key: String,
    pub master_key_file: String,
    pub log_format: String,
    pub log_level: String,
    pub trusted_proxies: Vec<String>,
    pub tls_cert: String,
    pub tls_key: String,
    pub require_par: bool,
    pub password: RawPasswordConfig,
    pub tokens: RawTokenConfig,
    pub session: RawSessionConfig,
    pub mail: RawMailConfig,
    /// Anyone may create a patient account with a passkey at `/signup`.
    pub signup_enabled: bool,
    /// How recent a sign-in must be to change one's factors on the account pages.
    pub reauth_seconds: i64,
    /// How long a code sent by email stays valid.
    pub email_code_seconds: i64,
    /// The version of the operator's consent policy (privacy notice), kept
    /// with every consent record (docs/privacy.md).
    pub consent_policy_version: String,
    /// The longest a client may take to send a request's body.
    pub request_timeout_seconds: i64,
    /// How recent the multi-factor sign-in behind an admin API token must be.
    pub admin_max_auth_age_seconds: i64,
    /// The one client whose tokens the admin API accepts (with scope `ward:admin`).
    pub admin_console_client_id: String,
    pub passkeys: RawPasskeyConfig,
    pub break_glass: RawBreakGlassConfig,
    /// `[clients]`: how Ward treats what clients registered.
    pub clients: RawClientsConfig,
    /// `[telemetry]`: OpenTelemetry traces (docs/telemetry.md).
    pub telemetry: RawTelemetryConfig,
    /// `[privacy]`: patients' rights (docs/privacy.md).
    pub privacy: RawPrivacyConfig,
    /// `[risk]`: the risk engine's weights and rules (docs/risk.md).
    pub risk: crate::risk::RawRiskConfig,
    /// `[scope_min_acr]`: the weakest acr a token with a scope may come from,
    /// e.g. `"ehr:write" = "aal2"` (docs/mfa.md, step-up).
    pub scope_min_acr: std::collections::BTreeMap<String, String>,
}

/// `[break_glass]`: emergency access (docs/authorization.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawBreakGlassConfig {
    /// How long an elevation lasts.
    pub seconds: i64,
    /// How recent the strong (multi-factor or passkey) sign-in must be.
    pub max_auth_age_seconds: i64,
    /// Auditors' addresses, told of every elevation.
    pub notify: Vec<String>,
}

impl Default for RawBreakGlassConfig {
    fn default() -> Self {
        Self {
            seconds: 3600,
            max_auth_age_seconds: 300,
            notify: Vec::new(),
        }
    }
}

/// `[telemetry]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawTelemetryConfig {
    /// The OTLP/HTTP collector's base URL (`http://127.0.0.1:4318`); empty: no traces.
    pub otlp_endpoint: String,
    /// `service.name` of the exported traces.
    pub service_name: String,
}

impl Default for RawTelemetryConfig {
    fn default() -> Self {
        Self {
            otlp_endpoint: String::new(),
            service_name: "ward".into(),
        }
    }
}

/// `[privacy]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawPrivacyConfig {
    /// How long the accounting of disclosures keeps a row, in days.
    pub disclosure_retention_days: i64,
}

impl Default for RawPrivacyConfig {
    fn default() -> Self {
        // Six years: HIPAA 45 CFR 164.528(a) (an accounting covers six years)
        // and 164.530(j)(2) (documentation kept six years).
        Self {
            disclosure_retention_days: 2190,
        }
    }
}

/// `[clients]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawClientsConfig {
    /// Development only: a client's `jwks_uri` may be `http://` and reach
    /// loopback and private addresses (docs/smart.md, "Backend Services").
    /// The older name of `allow_insecure_fetch`; either turns the switch on.
    pub allow_insecure_jwks_uri: bool,
    /// Development only: every URL Ward fetches for a client (`jwks_uri`,
    /// `sector_identifier_uri`) may be `http://` and reach loopback and
    /// private addresses.
    pub allow_insecure_fetch: bool,
}

/// `[passkeys]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawPasskeyConfig {
    /// When not empty, staff accounts may only register device-bound passkeys
    /// whose AAGUID (authenticator model) is listed.
    pub staff_aaguids: Vec<String>,
    /// How long a WebAuthn ceremony (options to answer) stays valid.
    pub ceremony_seconds: i64,
}

impl Default for RawPasskeyConfig {
    fn default() -> Self {
        // WebAuthn §5.4: the recommended ceremony timeout is 5 minutes.
        Self {
            staff_aaguids: Vec::new(),
            ceremony_seconds: 300,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawSessionConfig {
    /// Sessions at acr `aal1`.
    pub idle_seconds: i64,
    pub absolute_seconds: i64,
    /// Sessions at acr `aal2` and `phr` (NIST AAL2).
    pub aal2: RawSessionLevel,
    /// Sessions at acr `phrh` (a device-bound passkey: NIST AAL3 when certified).
    pub aal3: RawSessionLevel,
    pub shared_workstation: RawSharedWorkstation,
}

impl Default for RawSessionConfig {
    fn default() -> Self {
        // NIST SP 800-63B §4.2.3 (AAL2): reauthenticate after 30 minutes idle,
        // 12 hours at most; §4.3.3 (AAL3): 15 minutes idle, 12 hours. AAL1
        // (§4.1.3) allows 30 days; Ward keeps AAL2's limits for it, because a
        // password-only session to health data should not outlive a shift.
        Self {
            idle_seconds: 30 * 60,
            absolute_seconds: 12 * 3600,
            aal2: RawSessionLevel {
                idle_seconds: 30 * 60,
                absolute_seconds: 12 * 3600,
            },
            aal3: RawSessionLevel {
                idle_seconds: 15 * 60,
                absolute_seconds: 12 * 3600,
            },
            shared_workstation: RawSharedWorkstation::default(),
        }
    }
}

/// `[session.aal2]`, `[session.aal3]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSessionLevel {
    pub idle_seconds: i64,
    pub absolute_seconds: i64,
}

/// `[session.shared_workstation]`: sessions on shared computers (a ward's
/// nursing station) time out sooner, and the next person can "switch user".
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawSharedWorkstation {
    pub idle_seconds: i64,
    /// Address ranges (CIDR) of shared workstations; clients can also be
    /// marked with `ward client add --shared-workstation`.
    pub networks: Vec<String>,
}

impl Default for RawSharedWorkstation {
    fn default() -> Self {
        Self {
            idle_seconds: 5 * 60,
            networks: Vec::new(),
        }
    }
}

/// `[mail]`: how Ward sends email. `smtp_password` is a secret: `Debug` hides it.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawMailConfig {
    pub transport: String,
    pub from: String,
    pub file_dir: String,
    pub smtp_host: String,
    pub smtp_port: i64,
    pub smtp_tls: String,
    pub smtp_username: String,
    pub smtp_password: String,
    pub timeout_seconds: i64,
}

impl Default for RawMailConfig {
    fn default() -> Self {
        Self {
            transport: "none".into(),
            from: "Ward <ward@localhost>".into(),
            file_dir: String::new(),
            smtp_host: String::new(),
            smtp_port: 587,
            smtp_tls: "starttls".into(),
            smtp_username: String::new(),
            smtp_password: String::new(),
            timeout_seconds: 10,
        }
    }
}

impl std::fmt::Debug for RawMailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawMailConfig")
            .field("transport", &self.transport)
            .field("from", &self.from)
            .field("file_dir", &self.file_dir)
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("smtp_tls", &self.smtp_tls)
            .field("smtp_username", &self.smtp_username)
            .field(
                "smtp_password",
                &if self.smtp_password.is_empty() {
                    ""
                } else {
                    "***"
                },
            )
            .field("timeout_seconds", &self.timeout_seconds)
            .finish()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawPasswordConfig {
    pub memory_kib: i64,
    pub iterations: i64,
    pub parallelism: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawTokenConfig {
    pub access_token_seconds: i64,
    pub id_token_seconds: i64,
    pub refresh_token_seconds: i64,
    pub authorization_code_seconds: i64,
    pub smart_launch_seconds: i64,
}

impl Default for RawConfig {
    fn default() -> Self {
        Self {
            issuer: "http://localhost:8080".into(),
            listen: "127.0.0.1:8080".into(),
            data_dir: "./ward-data".into(),
            database_url: String::new(),
            database_pool_size: 8,
            migrate_on_start: true,
            master_key: String::new(),
            master_key_file: String::new(),
            log_format: "text".into(),
            log_level: "info".into(),
            trusted_proxies: Vec::new(),
            tls_cert: String::new(),
            tls_key: String::new(),
            require_par: false,
            password: RawPasswordConfig::default(),
            tokens: RawTokenConfig::default(),
            session: RawSessionConfig::default(),
            mail: RawMailConfig::default(),
            signup_enabled: false,
            reauth_seconds: 600,
            consent_policy_version: "1".into(),
            email_code_seconds: 600,
            request_timeout_seconds: 10,
            admin_max_auth_age_seconds: 900,
            admin_console_client_id: "ward-console".into(),
            passkeys: RawPasskeyConfig::default(),
            break_glass: RawBreakGlassConfig::default(),
            clients: RawClientsConfig::default(),
            telemetry: RawTelemetryConfig::default(),
            privacy: RawPrivacyConfig::default(),
            risk: crate::risk::RawRiskConfig::default(),
            scope_min_acr: Default::default(),
        }
    }
}

impl Default for RawPasswordConfig {
    fn default() -> Self {
        // OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

impl Default for RawTokenConfig {
    fn default() -> Self {
        Self {
            access_token_seconds: 300,
            id_token_seconds: 300,
            refresh_token_seconds: 30 * 24 * 3600,
            authorization_code_seconds: 60,
            smart_launch_seconds: 300,
        }
    }
}
