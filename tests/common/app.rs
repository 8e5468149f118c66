//! `TestApp`: one test's Ward, built in one expression: a fresh database on a
//! backend, users with the test password, registered clients, environment,
//! and `ward serve` on a free port whose issuer is that exact URL.
//!
//! ```ignore
//! let app = TestApp::new(backend)
//!     .user("alice")
//!     .first_party("app", "openid offline_access", &[])
//!     .start();
//! let (browser, tokens) = app.sign_in("app", "alice", &[("scope", "openid")]);
//! ```
//!
//! With the relying party's plumbing: the code exchange (one function posting
//! the token form), refresh, and the claims and `amr` of a JWT.

use std::sync::atomic::{AtomicI64, Ordering};

use serde_json::{Value, json};

use super::oidc::{self, Browser, Pkce, REDIRECT, Res, authorize_url, basic, hidden, param, pkce};
use super::smtp::SmtpListener;
use super::webauthn::SoftAuthenticator;
use super::{Backend, Server, TestEnv};

/// A Ward being set up: nothing runs until [`TestAppBuilder::start`].
pub struct TestAppBuilder {
    env: TestEnv,
    smtp: Option<SmtpListener>,
    clock: Option<std::path::PathBuf>,
    serve_env: Vec<(String, String)>,
    secrets: Vec<(String, Option<String>)>,
    users: Vec<(String, String)>,
    host: &'static str,
}

/// A running Ward with its database, users and clients.
pub struct TestApp {
    /// Declared first so that it stops before the database is dropped.
    pub server: Server,
    pub env: TestEnv,
    /// `http://127.0.0.1:<port>`, or `http://localhost:<port>` (see
    /// [`TestAppBuilder::on_localhost`]) while the server listens on 127.0.0.1.
    pub issuer: String,
    smtp: Option<SmtpListener>,
    clock: Option<(std::path::PathBuf, AtomicI64)>,
    serve_env: Vec<(String, String)>,
    secrets: Vec<(String, Option<String>)>,
    users: Vec<(String, String)>,
    host: &'static str,
}

impl TestApp {
    #[allow(clippy::new_ret_no_self)]
    pub fn new(backend: Backend) -> TestAppBuilder {
        TestAppBuilder {
            env: TestEnv::new(backend),
            smtp: None,
            clock: None,
            serve_env: Vec::new(),
            secrets: Vec::new(),
            users: Vec::new(),
            host: "127.0.0.1",
        }
    }
}

impl TestAppBuilder {
    /// A user with the test password (`oidc::user`).
    pub fn user(mut self, username: &str) -> Self {
        let id = oidc::user(&self.env, username);
        self.users.push((username.to_string(), id));
        self
    }

    /// A user with the test password added with `ward user add USERNAME
    /// ARGS` (no email or display name unless `args` gives them).
    pub fn user_with(mut self, username: &str, args: &[&str]) -> Self {
        let mut all = vec!["user", "add", username, "--json"];
        all.extend_from_slice(args);
        let out = self.env.ok(&all, Some(&format!("{}\n", super::PASSWORD)));
        let id = serde_json::from_str::<Value>(&out).expect("JSON")["id"]
            .as_str()
            .expect("the new user's id")
            .to_string();
        self.users.push((username.to_string(), id));
        self
    }

    /// Several users with the test password, in order.
    pub fn users(self, usernames: &[&str]) -> Self {
        usernames.iter().fold(self, |b, u| b.user(u))
    }

    /// A client registered with `ward client add ID ARGS`.
    pub fn client(mut self, id: &str, args: &[&str]) -> Self {
        let secret = oidc::client(&self.env, id, args);
        self.secrets.push((id.to_string(), secret));
        self
    }

    /// A confidential client redirecting to `redirect_uri` (`oidc::confidential`).
    pub fn confidential(mut self, id: &str, redirect_uri: &str, more: &[&str]) -> Self {
        let secret = oidc::confidential(&self.env, id, redirect_uri, more);
        self.secrets.push((id.to_string(), secret));
        self
    }

    /// A confidential first-party client redirecting to `REDIRECT`, allowed
    /// `scope`, with `more` arguments to `ward client add`.
    pub fn first_party(self, id: &str, scope: &str, more: &[&str]) -> Self {
        let mut args = vec!["--first-party", "--scope", scope];
        args.extend_from_slice(more);
        self.confidential(id, REDIRECT, &args)
    }

