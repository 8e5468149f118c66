//! A relying party's tools: a free port for an issuer that matches its URL, a
//! cookie-keeping "browser" that walks Ward's login and consent pages, PKCE.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

use super::{PASSWORD, Server, TestEnv};

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Start `ward serve` on a free port with the issuer set to that exact URL.
pub fn serve_with_issuer(env: &TestEnv, extra: &[(&str, &str)]) -> Server {
    serve_on(env, "127.0.0.1", extra).0
}

/// Start `ward serve` on a free loopback port with the issuer
/// `http://HOST:<port>`: the server and the issuer.
pub fn serve_on(env: &TestEnv, host: &str, extra: &[(&str, &str)]) -> (Server, String) {
    try_serve_on(env, host, extra)
        .unwrap_or_else(|e| panic!("ward serve did not become ready: {e}"))
}

/// The same, or why the server did not become ready (its stderr).
pub fn try_serve_on(
    env: &TestEnv,
    host: &str,
    extra: &[(&str, &str)],
) -> Result<(Server, String), String> {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let issuer = format!("http://{host}:{port}");
    let mut all: Vec<(&str, &str)> = vec![
        ("WARD_LISTEN", listen.as_str()),
        ("WARD_ISSUER", issuer.as_str()),
    ];
    all.extend_from_slice(extra);
    Ok((Server::try_start(env, &all)?, issuer))
}

