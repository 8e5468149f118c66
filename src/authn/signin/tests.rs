//! The sign-in driver end to end on the in-memory store: real inputs through
//! [`step`], real passwords (cheap argon2 parameters), real TOTP codes, the
//! throttle counters and the audit records as the database would hold them.

use std::sync::Arc;

use super::{ACCOUNT, Browser, Input, Outcome, SignIn, step};
use crate::authn::Deps;
use crate::authn::login::{LoginFailure, totp_context};
use crate::authn::password::Passwords;
use crate::authn::recovery;
use crate::clock::FixedClock;
use crate::config::{Config, PasswordParams, RawConfig};
use crate::crypto::keyring::{Keyring, MasterKey};
use crate::domain::records::User;
use crate::domain::{Acr, Amr};
use crate::oidc::testing;
use crate::store::memory::MemoryStore;
use crate::store::throttle::account_key;
use crate::store::{FactorStore, SessionRow, SessionStore};

/// RFC 6238 Appendix B: this secret gives 081804 (six digits) at this time.
const TOTP_SECRET: &[u8] = b"12345678901234567890";
const NOW: i64 = 1_111_111_109_000;
const TOTP_CODE: &str = "081804";
const PASSWORD: &str = "a sufficiently long passphrase";

struct World {
    store: Arc<MemoryStore>,
    deps: Deps,
    user: User,
}

fn world_with(config: Config) -> World {
    let store = Arc::new(MemoryStore::new());
    let passwords = Passwords::new(PasswordParams {
        memory_kib: 8,
        iterations: 1,
        parallelism: 1,
    })
    .unwrap();
    let user = testing::user();
    store.add_user(user.clone(), Some(passwords.hash(PASSWORD).unwrap()));
    let deps = Deps {
        store: store.clone(),
        clock: Arc::new(FixedClock::new(NOW)),
        mailer: Arc::new(crate::mail::Mailer::new(&config.mail).unwrap()),
        config: Arc::new(config),
        passwords,
        keyring: Keyring::new(MasterKey::generate()),
        geo: None,
        keys: Arc::default(),
        policy: Arc::new(crate::authz::engine::PolicyEngine::empty().unwrap()),
        client_keys: Arc::new(crate::jwks::ClientKeys::http(false)),
        pairwise_key: crate::crypto::pairwise::PairwiseKey::generate(),
    };
    World { store, deps, user }
}

fn config() -> Config {
    Config::validate(RawConfig::default()).unwrap()
}

fn world() -> World {
    world_with(config())
}

impl World {
    fn with_totp(self) -> Self {
        let id = self.user.id.to_string();
        let sealed = self.deps.keyring.seal(&totp_context(&id), TOTP_SECRET);
        self.store.add_totp(&id, &sealed, true);
        self
    }

    /// Gives the account recovery codes; returns them.
    fn with_recovery_codes(&self) -> Vec<String> {
        let codes = recovery::generate();
        let hashes: Vec<String> = codes.iter().filter_map(|c| recovery::hash(c)).collect();
        let event =
            crate::audit::AuditEvent::new(NOW, "test", "test", crate::audit::Outcome::Success);
        let id = self.user.id.to_string();
        self.store
            .replace_recovery_codes(&id, &hashes, NOW, &event)
            .unwrap();
        codes
    }

    fn browser(&self, progress: Option<String>, session: Option<String>) -> Browser {
        Browser {
            ip: Some("192.0.2.10".into()),
            user_agent: Some("test".into()),
            token: "device-token".into(),
            session,
            progress,
        }
    }

    async fn step(&self, b: &Browser, required_acr: Option<Acr>, input: Input) -> Outcome {
        let s = SignIn {
            deps: self.deps.clone(),
            browser: b,
            interaction: ACCOUNT,
            required_acr,
        };
        step(&s, input).await
    }

    async fn password(&self, b: &Browser, password: &str) -> Outcome {
        let input = Input::Password {
            username: "alice".into(),
            password: password.into(),
        };
        self.step(b, None, input).await
    }

    fn session(&self, cookie: &str) -> SessionRow {
        self.store
            .session(&crate::session::id_of(cookie))
            .unwrap()
            .expect("a stored session")
    }

    fn audit_types(&self) -> Vec<String> {
        self.store.audit_types()
    }
}