    /// A real SMTP listener on loopback that every `ward` process mails to.
    pub fn smtp(mut self) -> Self {
        let smtp = SmtpListener::start();
        smtp.configure(&mut self.env);
        self.smtp = Some(smtp);
        self
    }

    /// A server clock the test moves (`WARD_TEST_CLOCK_FILE`), at offset 0.
    pub fn clock(mut self) -> Self {
        let clock = self.env.dir.path().join("clock-offset");
        std::fs::write(&clock, "0").unwrap();
        let path = clock.to_str().unwrap().to_string();
        self.clock = Some(clock);
        self.serve_env("WARD_TEST_CLOCK_FILE", &path)
    }

    /// An environment variable for every `ward` process of the test (CLI too).
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.set_env(key, value);
        self
    }

    /// An environment variable for `ward serve` only.
    pub fn serve_env(mut self, key: &str, value: &str) -> Self {
        self.serve_env.push((key.to_string(), value.to_string()));
        self
    }

    /// The issuer `http://localhost:<port>` (the server still listens on
    /// 127.0.0.1): a WebAuthn relying party id must be a domain name, never
    /// an IP address, and `localhost` is a secure context for a browser.
    pub fn on_localhost(mut self) -> Self {
        self.host = "localhost";
        self
    }

    /// Run `ward ARGS` (it must succeed) before the server starts.
    pub fn ward(self, args: &[&str]) -> Self {
        self.env.ok(args, None);
        self
    }

    /// This test's directory (the data directory is `data` below it).
    pub fn dir(&self) -> std::path::PathBuf {
        self.env.dir.path().to_path_buf()
    }

    /// Anything else on the environment before the server starts (a SMTP
    /// listener's settings, a file in the data directory).
    pub fn with(mut self, f: impl FnOnce(&mut TestEnv)) -> Self {
        f(&mut self.env);
        self
    }

    /// Run `ward ARGS` before the server starts, whatever its outcome.
    pub fn run(&self, args: &[&str]) -> std::process::Output {
        self.env.run(args, None)
    }

    /// `ward serve` on a free port, its issuer that URL (`oidc::serve_on`).
    pub fn start(self) -> TestApp {
        self.try_start()
            .unwrap_or_else(|e| panic!("ward serve did not become ready: {e}"))
    }

    /// The same, or why the server did not become ready (its stderr).
    pub fn try_start(self) -> Result<TestApp, String> {
        let (server, issuer) = serve(&self.env, self.host, &self.serve_env)?;
        Ok(TestApp {
            env: self.env,
            server,
            issuer,
            smtp: self.smtp,
            clock: self.clock.map(|c| (c, AtomicI64::new(0))),
            serve_env: self.serve_env,
            secrets: self.secrets,
            users: self.users,
            host: self.host,
        })
    }
}

fn serve(
    env: &TestEnv,
    host: &str,
    serve_env: &[(String, String)],
) -> Result<(Server, String), String> {
    let extra: Vec<(&str, &str)> = serve_env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    oidc::try_serve_on(env, host, &extra)
}

impl TestApp {
    /// Stop the server (SIGTERM, waiting for it to exit), run `between`, and
    /// start it again on a new free port with the same environment.
    pub fn restart_with(&mut self, between: impl FnOnce()) {
        self.server.terminate();
        between();
        (self.server, self.issuer) = serve(&self.env, self.host, &self.serve_env)
            .unwrap_or_else(|e| panic!("ward serve did not become ready again: {e}"));
    }

    /// Set (or replace) an environment variable of `ward serve`, from the
    /// next [`Self::restart_with`] on.
    pub fn set_serve_env(&mut self, key: &str, value: &str) {
        self.serve_env.retain(|(k, _)| k != key);
        self.serve_env.push((key.to_string(), value.to_string()));
    }

    /// The SMTP listener started by [`TestAppBuilder::smtp`].
    pub fn smtp(&self) -> &SmtpListener {
        self.smtp.as_ref().expect("TestApp built without .smtp()")
    }