/// A response, with headers by lower-case name.
pub struct Res {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Res {
    pub fn location(&self) -> &str {
        self.headers
            .get("location")
            .map(String::as_str)
            .unwrap_or_else(|| panic!("no Location ({}): {}", self.status, self.body))
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// A minimal browser: no redirects followed automatically, cookies kept.
pub struct Browser {
    base: String,
    agent: ureq::Agent,
    pub cookies: HashMap<String, String>,
    /// Sent with every request (a User-Agent, an X-Forwarded-For address).
    pub headers: Vec<(String, String)>,
}

impl Browser {
    pub fn new(server: &Server) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        Self {
            base: server.base.clone(),
            agent,
            cookies: HashMap::new(),
            headers: Vec::new(),
        }
    }

    fn absolute(&self, url: &str) -> String {
        if url.starts_with("http") {
            url.to_string()
        } else {
            format!("{}{url}", self.base)
        }
    }

    fn finish(&mut self, res: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Res {
        let mut res = res.expect("request");
        let mut headers = HashMap::new();
        for (k, v) in res.headers() {
            let v = v.to_str().unwrap_or_default().to_string();
            if k.as_str() == "set-cookie" {
                let pair = v.split(';').next().unwrap_or_default();
                if let Some((n, val)) = pair.split_once('=') {
                    self.cookies.insert(n.to_string(), val.to_string());
                }
            }
            headers.insert(k.as_str().to_string(), v);
        }
        let body = res.body_mut().read_to_string().unwrap_or_default();
        Res {
            status: res.status().as_u16(),
            headers,
            body,
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Set (or replace) a header sent with every request.
    pub fn set_header(&mut self, name: &str, value: &str) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_string(), value.to_string()));
    }

    pub fn get(&mut self, url: &str) -> Res {
        let mut r = self
            .agent
            .get(&self.absolute(url))
            .header("cookie", &self.cookie_header());
        for (n, v) in &self.headers {
            r = r.header(n.as_str(), v.as_str());
        }
        let res = r.call();
        self.finish(res)
    }

    pub fn post(&mut self, url: &str, form: &[(&str, &str)]) -> Res {
        let mut r = self
            .agent
            .post(&self.absolute(url))
            .header("cookie", &self.cookie_header());
        for (n, v) in &self.headers {
            r = r.header(n.as_str(), v.as_str());
        }
        let res = r.send_form(form.iter().copied());
        self.finish(res)
    }

    /// POST `body` as JSON (the passkey endpoints), cookies kept.
    pub fn post_json(&mut self, url: &str, body: &serde_json::Value) -> Res {
        let mut r = self
            .agent
            .post(&self.absolute(url))
            .header("cookie", &self.cookie_header())
            .header("content-type", "application/json");
        for (n, v) in &self.headers {
            r = r.header(n.as_str(), v.as_str());
        }
        let res = r.send(body.to_string());
        self.finish(res)
    }

    /// From an authorize URL to the redirect back to the client: sign in as
    /// `username` if asked, approve consent if asked. Returns the final redirect.
    pub fn authorize(&mut self, url: &str, username: &str) -> Res {
        let mut res = self.get(url);
        for _ in 0..8 {
            if res.status != 303 {
                return res;
            }
            let loc = res.location().to_string();
            if loc.starts_with("/login") {
                let page = self.get(&loc);
                assert_eq!(page.status, 200, "{}", page.body);
                let (interaction, csrf) = (
                    hidden(&page.body, "interaction"),
                    hidden(&page.body, "csrf"),
                );
                res = self.post(
                    "/login",
                    &[
                        ("interaction", &interaction),
                        ("csrf", &csrf),
                        ("username", username),
                        ("password", PASSWORD),
                    ],
                );
                assert_eq!(res.status, 303, "login failed: {}", res.body);
            } else if loc.starts_with("/consent") {
                let page = self.get(&loc);
                assert_eq!(page.status, 200, "{}", page.body);
                let (interaction, csrf) = (
                    hidden(&page.body, "interaction"),
                    hidden(&page.body, "csrf"),
                );
                // Approve as the page stands: every ticked box stays ticked.
                let kept = checked(&page.body, "keep");
                let mut form = vec![
                    ("interaction", interaction.as_str()),
                    ("csrf", csrf.as_str()),
                    ("decision", "approve"),
                ];
                form.extend(kept.iter().map(|k| ("keep", k.as_str())));
                res = self.post("/consent", &form);
            } else if loc.starts_with('/') {
                res = self.get(&loc);
            } else {
                return res;
            }
        }
        panic!("too many redirects");
    }
}

/// The values of the ticked checkboxes named `name` (attributes in the order
/// `type name value … checked`, as Ward's templates write them), unescaped.
pub fn checked(html: &str, name: &str) -> Vec<String> {
    let marker = format!("type=\"checkbox\" name=\"{name}\" value=\"");
    html.split(&marker)
        .skip(1)
        .filter(|rest| {
            rest.split('>')
                .next()
                .unwrap_or_default()
                .contains("checked")
        })
        .map(|rest| unescape(rest.split('"').next().unwrap_or_default()))
        .collect()
}

/// Undo minijinja's HTML escaping of an attribute value.
pub fn unescape(text: &str) -> String {
    text.replace("&#x2f;", "/")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The value of a hidden form field.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no field {name} in {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

/// A query parameter of a URL.
pub fn param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

pub fn pkce() -> Pkce {
    let verifier = ward::crypto::secrets::generate(32);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    Pkce {
        verifier,
        challenge,
    }
}

pub fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

/// Create a user with the test password; returns their id.
pub fn user(env: &TestEnv, username: &str) -> String {
    let out = env.ok(
        &[
            "user",
            "add",
            username,
            "--email",
            &format!("{username}@example.org"),
            "--display-name",
            "Test Person",
            "--json",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    serde_json::from_str::<serde_json::Value>(&out).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Register a client; returns its secret (confidential) or None.
pub fn client(env: &TestEnv, id: &str, args: &[&str]) -> Option<String> {
    let mut all = vec!["client", "add", id, "--json"];
    all.extend_from_slice(args);
    let out = env.ok(&all, None);
    serde_json::from_str::<serde_json::Value>(&out).unwrap()["client_secret"]
        .as_str()
        .map(str::to_string)
}

/// Register a confidential client redirecting to `redirect_uri`, with `more`
/// arguments to `ward client add`; returns its secret.
pub fn confidential(env: &TestEnv, id: &str, redirect_uri: &str, more: &[&str]) -> Option<String> {
    let mut args = vec!["--type", "confidential", "--redirect-uri", redirect_uri];
    args.extend_from_slice(more);
    client(env, id, &args)
}

/// Register a confidential client for the client_credentials grant with the
/// scope `api`, with `more` arguments; returns its secret (if it has one).
pub fn service_client(env: &TestEnv, id: &str, more: &[&str]) -> Option<String> {
    let mut args = vec![
        "--type",
        "confidential",
        "--grant-type",
        "client_credentials",
        "--scope",
        "api",
    ];
    args.extend_from_slice(more);
    client(env, id, &args)
}

pub const REDIRECT: &str = "http://127.0.0.1:9999/cb";

/// An authorize URL for `client_id` with PKCE; `extra` adds or replaces parameters.
pub fn authorize_url(
    server: &Server,
    client_id: &str,
    pkce: &Pkce,
    extra: &[(&str, &str)],
) -> String {
    authorize_url_with(server, client_id, Some(pkce), extra)
}

/// The same without `code_challenge` and `code_challenge_method` (with `nonce`
/// n0nce unless `extra` replaces it).
pub fn authorize_url_without_pkce(
    server: &Server,
    client_id: &str,
    extra: &[(&str, &str)],
) -> String {
    authorize_url_with(server, client_id, None, extra)
}

fn authorize_url_with(
    server: &Server,
    client_id: &str,
    pkce: Option<&Pkce>,
    extra: &[(&str, &str)],
) -> String {
    let mut params: Vec<(&str, &str)> = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("scope", "openid profile email offline_access"),
        ("state", "st4te"),
        ("nonce", "n0nce"),
    ];
    if let Some(p) = pkce {
        params.push(("code_challenge", p.challenge.as_str()));
        params.push(("code_challenge_method", "S256"));
    }
    for (k, v) in extra {
        match params.iter_mut().find(|(name, _)| name == k) {
            Some(slot) => slot.1 = v,
            None => params.push((k, v)),
        }
    }
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.extend_pairs(params);
    format!("{}/authorize?{}", server.base, q.finish())
}

/// POST a form to a protocol endpoint, optionally with HTTP Basic.
pub fn post_form(server: &Server, path: &str, auth: Option<&str>, form: &[(&str, &str)]) -> Res {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let mut req = agent.post(&format!("{}{path}", server.base));
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let mut b = Browser {
        base: server.base.clone(),
        agent: agent.clone(),
        cookies: HashMap::new(),
        headers: Vec::new(),
    };
    b.finish(req.send_form(form.iter().copied()))
}

/// A browser on the login page of a new sign-in for `client_id`: returns it with
/// the form's interaction id and CSRF token.
pub fn on_login_page(
    server: &Server,
    client_id: &str,
    pkce: &Pkce,
    extra: &[(&str, &str)],
) -> (Browser, String, String) {
    let mut b = Browser::new(server);
    let res = b.get(&authorize_url(server, client_id, pkce, extra));
    let page = b.get(res.location());
    assert_eq!(page.status, 200, "{}", page.body);
    let (interaction, csrf) = (
        hidden(&page.body, "interaction"),
        hidden(&page.body, "csrf"),
    );
    (b, interaction, csrf)
}

impl Browser {
    /// Submit the login form of an interaction.
    pub fn sign_in(
        &mut self,
        interaction: &str,
        csrf: &str,
        username: &str,
        password: &str,
    ) -> Res {
        self.post(
            "/login",
            &[
                ("interaction", interaction),
                ("csrf", csrf),
                ("username", username),
                ("password", password),
            ],
        )
    }
}

/// The claims of a JWT (no signature check: the tests that need one do it).
pub fn jwt_claims(jwt: &str) -> serde_json::Value {
    serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(jwt.split('.').nth(1).expect("a JWT"))
            .expect("base64url"),
    )
    .expect("JSON claims")
}

/// Follow same-site redirects; the final response (to the client, or a page).
pub fn follow(b: &mut Browser, mut res: Res) -> Res {
    while res.status == 303 && res.location().starts_with('/') {
        res = b.get(res.location());
    }
    res
}

impl Browser {
    /// Open `/account`, follow it to the login page and submit `username`'s
    /// password: the login form's answer.
    pub fn account_sign_in(&mut self, username: &str) -> Res {
        let res = self.get("/account");
        let page = self.get(res.location());
        self.sign_in(
            &hidden(&page.body, "interaction"),
            &hidden(&page.body, "csrf"),
            username,
            PASSWORD,
        )
    }

    /// Sign in to the account pages with `username`'s password, then enrol an
    /// authenticator app there: the session stays a password (aal1) session.
    /// Returns the TOTP secret (base32).
    pub fn password_session_with_totp(&mut self, username: &str) -> String {
        let res = self.account_sign_in(username);
        assert_eq!(res.location(), "/account");
        self.enrol_totp()
    }

    /// In a signed-in session, enrol an authenticator app on the account
    /// page (the code confirmed at `mid_step`). Returns the TOTP secret.
    pub fn enrol_totp(&mut self) -> String {
        let page = self.get("/account/totp");
        assert_eq!(page.status, 200, "{}", page.body);
        let secret = page
            .body
            .split("<code id=\"totp-secret\">")
            .nth(1)
            .and_then(|rest| rest.split("</code>").next())
            .expect("the TOTP secret on the page")
            .to_string();
        let code = super::totp::totp(&secret, super::totp::mid_step());
        let confirm = self.post(
            "/account/totp",
            &[("csrf", &hidden(&page.body, "csrf")), ("code", &code)],
        );
        assert_eq!(confirm.status, 200, "{}", confirm.body);
        secret
    }
}
