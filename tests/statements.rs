//! Database work per token request, counted with diesel's instrumentation
//! in-process (the HTTP layer adds none). Budgets from the OIDC core issue:
//! a code exchange in at most 8 statements (Hydra: 43 per flow), and a refresh
//! in at most as many.

mod common;

use common::{Backend, TestEnv};
use ward::app::{AppContext, OpenOptions};
use ward::domain::ClientType;
use ward::manage::clients::{self, NewClientInput};
use ward::oidc::client_auth::{self, ClientCredentials};
use ward::oidc::params::Params;
use ward::oidc::{authorize, grants};
use ward::storage::connection::statements_executed;
use ward::store::SessionRow;

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// The statement counter is process-wide, and `per_backend!` makes one test
/// per backend that the harness runs in parallel: one backend at a time, or
/// each counts the other's statements.
static ONE_BACKEND_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn token_requests_stay_within_their_statement_budget(backend: Backend) {
    let _serial = ONE_BACKEND_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let env = TestEnv::new(backend);
    let ctx = AppContext::open(env.config(), OpenOptions { migrate: true }).unwrap();
    let user = ward::manage::users::add(
        &ctx,
        "test",
        ward::manage::users::NewUserInput {
            username: "alice".into(),
            email: None,
            display_name: None,
            password: None,
        },
    )
    .unwrap();
    let mut input = NewClientInput::new("rp", ClientType::Confidential, &["https://rp.example/cb"]);
    input.first_party = true;
    input.scopes = vec!["openid".into(), "offline_access".into()];
    let secret = clients::add(&ctx, "test", input).unwrap().secret.unwrap();
    let keys = ctx.keyset();
    let p = ctx.provider(&keys);

    // A session and an authorization request, straight through the core.
    let now = p.now;
    let session = SessionRow {
        id_hash: ward::domain::SessionId::from_hash("s".repeat(64)),
        user_id: user.id.clone(),
        created_at: now,
        last_seen_at: now,
        expires_at: now + 3_600_000,
        auth_time: now,
        acr: ward::domain::Acr::Aal1,
        amr: vec![ward::domain::Amr::Pwd],
        ip: None,
        user_agent: None,
        ended_at: None,
        device_hash: None,
        factor_times: Default::default(),
        shared_workstation: false,
    };
    let event =
        ward::audit::AuditEvent::new(now, "test", "login.password", ward::audit::Outcome::Success);
    p.store.create_session(&session, None, &event).unwrap();
    let query = format!(
        "response_type=code&client_id=rp&redirect_uri=https%3A%2F%2Frp.example%2Fcb&scope=openid%20offline_access&code_challenge={CHALLENGE}&code_challenge_method=S256"
    );
    let request = authorize::parse(&p, &Params::parse(&query)).unwrap();
    let response = authorize::issue_code(&p, &request, &session, None).unwrap();
    let code = response
        .params
        .iter()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .clone();

    let creds = || ClientCredentials {
        basic: Some(("rp".into(), secret.clone())),
        ..Default::default()
    };
    let before = statements_executed();
    let client = client_auth::authenticate(&p, &creds(), &p.endpoint("/token"))
        .map_err(|f| f.error)
        .unwrap();
    let form = format!(
        "grant_type=authorization_code&code={code}&redirect_uri=https%3A%2F%2Frp.example%2Fcb&code_verifier={VERIFIER}"
    );
    let tokens = grants::exchange(&p, &client, &Params::parse(&form)).unwrap();
    let exchange = statements_executed() - before;

    let before = statements_executed();
    let client = client_auth::authenticate(&p, &creds(), &p.endpoint("/token"))
        .map_err(|f| f.error)
        .unwrap();
    let form = format!(
        "grant_type=refresh_token&refresh_token={}",
        tokens.refresh_token.unwrap()
    );
    grants::exchange(&p, &client, &Params::parse(&form)).unwrap();
    let refresh = statements_executed() - before;

    println!("{backend:?}: code exchange {exchange} statements, refresh {refresh} statements");
    assert!(
        exchange <= 8,
        "{backend:?}: code exchange took {exchange} statements"
    );
    assert!(
        refresh <= 8,
        "{backend:?}: refresh took {refresh} statements"
    );
}

per_backend!(token_requests_stay_within_their_statement_budget);