fn verify_cookie(outcome: Outcome) -> String {
    match outcome {
        Outcome::Verify {
            progress_cookie: Some(cookie),
            ..
        } => cookie,
        other => panic!("expected the verify page, got {other:?}"),
    }
}

fn session_cookie(outcome: Outcome) -> String {
    match outcome {
        Outcome::Done { session_cookie } => session_cookie,
        other => panic!("expected a session, got {other:?}"),
    }
}

fn login_failure(outcome: Outcome) -> Option<LoginFailure> {
    match outcome {
        Outcome::LoginForm { failure, .. } => failure,
        other => panic!("expected the login form, got {other:?}"),
    }
}

#[tokio::test]
async fn a_password_alone_signs_in_at_aal1() {
    let w = world();
    let cookie = session_cookie(w.password(&w.browser(None, None), PASSWORD).await);
    let session = w.session(&cookie);
    assert_eq!(session.acr, Acr::Aal1);
    assert_eq!(session.amr, vec![Amr::Pwd]);
    assert_eq!(session.user_id, w.user.id);
    assert_eq!(w.audit_types(), vec!["login.success"]);
}

#[tokio::test]
async fn a_password_then_totp_signs_in_at_aal2() {
    let w = world().with_totp();
    let first = w.password(&w.browser(None, None), PASSWORD).await;
    let progress = verify_cookie(first);
    assert!(
        w.audit_types().is_empty(),
        "no session yet: {:?}",
        w.audit_types()
    );

    let b = w.browser(Some(progress.clone()), None);
    let code = Input::Code {
        method: "totp".into(),
        code: TOTP_CODE.into(),
    };
    let cookie = session_cookie(w.step(&b, None, code).await);
    let session = w.session(&cookie);
    assert_eq!(session.acr, Acr::Aal2);
    assert!(session.amr.contains(&Amr::Otp));
    // The sign-in in progress is consumed with the session: its cookie is worth nothing now.
    let again = Input::Code {
        method: "totp".into(),
        code: TOTP_CODE.into(),
    };
    assert!(matches!(w.step(&b, None, again).await, Outcome::Restart));
}

#[tokio::test]
async fn a_wrong_password_is_counted_and_audited() {
    let w = world();
    let failure = login_failure(w.password(&w.browser(None, None), "not the password").await);
    assert_eq!(failure, Some(LoginFailure::Invalid));
    assert_eq!(w.store.failures(&account_key("alice")), 1);
    assert_eq!(w.store.failures("ip:192.0.2.10"), 1);
    let events = w.store.audit_events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, "login.password");
    assert_eq!(events[0].reason.as_deref(), Some("bad_password"));
    assert_eq!(events[0].details["consecutive_failures"], 1);
}

#[tokio::test]
async fn an_unknown_account_fails_like_a_wrong_password() {
    let w = world();
    let input = Input::Password {
        username: "mallory".into(),
        password: PASSWORD.into(),
    };
    let failure = login_failure(w.step(&w.browser(None, None), None, input).await);
    assert_eq!(failure, Some(LoginFailure::Invalid));
    assert_eq!(
        w.store.audit_events()[0].reason.as_deref(),
        Some("unknown_user")
    );
}

#[tokio::test]
async fn a_throttled_account_is_refused_even_the_right_password() {
    let w = world();
    let b = w.browser(None, None);
    for _ in 0..crate::authn::throttle::ACCOUNT_FREE {
        let failure = login_failure(w.password(&b, "not the password").await);
        assert_eq!(failure, Some(LoginFailure::Invalid));
    }
    let failure = login_failure(w.password(&b, PASSWORD).await);
    assert_eq!(
        failure,
        Some(LoginFailure::Throttled {
            retry_after_secs: 1
        })
    );
    assert_eq!(
        w.audit_types().last().map(String::as_str),
        Some("login.throttled")
    );
    assert!(!w.audit_types().contains(&"login.success".to_string()));
}

#[tokio::test]
async fn a_success_ends_the_accounts_run_of_failures() {
    let w = world();
    let b = w.browser(None, None);
    login_failure(w.password(&b, "not the password").await);
    session_cookie(w.password(&b, PASSWORD).await);
    assert_eq!(w.store.failures(&account_key("alice")), 0);
    assert_eq!(
        w.store.failures("ip:192.0.2.10"),
        1,
        "the address's are kept"
    );
}