    /// Move the server's clock (started by [`TestAppBuilder::clock`]) forward.
    pub fn advance(&self, ms: i64) {
        let (path, offset) = self.clock.as_ref().expect("TestApp built without .clock()");
        let now = offset.fetch_add(ms, Ordering::SeqCst) + ms;
        std::fs::write(path, now.to_string()).unwrap();
    }

    /// The secret of a confidential client registered by the builder.
    pub fn secret(&self, client: &str) -> &str {
        self.secrets
            .iter()
            .find(|(id, _)| id == client)
            .and_then(|(_, s)| s.as_deref())
            .unwrap_or_else(|| panic!("no confidential client {client}"))
    }

    /// The id of a user created by the builder.
    pub fn user_id(&self, username: &str) -> &str {
        self.users
            .iter()
            .find(|(u, _)| u == username)
            .map(|(_, id)| id.as_str())
            .unwrap_or_else(|| panic!("no user {username}"))
    }

    pub fn browser(&self) -> Browser {
        Browser::new(&self.server)
    }

    /// An authorize URL for `client` with PKCE (`oidc::authorize_url`).
    pub fn authorize_url(&self, client: &str, pkce: &Pkce, extra: &[(&str, &str)]) -> String {
        authorize_url(&self.server, client, pkce, extra)
    }

    /// POST the token form redeeming `code` as confidential `client`.
    pub fn exchange(&self, client: &str, code: &str, verifier: &str) -> Res {
        exchange(&self.server, client, self.secret(client), code, verifier)
    }

    /// The same for a code sent to `redirect_uri` (not `REDIRECT`).
    pub fn exchange_at(&self, client: &str, redirect_uri: &str, code: &str, verifier: &str) -> Res {
        exchange_at(
            &self.server,
            (client, self.secret(client)),
            redirect_uri,
            code,
            verifier,
        )
    }

    /// POST the refresh_token grant as confidential `client`.
    pub fn refresh(&self, client: &str, refresh_token: &str) -> Res {
        refresh(&self.server, client, self.secret(client), refresh_token)
    }

    /// A new browser signs in as `user` with the password (consent approved if
    /// asked) and the code is redeemed: the browser and the token response.
    pub fn sign_in(&self, client: &str, user: &str, extra: &[(&str, &str)]) -> (Browser, Value) {
        let mut b = self.browser();
        let t = self.sign_in_with(&mut b, client, user, extra);
        (b, t)
    }

    /// The same in an existing browser.
    pub fn sign_in_with(
        &self,
        b: &mut Browser,
        client: &str,
        user: &str,
        extra: &[(&str, &str)],
    ) -> Value {
        let p = pkce();
        let res = b.authorize(&self.authorize_url(client, &p, extra), user);
        let code = param(res.location(), "code")
            .unwrap_or_else(|| panic!("no code: {} {}", res.status, res.location()));
        self.tokens(client, &code, &p)
    }

    /// Walk an authorization for `client` in `b` as `user` with the password
    /// (`Browser::authorize`): the final redirect.
    pub fn authorize(
        &self,
        b: &mut Browser,
        client: &str,
        user: &str,
        extra: &[(&str, &str)],
    ) -> Res {
        b.authorize(&self.authorize_url(client, &pkce(), extra), user)
    }

    /// In `b`, start an authorization for `client` and open the login page it
    /// leads to: the form's interaction id and CSRF token.
    pub fn login_form(
        &self,
        b: &mut Browser,
        client: &str,
        extra: &[(&str, &str)],
    ) -> (String, String) {
        let res = b.get(&self.authorize_url(client, &pkce(), extra));
        let page = b.get(res.location());
        assert_eq!(page.status, 200, "{}", page.body);
        (
            hidden(&page.body, "interaction"),
            hidden(&page.body, "csrf"),
        )
    }

    /// Redeem `code`: the token response (required to be 200).
    pub fn tokens(&self, client: &str, code: &str, p: &Pkce) -> Value {
        let t = self.exchange(client, code, &p.verifier);
        assert_eq!(t.status, 200, "{}", t.body);
        t.json()
    }

    /// Follow same-site redirects from `res` to the client and redeem the code:
    /// the token response.
    pub fn finish(&self, b: &mut Browser, res: Res, client: &str, p: &Pkce) -> Value {
        let res = oidc::follow(b, res);
        let code = param(res.location(), "code")
            .unwrap_or_else(|| panic!("no code: {} {}", res.status, res.body));
        self.tokens(client, &code, p)
    }

    /// A `prompt=none` authorization for `client` (scope openid) in `b`: the
    /// error it comes back with, or "code".
    pub fn silent(&self, b: &mut Browser, client: &str) -> Option<String> {
        let res =
            b.get(&self.authorize_url(client, &pkce(), &[("scope", "openid"), ("prompt", "none")]));
        param(res.location(), "error").or(param(res.location(), "code").map(|_| "code".into()))
    }

    /// Is `token` active, introspected by confidential `client`?
    pub fn active(&self, client: &str, token: &str) -> bool {
        let r = self.post_as(client, "/introspect", &[("token", token)]);
        r.json()["active"] == Value::Bool(true)
    }

    /// POST a form to a protocol endpoint as confidential `client` (HTTP Basic).
    pub fn post_as(&self, client: &str, path: &str, form: &[(&str, &str)]) -> Res {
        oidc::post_form(
            &self.server,
            path,
            Some(&basic(client, self.secret(client))),
            form,
        )
    }
}

impl Browser {
    /// Answer the second-factor page `page` (`/login/verify`) with `method`
    /// (totp, recovery, email) and `code`.
    pub fn second_factor(&mut self, page: &Res, method: &str, code: &str) -> Res {
        self.post(
            "/login/verify",
            &[
                ("interaction", &hidden(&page.body, "interaction")),
                ("csrf", &hidden(&page.body, "csrf")),
                ("method", method),
                ("code", code),
            ],
        )
    }
}

impl Browser {
    /// `res` redirects to the second-factor page after a password: open it
    /// and answer with `method` and `code`.
    pub fn then_second_factor(&mut self, res: &Res, method: &str, code: &str) -> Res {
        assert!(
            res.location().starts_with("/login/verify"),
            "{}",
            res.location()
        );
        let page = self.get(res.location());
        self.second_factor(&page, method, code)
    }
}

impl Browser {
    /// On the account page (signed in, its CSRF token `csrf`), add a passkey
    /// made by `authn` for `origin`: the answer of the finish call.
    pub fn add_passkey(&mut self, origin: &str, csrf: &str, authn: &mut SoftAuthenticator) -> Res {
        let started = self.post_json(
            "/account/passkeys/start",
            &json!({ "csrf": csrf, "name": "Badge key" }),
        );
        assert_eq!(started.status, 200, "{}", started.body);
        let started = started.json();
        let credential = authn.register(&started["options"], origin);
        self.post_json(
            "/account/passkeys/finish",
            &json!({ "csrf": csrf, "ceremony": started["ceremony"], "credential": credential }),
        )
    }
}

/// POST the token form (authorization_code, `REDIRECT`, PKCE verifier) with
/// HTTP Basic for `client`.
pub fn exchange(server: &Server, client: &str, secret: &str, code: &str, verifier: &str) -> Res {
    exchange_at(server, (client, secret), REDIRECT, code, verifier)
}

/// POST the token form for a code sent to `redirect_uri`, with HTTP Basic
/// for `(client, secret)`.
pub fn exchange_at(
    server: &Server,
    (client, secret): (&str, &str),
    redirect_uri: &str,
    code: &str,
    verifier: &str,
) -> Res {
    oidc::post_form(
        server,
        "/token",
        Some(&basic(client, secret)),
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
        ],
    )
}

/// POST the refresh_token grant with HTTP Basic for `client`.
pub fn refresh(server: &Server, client: &str, secret: &str, refresh_token: &str) -> Res {
    oidc::post_form(
        server,
        "/token",
        Some(&basic(client, secret)),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
}

/// The claims of a JWT, unchecked (`oidc::jwt_claims`).
pub fn claims(jwt: &str) -> Value {
    oidc::jwt_claims(jwt)
}

/// The claims of the ID token in a token response.
pub fn id_claims(tokens: &Value) -> Value {
    claims(tokens["id_token"].as_str().expect("an id_token"))
}

/// The `amr` claim as strings.
pub fn amr(claims: &Value) -> Vec<String> {
    claims["amr"]
        .as_array()
        .unwrap_or_else(|| panic!("no amr: {claims}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}