#[tokio::test]
async fn a_recovery_code_stands_in_for_the_totp() {
    let w = world().with_totp();
    let codes = w.with_recovery_codes();
    let progress = verify_cookie(w.password(&w.browser(None, None), PASSWORD).await);
    let b = w.browser(Some(progress), None);
    let code = Input::Code {
        method: "recovery".into(),
        code: codes[3].to_lowercase(),
    };
    let cookie = session_cookie(w.step(&b, None, code).await);
    assert_eq!(w.session(&cookie).acr, Acr::Aal2);
    let used = w
        .store
        .audit_events()
        .into_iter()
        .find(|e| e.event_type == "recovery_code.used")
        .expect("the use is audited");
    assert_eq!(used.details["remaining"], 9);
    let id = w.user.id.clone();
    assert_eq!(w.store.enrolled(&id).unwrap().recovery_codes, 9);
}

#[tokio::test]
async fn a_used_recovery_code_fails_on_the_verify_page() {
    let w = world().with_totp();
    let codes = w.with_recovery_codes();
    let b = w.browser(None, None);
    for expected_ok in [true, false] {
        let progress = verify_cookie(w.password(&b, PASSWORD).await);
        let b = w.browser(Some(progress), None);
        let code = Input::Code {
            method: "recovery".into(),
            code: codes[0].clone(),
        };
        match w.step(&b, None, code).await {
            Outcome::Done { .. } => assert!(expected_ok),
            Outcome::VerifyAgain { failure, .. } => {
                assert!(!expected_ok);
                assert_eq!(failure, LoginFailure::Invalid);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_step_up_asks_only_for_the_missing_factor() {
    let w = world();
    let codes = w.with_recovery_codes();
    // Recovery codes alone are no reason to ask for more at an ordinary sign-in.
    let cookie = session_cookie(w.password(&w.browser(None, None), PASSWORD).await);
    assert_eq!(w.session(&cookie).acr, Acr::Aal1);

    // A client needs aal2: the session's password counts, a code completes it.
    let b = w.browser(None, Some(cookie.clone()));
    let progress = verify_cookie(w.step(&b, Some(Acr::Aal2), Input::Open).await);
    let b = w.browser(Some(progress), Some(cookie.clone()));
    let code = Input::Code {
        method: "recovery".into(),
        code: codes[0].clone(),
    };
    let stepped = session_cookie(w.step(&b, Some(Acr::Aal2), code).await);
    assert_ne!(stepped, cookie, "a new session id");
    assert_eq!(w.session(&stepped).acr, Acr::Aal2);
    assert!(
        w.session(&cookie).ended_at.is_some(),
        "the weaker session ended"
    );
}

#[tokio::test]
async fn a_step_up_the_account_cannot_meet_is_unmet() {
    let w = world();
    let cookie = session_cookie(w.password(&w.browser(None, None), PASSWORD).await);
    let b = w.browser(None, Some(cookie));
    assert!(matches!(
        w.step(&b, Some(Acr::Aal2), Input::Open).await,
        Outcome::Unmet
    ));
    assert_eq!(
        w.audit_types().last().map(String::as_str),
        Some("login.step_up")
    );
}

#[tokio::test]
async fn a_risk_refusal_after_the_right_password_looks_like_a_wrong_one() {
    let mut config = config();
    config.risk.deny_networks = vec!["192.0.2.0/24".parse().unwrap()];
    let w = world_with(config);
    let refused = w.password(&w.browser(None, None), PASSWORD).await;
    let wrong = w.password(&w.browser(None, None), "not the password").await;
    assert_eq!(login_failure(refused), Some(LoginFailure::Invalid));
    assert_eq!(login_failure(wrong), Some(LoginFailure::Invalid));
    // Both counted alike; the refusal's own reason is in the trail.
    assert_eq!(w.store.failures(&account_key("alice")), 2);
    let reasons: Vec<_> = w
        .store
        .audit_events()
        .into_iter()
        .filter(|e| e.event_type == "login.password")
        .map(|e| e.reason)
        .collect();
    assert_eq!(
        reasons,
        vec![
            Some("risk_refused".to_string()),
            Some("bad_password".to_string())
        ]
    );
    assert!(!w.audit_types().contains(&"login.success".to_string()));
}
