//! HTTP-level fuzzing: the real server, a signed-in user, an administrator with
//! a fresh multi-factor token and a few clients, then a bounded, deterministic
//! stream of malformed requests to every route (mutated query strings and form
//! bodies, oversized and repeated parameters, wrong methods, bad JSON, bad
//! content types, cookies, Authorization and Host headers, raw request heads).
//! Nothing may answer 5xx; the process must be alive and healthy afterwards,
//! and the audit trail must verify. See docs/fuzzing.md.
//!
//! `WARD_FUZZ_HTTP_REQUESTS` (default 20,000 on SQLite, 10,000 on PostgreSQL)
//! and `WARD_FUZZ_SEED` change the run.

mod common;
#[allow(dead_code)]
#[path = "admin_api/support.rs"]
mod support;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::Backend;
use common::app::TestApp;
use common::oidc::{self, REDIRECT, basic};

/// A small deterministic generator (SplitMix64): the same seed, the same requests.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Every route of `web::configure` (method, path); the admin API's come from `ROUTES`.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/static/ward.css"),
    ("GET", "/static/form_post.js"),
    ("GET", "/static/webauthn.js"),
    ("GET", "/.well-known/openid-configuration"),
    ("GET", "/.well-known/oauth-authorization-server"),
    ("GET", "/jwks"),
    ("GET", "/authorize"),
    ("POST", "/authorize"),
    ("GET", "/authorize/resume"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/login/verify"),
    ("POST", "/login/verify"),
    ("GET", "/login/recover"),
    ("POST", "/login/recover"),
    ("POST", "/login/passkey/start"),
    ("POST", "/login/passkey/finish"),
    ("GET", "/signup"),
    ("POST", "/signup/start"),
    ("POST", "/signup/finish"),
    ("GET", "/account"),
    ("POST", "/account"),
    ("GET", "/account/apps"),
    ("GET", "/account/apps/withdraw"),
    ("POST", "/account/apps/withdraw"),
    ("GET", "/account/activity"),
    ("POST", "/account/export"),
    ("GET", "/account/totp"),
    ("POST", "/account/totp"),
    ("POST", "/account/passkeys/start"),
    ("POST", "/account/passkeys/finish"),
    ("GET", "/logout"),
    ("POST", "/logout"),
    ("POST", "/logout/confirm"),
    ("GET", "/tenant"),
    ("POST", "/tenant"),
    ("GET", "/continue"),
    ("POST", "/continue"),
    ("POST", "/switch-user"),
    ("GET", "/consent"),
    ("POST", "/consent"),
    ("GET", "/picker/patient"),
    ("POST", "/picker/patient"),
    ("POST", "/picker/patient/choose"),
    ("GET", "/picker/encounter"),
    ("POST", "/picker/encounter/choose"),
    ("GET", "/picker/other"),
    ("GET", "/userinfo"),
    ("POST", "/userinfo"),
    ("POST", "/token"),
    ("POST", "/introspect"),
    ("POST", "/revoke"),
    ("POST", "/par"),
    ("POST", "/smart/launch"),
    ("GET", "/admin/api/openapi.json"),
    ("GET", "/static/admin.js"),
    ("GET", "/admin"),
    ("GET", "/admin/users"),
    ("POST", "/admin/users"),
    ("GET", "/admin/users/alice"),
    ("GET", "/admin/users/alice/confirm"),
    ("POST", "/admin/users/alice/status"),
    ("POST", "/admin/users/alice/reset-mfa"),
    ("POST", "/admin/users/alice/roles"),
    ("POST", "/admin/users/alice/roles/revoke"),
    ("POST", "/admin/users/alice/sessions/end"),
    ("GET", "/admin/approvals"),
    ("POST", "/admin/approvals/x/approve"),
    ("POST", "/admin/approvals/x/reject"),
    ("GET", "/admin/break-glass"),
    ("POST", "/admin/break-glass/x/review"),
    ("GET", "/admin/audit"),
    ("POST", "/admin/audit/verify"),
    ("GET", "/admin/clients"),
    ("POST", "/admin/clients"),
    ("GET", "/admin/clients/new"),
    ("GET", "/admin/clients/x/remove"),
    ("POST", "/admin/clients/x/remove"),
    ("GET", "/no/such/route"),
];

const NAMES: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "code_verifier",
    "response_mode",
    "prompt",
    "max_age",
    "login_hint",
    "ui_locales",
    "id_token_hint",
    "acr_values",
    "claims",
    "request",
    "request_uri",
    "registration",
    "grant_type",
    "code",
    "refresh_token",
    "token",
    "token_type_hint",
    "access_token",
    "client_secret",
    "client_assertion",
    "client_assertion_type",
    "post_logout_redirect_uri",
    "interaction",
    "csrf",
    "username",
    "password",
    "method",
    "decision",
    "tenant",
    "email",
    "display_name",
    "name",
    "action",
    "ceremony",
    "choice",
    "credential",
    "current_password",
    "new_password",
    "given_name",
    "family_name",
    "middle_name",
    "birthdate",
    "locale",
    "zoneinfo",
    "phone_number",
    "sid",
    "limit",
    "after",
    "after_id",
    "event_type",
    "subject",
    "status",
    "pending",
    "d",
    "",
    "%",
    "a[]",
    "\u{0}",
    "é",
];

/// Values that are valid somewhere, near-valid, or hostile.
fn base_values() -> Vec<String> {
    let mut v: Vec<String> = [
        "",
        " ",
        "%",
        "%zz",
        "%00",
        "%C3%28",
        "\u{0}",
        "é",
        "💥",
        "\u{202e}",
        "null",
        "true",
        "[]",
        "{}",
        "{\"userinfo\":{\"sub\":{\"value\":1}}}",
        "{\"id_token\":{\"acr\":{\"essential\":true,\"values\":[\"phrh\"]}}}",
        "{\"userinfo\":[]}",
        "-1",
        "0",
        "1",
        "18446744073709551616",
        "99999999999999999999999999",
        "1e309",
        "NaN",
        "code",
        "code id_token",
        "token",
        "none",
        "S256",
        "plain",
        "query",
        "form_post",
        "fragment",
        "login",
        "consent",
        "none login",
        "select_account",
        "openid",
        "openid profile email offline_access",
        "openid profile email phone address roles offline_access api",
        "authorization_code",
        "refresh_token",
        "client_credentials",
        "password",
        "urn:ietf:params:oauth:grant-type:device_code",
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "urn:ietf:params:oauth:request_uri:abc",
        "eyJhbGciOiJub25lIn0.e30.",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.AAAA",
        "a.b.c.d",
        "...",
        "aal1",
        "aal2",
        "phr",
        "phrh",
        "urn:mace:incommon:iap:silver",
        "ward-console",
        "public-app",
        "optional-app",
        "nobody",
        "ward",
        "admin",
        "alice",
        "approve",
        "deny",
        "totp",
        "recovery",
        "email",
        "passkey",
        "123456",
        "000000",
        "1234567",
        "abcdef",
        "ABCD-EFGH-IJKL",
        common::PASSWORD,
        REDIRECT,
        "http://127.0.0.1:1/cb",
        "http://127.0.0.1/cb",
        "http://[::1]:9999/cb",
        "http://localhost:9999/cb",
        "https://evil.example/cb",
        "javascript:alert(1)",
        "//evil.example",
        "http://127.0.0.1:9999/cb#frag",
        "http://127.0.0.1:9999/cb?x=1",
        "http://user@127.0.0.1:9999/cb",
        "org.example.app:/cb",
        "2000-02-30",
        "0000-01-01",
        "en-GB",
        "Europe/London",
        "+44 1632 960961",
        "../../etc/passwd",
        "<script>alert(1)</script>",
        "' OR 1=1 --",
        "{{7*7}}",
        "a\r\nSet-Cookie: x=1",
        // PostgreSQL text cannot hold NUL: every value that reaches a query must be checked first.
        "console\u{0}",
        "alice\u{0}",
        "\u{0}@example.org",
        "\u{0}\u{0}",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push("x".repeat(4096));
    v.push("x".repeat(4097));
    v.push("é".repeat(3000));
    v.push("A".repeat(40_000));
    v.push("%".repeat(500));
    v.push("[".repeat(5000));
    v.push(format!("{}{}", "{\"a\":".repeat(300), "}".repeat(300)));
    v
}

/// A string mutated: characters flipped, cut, doubled or percent-mangled.
fn mutate(rng: &mut Rng, s: &str) -> String {
    let mut b: Vec<char> = s.chars().collect();
    match rng.below(7) {
        0 if !b.is_empty() => {
            let i = rng.below(b.len());
            b[i] = char::from_u32(rng.below(0x3000) as u32).unwrap_or('?');
        }
        1 if !b.is_empty() => b.truncate(rng.below(b.len())),
        2 => {
            let copy = b.clone();
            b.extend(copy);
        }
        3 => b.insert(rng.below(b.len() + 1), '%'),
        4 if !b.is_empty() => {
            b.remove(rng.below(b.len()));
        }
        5 => b.push(char::from_u32(rng.below(0x11_0000) as u32).unwrap_or('\u{fffd}')),
        _ => b.reverse(),
    }
    b.into_iter().collect()
}

fn random_text(rng: &mut Rng, max: usize) -> String {
    let n = rng.below(max + 1);
    (0..n)
        .map(|_| match rng.below(4) {
            0 => char::from(b' ' + rng.below(95) as u8),
            1 => char::from(rng.below(128) as u8),
            2 => char::from_u32(rng.below(0x11_0000) as u32).unwrap_or('x'),
            _ => *rng.pick(&['a', '=', '&', '%', '+', ';', '"', '\\', '/', '.']),
        })
        .collect()
}

fn random_json(rng: &mut Rng, depth: usize, values: &[String]) -> serde_json::Value {
    use serde_json::{Value, json};
    match if depth == 0 {
        rng.below(5)
    } else {
        rng.below(7)
    } {
        0 => Value::Null,
        1 => Value::Bool(rng.chance(50)),
        2 => match rng.below(4) {
            0 => json!(rng.next() as i64),
            1 => json!(rng.next()),
            2 => json!(f64::from_bits(rng.next()).is_finite().then_some(1.5e300)),
            _ => json!(-(rng.below(100) as i64)),
        },
        3 | 4 => Value::String(if rng.chance(70) {
            rng.pick(values).clone()
        } else {
            random_text(rng, 40)
        }),
        5 => Value::Array(
            (0..rng.below(5))
                .map(|_| random_json(rng, depth - 1, values))
                .collect(),
        ),
        _ => {
            let mut m = serde_json::Map::new();
            for _ in 0..rng.below(6) {
                let k = if rng.chance(80) {
                    rng.pick(JSON_KEYS).to_string()
                } else {
                    random_text(rng, 10)
                };
                m.insert(k, random_json(rng, depth - 1, values));
            }
            Value::Object(m)
        }
    }
}

/// Member names of Ward's JSON bodies (admin API requests, WebAuthn calls).
const JSON_KEYS: &[&str] = &[
    "username",
    "password",
    "email",
    "display_name",
    "status",
    "role",
    "tenant",
    "roles",
    "client_id",
    "type",
    "client_type",
    "redirect_uris",
    "grant_types",
    "scopes",
    "name",
    "first_party",
    "pkce",
    "require_par",
    "jwks",
    "jwks_uri",
    "tenant",
    "keys",
    "note",
    "given_name",
    "family_name",
    "middle_name",
    "birthdate",
    "locale",
    "zoneinfo",
    "phone_number",
    "phone_number_verified",
    "address",
    "formatted",
    "street_address",
    "locality",
    "region",
    "postal_code",
    "country",
    "interaction",
    "csrf",
    "ceremony",
    "credential",
    "id",
    "rawId",
    "response",
    "clientDataJSON",
    "attestationObject",
    "authenticatorData",
    "signature",
    "userHandle",
    "extensions",
    "clientExtensionResults",
    "post_logout_redirect_uris",
    "backchannel_logout_uri",
    "min_acr",
    "authz_resources",
    "access_token_seconds",
    "id_token_alg",
];

/// An admin API body of the right shape for its route, with hostile values.
fn admin_body(rng: &mut Rng, k: &Known, path: &str) -> serde_json::Value {
    use serde_json::json;
    let v = |rng: &mut Rng| -> serde_json::Value {
        match rng.below(6) {
            0 => random_json(rng, 2, &k.values),
            _ => serde_json::Value::String(value(rng, k)),
        }
    };
    let route = path.split('?').next().unwrap_or_default();
    let mut body = if route.ends_with("/profile") {
        let mut m = serde_json::Map::new();
        for name in [
            "display_name",
            "given_name",
            "family_name",
            "middle_name",
            "birthdate",
            "locale",
            "zoneinfo",
            "phone_number",
            "phone_number_verified",
        ] {
            if rng.chance(40) {
                m.insert(name.into(), v(rng));
            }
        }
        if rng.chance(40) {
            m.insert(
                "address".into(),
                json!({"formatted": v(rng), "street_address": v(rng), "locality": v(rng),
                       "region": v(rng), "postal_code": v(rng), "country": v(rng)}),
            );
        }
        serde_json::Value::Object(m)
    } else if route.ends_with("/roles") {
        json!({"role": v(rng), "tenant": v(rng)})
    } else if route.ends_with("/review") {
        json!({"note": v(rng)})
    } else if route.ends_with("/users") {
        json!({"username": v(rng), "password": v(rng), "email": v(rng), "display_name": v(rng)})
    } else if route.ends_with("/clients") {
        json!({
            "client_id": v(rng),
            "type": *rng.pick(&["confidential", "public", "other"]),
            "redirect_uris": [v(rng)],
            "grant_types": [v(rng)],
            "scopes": [v(rng)],
            "name": v(rng),
            "authz_resources": [v(rng)],
            "post_logout_redirect_uris": [v(rng)],
            "backchannel_logout_uri": v(rng),
            "min_acr": v(rng),
            "id_token_alg": v(rng),
            "access_token_seconds": v(rng),
            "pkce": v(rng),
            "jwks": {"keys": [{"kty": "EC", "crv": "P-256", "x": v(rng), "y": v(rng), "kid": v(rng)}]},
            "jwks_uri": v(rng),
            "tenant": v(rng),
        })
    } else {
        json!({"status": *rng.pick(&["active", "disabled", "locked"])})
    };
    // Sometimes a member too many, or one left out.
    if let Some(m) = body.as_object_mut() {
        if rng.chance(10) {
            m.insert(rng.pick(JSON_KEYS).to_string(), v(rng));
        }
        if rng.chance(20) && !m.is_empty() {
            let key = m
                .keys()
                .nth(rng.below(m.len()))
                .cloned()
                .unwrap_or_default();
            m.remove(&key);
        }
    }
    body
}

/// What the fuzzer knows after setting up the world.
struct Known {
    base: String,
    host: String,
    values: Vec<String>,
    /// (name, value) cookies of browsers: signed in, or in the middle of a sign-in.
    cookie_sets: Vec<Vec<(String, String)>>,
    auths: Vec<String>,
    admin_paths: Vec<(String, String)>,
    /// The administrator's id.
    admin: String,
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    raw: bool,
}

impl Request {
    fn describe(&self) -> String {
        let cut = |s: &str, n: usize| s.chars().take(n).collect::<String>();
        format!(
            "{}{} {} headers={:?} body[{}]={:?}",
            if self.raw { "(raw) " } else { "" },
            self.method,
            cut(&self.path, 400),
            self.headers
                .iter()
                .map(|(k, v)| (k.clone(), cut(v, 120)))
                .collect::<Vec<_>>(),
            self.body.len(),
            cut(&String::from_utf8_lossy(&self.body), 400)
        )
    }
}

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn value(rng: &mut Rng, k: &Known) -> String {
    match rng.below(10) {
        0..=5 => rng.pick(&k.values).clone(),
        6 | 7 => {
            let v = rng.pick(&k.values).clone();
            mutate(rng, &v)
        }
        _ => random_text(rng, 60),
    }
}

/// `a=1&b=2` with known names and values, repeated and odd pairs, sometimes broken encoding.
fn pairs(rng: &mut Rng, k: &Known) -> String {
    let mut out = Vec::new();
    for _ in 0..rng.below(12) {
        let name = if rng.chance(90) {
            rng.pick(NAMES).to_string()
        } else {
            random_text(rng, 12)
        };
        let v = value(rng, k);
        out.push(match rng.below(20) {
            0 => name.clone(),
            1 => format!("{name}={v}"), // unencoded
            2 => format!("{}=%{}", encode(&name), rng.below(256)),
            _ => format!("{}={}", encode(&name), encode(&v)),
        });
    }
    out.join(if rng.chance(95) { "&" } else { ";" })
}

fn generate(rng: &mut Rng, k: &Known) -> Request {
    // The route and its method.
    let (mut method, path) = if rng.chance(35) {
        let (m, p) = rng.pick(&k.admin_paths).clone();
        (m, p)
    } else {
        let (m, p) = *rng.pick(ROUTES);
        (m.to_string(), p.to_string())
    };
    if rng.chance(15) {
        method = rng
            .pick(&["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
            .to_string();
    }
    // Nothing but reading on the administrator's own resources and on the
    // console client that issued their token (a method changed above
    // included), or the token would not last the run.
    let console_client = format!("/clients/{}/", support::CLIENT);
    if (path.contains(&k.admin) || format!("{path}/").contains(&console_client)) && method != "GET"
    {
        method = "GET".to_string();
    }
    let mut path = path;
    if rng.chance(60) || method == "GET" {
        path = format!("{path}?{}", pairs(rng, k));
    }
    if rng.chance(3) {
        path = format!("{path}/{}", encode(&random_text(rng, 20)));
    }
    let mut headers: Vec<(String, String)> = Vec::new();
    // The body.
    let mut body = Vec::new();
    let sends_body = method != "GET" && method != "HEAD" && method != "OPTIONS";
    if sends_body {
        let json =
            path.starts_with("/admin") || path.contains("/passkey") || path.starts_with("/signup/");
        let (ct, b): (String, Vec<u8>) = match rng.below(10) {
            0..=4 if !json => (
                "application/x-www-form-urlencoded".into(),
                pairs(rng, k).into_bytes(),
            ),
            0..=2 if path.starts_with("/admin") => (
                "application/json".into(),
                admin_body(rng, k, &path).to_string().into_bytes(),
            ),
            0..=4 => (
                "application/json".into(),
                random_json(rng, 4, &k.values).to_string().into_bytes(),
            ),
            5 => {
                let text = random_json(rng, 4, &k.values).to_string();
                let cut = rng.below(text.len() + 1);
                ("application/json".into(), text.as_bytes()[..cut].to_vec())
            }
            6 => (
                rng.pick(&[
                    "application/x-www-form-urlencoded; charset=utf-16",
                    "multipart/form-data; boundary=x",
                    "text/plain",
                    "application/json; charset=latin1",
                    "application/problem+json",
                    "*/*",
                    ";;;",
                    "application/x-www-form-urlencoded",
                ])
                .to_string(),
                pairs(rng, k).into_bytes(),
            ),
            7 => (
                "application/x-www-form-urlencoded".into(),
                (0..rng.below(300)).map(|_| rng.next() as u8).collect(),
            ),
            8 => (
                "application/x-www-form-urlencoded".into(),
                // Oversized: beyond the 64 KiB limit, or many parameters.
                if rng.chance(50) {
                    vec![b'a'; 64 * 1024 + rng.below(10_000)]
                } else {
                    "a=1&".repeat(rng.below(16_000)).into_bytes()
                },
            ),
            _ => (
                "application/json".into(),
                random_text(rng, 200).into_bytes(),
            ),
        };
        if rng.chance(95) {
            headers.push(("content-type".into(), ct));
        }
        body = b;
    }
    // Credentials and cookies.
    if path.starts_with("/admin") && rng.chance(60) {
        // Mostly the administrator's token, so that the API's own checks are reached.
        headers.push(("authorization".into(), k.auths[0].clone()));
    } else if rng.chance(50) {
        let a = rng.pick(&k.auths).clone();
        headers.push((
            "authorization".into(),
            if rng.chance(20) { mutate(rng, &a) } else { a },
        ));
    }
    let cookies = rng.pick(&k.cookie_sets);
    if rng.chance(50) && !cookies.is_empty() {
        let mut parts = Vec::new();
        for (n, v) in cookies {
            match rng.below(4) {
                0 => {}
                1 => parts.push(format!("{n}={}", mutate(rng, v))),
                _ => parts.push(format!("{n}={v}")),
            }
        }
        if rng.chance(20) {
            parts.push(format!("{}={}", rng.pick(cookies).0, random_text(rng, 50)));
        }
        headers.push(("cookie".into(), parts.join("; ")));
    }
    if rng.chance(10) {
        headers.push((
            rng.pick(&[
                "x-forwarded-for",
                "user-agent",
                "accept",
                "accept-language",
                "origin",
            ])
            .to_string(),
            random_text(rng, 40),
        ));
    }
    // Longer than the http crate builds: only the raw path can send it.
    let raw = rng.chance(10) || path.len() > 60_000;
    Request {
        method,
        path,
        headers,
        body,
        raw,
    }
}

/// Header values ureq accepts: visible ASCII; the raw path sends anything.
fn ascii_only(s: &str) -> String {
    s.chars()
        .map(|c| if (' '..='~').contains(&c) { c } else { '?' })
        .collect()
}

/// Send through the keep-alive agent; the status, or why there is none.
fn send(agent: &ureq::Agent, k: &Known, r: &Request) -> Result<u16, String> {
    let path: String = r
        .path
        .chars()
        .map(|c| {
            // What the http crate accepts in a URI as it is; `%` stays, so broken escapes get through.
            if c.is_ascii_graphic() && !"\"<>\\^`{|}".contains(c) {
                c.to_string()
            } else {
                encode(&c.to_string())
            }
        })
        .collect();
    let mut b = ureq::http::Request::builder()
        .method(r.method.as_str())
        .uri(format!("{}{path}", k.base));
    for (n, v) in &r.headers {
        b = b.header(n.as_str(), ascii_only(v));
    }
    let res = if r.body.is_empty() {
        b.body(()).map(|req| agent.run(req))
    } else {
        b.body(r.body.clone()).map(|req| agent.run(req))
    };
    match res {
        Ok(Ok(mut res)) => {
            let _ = res.body_mut().read_to_vec();
            Ok(res.status().as_u16())
        }
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(format!("not sent: {e}")),
    }
}

/// Send a raw request head (odd methods and Host headers, bytes beyond ASCII) on
/// a fresh connection; the status line's code, if the server answered.
fn send_raw(rng: &mut Rng, k: &Known, r: &Request) -> Option<u16> {
    let mut head = Vec::new();
    let method = match rng.below(8) {
        0 => "FOO".to_string(),
        1 => "get".to_string(),
        2 => "CONNECT".to_string(),
        _ => r.method.clone(),
    };
    head.extend_from_slice(method.as_bytes());
    head.push(b' ');
    head.extend_from_slice(r.path.as_bytes());
    head.extend_from_slice(if rng.chance(90) {
        b" HTTP/1.1\r\n"
    } else {
        b" HTTP/1.0\r\n"
    });
    match rng.below(8) {
        0 => {}
        1 => head.extend_from_slice(b"Host: evil.example\r\n"),
        2 => head.extend_from_slice(b"Host: \r\n"),
        3 => head.extend_from_slice(format!("Host: {}\r\nHost: other\r\n", k.host).as_bytes()),
        4 => head.extend_from_slice(format!("Host: [{}\r\n", random_text(rng, 300)).as_bytes()),
        _ => head.extend_from_slice(format!("Host: {}\r\n", k.host).as_bytes()),
    }
    for (n, v) in &r.headers {
        if !v.contains(['\r', '\n']) {
            head.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
        }
    }
    if rng.chance(10) {
        head.extend_from_slice(b"X-Odd: \xff\xfe\x80\r\n");
    }
    head.extend_from_slice(format!("Content-Length: {}\r\n", r.body.len()).as_bytes());
    head.extend_from_slice(b"Connection: close\r\n\r\n");
    let mut stream = TcpStream::connect(&k.host).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    stream.write_all(&head).ok()?;
    let _ = stream.write_all(&r.body);
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    let line = String::from_utf8_lossy(&out[..out.len().min(20)]).to_string();
    line.strip_prefix("HTTP/1.")
        .and_then(|rest| rest.get(2..5))
        .and_then(|code| code.parse().ok())
}

/// Keep-alive, no redirects followed, 4xx/5xx as responses.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

fn cookie_pairs(b: &oidc::Browser) -> Vec<(String, String)> {
    b.cookies
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn setup(w: &TestApp) -> Known {
    let env = &w.env;
    oidc::client(
        env,
        "public-app",
        &["--type", "public", "--redirect-uri", REDIRECT],
    );
    let optional = oidc::client(
        env,
        "optional-app",
        &[
            "--type",
            "confidential",
            "--redirect-uri",
            "http://127.0.0.1/cb",
            "--pkce",
            "optional",
            "--post-logout-redirect-uri",
            REDIRECT,
            "--scope",
            "openid profile email phone address offline_access",
        ],
    )
    .unwrap();
    let (_, admin_token) = support::tokens(w, "admin");
    let (browser, alice) = support::sign_in(w, "alice", None);
    let s = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let mut values = base_values();
    // Alice's tokens may be revoked along the way; the administrator's is only
    // ever sent as a credential (it must last the whole run).
    let tokens = [
        s(&alice["access_token"]),
        s(&alice["id_token"]),
        s(&alice["refresh_token"]),
    ];
    values.extend(tokens.iter().cloned());
    values.push(admin_token[..admin_token.len() - 1].to_string());
    values.extend([
        w.user_id("admin").to_string(),
        w.user_id("alice").to_string(),
        optional.clone(),
    ]);
    let mut auths = vec![
        format!("Bearer {admin_token}"),
        format!("Bearer {}", tokens[0]),
        basic(support::CLIENT, w.secret(support::CLIENT)),
        basic("optional-app", &optional),
        basic("ward-console", "wrong"),
        basic("", ""),
        basic("a%zz", "b%"),
        basic("\u{0}", "x"),
        basic("ward-console", "\u{0}"),
        basic("%00", "%00"),
        "Basic".into(),
        "Basic !!!".into(),
        "Basic Og==".into(),
        "Bearer".into(),
        "Bearer ".into(),
        format!("Bearer {}", "a".repeat(9000)),
        "Bearer a.b.c".into(),
        "DPoP abc".into(),
        "Negotiate YII=".into(),
    ];
    auths.push(format!("bearer {admin_token}"));
    let ids = [
        w.user_id("alice").to_string(),
        w.user_id("admin").to_string(),
        "ward-console".to_string(),
        "optional-app".to_string(),
        "nobody".to_string(),
        "%00".to_string(),
        "..%2F..".to_string(),
        "alice%00".to_string(),
        "x".repeat(3000),
        "%C3%28".to_string(),
        "ward".to_string(),
    ];
    let mut admin_paths = Vec::new();
    for route in ward::web::admin::ROUTES {
        for id in &ids {
            // The administrator keeps their sessions, roles and factors, and the
            // console client that issued their token stays: the fuzzer needs the
            // token for the whole run.
            if route.method != "GET" && (*id == w.user_id("admin") || id == support::CLIENT) {
                continue;
            }
            let p = route
                .path
                .replace("{id}", id)
                .replace("{tenant}", "ward")
                .replace("{role}", "ward-admin")
                .replace("{sid}", id);
            admin_paths.push((route.method.to_string(), format!("/admin/api{p}")));
        }
    }
    // Sign-ins in progress, so that the login, verify and consent forms get
    // requests with a real interaction id and CSRF token.
    let mut cookie_sets = vec![cookie_pairs(&browser)];
    for client in [support::CLIENT, "public-app"] {
        let (b, interaction, csrf) = oidc::on_login_page(
            &w.server,
            client,
            &oidc::pkce(),
            &[("scope", "openid profile")],
        );
        values.extend([interaction, csrf]);
        cookie_sets.push(cookie_pairs(&b));
    }
    let host = w.server.base.trim_start_matches("http://").to_string();
    Known {
        base: w.server.base.clone(),
        host,
        values,
        cookie_sets,
        admin: w.user_id("admin").to_string(),
        auths,
        admin_paths,
    }
}

fn fuzz_http(backend: Backend) {
    let total: usize = std::env::var("WARD_FUZZ_HTTP_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(match backend {
            Backend::Sqlite => 20_000,
            Backend::Postgres => 10_000,
        });
    let seed: u64 = std::env::var("WARD_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5EED_0011);
    let mut w = support::world(backend);
    let known = setup(&w);
    let started = Instant::now();
    let threads = 4;
    let failures: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());
    let transport_errors: Mutex<BTreeMap<String, usize>> = Mutex::new(BTreeMap::new());
    let statuses: Mutex<BTreeMap<u16, usize>> = Mutex::new(BTreeMap::new());
    let server_errors = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for t in 0..threads {
            let (known, failures, transport_errors, server_errors, statuses) = (
                &known,
                &failures,
                &transport_errors,
                &server_errors,
                &statuses,
            );
            scope.spawn(move || {
                let mut rng = Rng(seed ^ ((t as u64 + 1) << 32));
                let mut agent = agent();
                for i in 0..total / threads {
                    let req = generate(&mut rng, known);
                    let status = if req.raw {
                        send_raw(&mut rng, known, &req).ok_or_else(|| "raw: no answer".to_string())
                    } else {
                        send(&agent, known, &req)
                    };
                    match status {
                        Ok(s) if s >= 500 => {
                            server_errors.fetch_add(1, Ordering::Relaxed);
                            // The first few, one per route (the path without its query).
                            let route = req.path.split('?').next().unwrap_or_default();
                            let key = format!("{} {route}", req.method);
                            let mut f = failures.lock().unwrap();
                            if f.len() < 10 && !f.iter().any(|(k, _)| *k == key) {
                                let what = format!("{s} for request {t}/{i}: {}", req.describe());
                                f.push((key, what));
                            }
                        }
                        Ok(s) => {
                            *statuses.lock().unwrap().entry(s).or_insert(0) += 1;
                        }
                        Err(why) => {
                            // Kinds of failure without an answer, for the summary.
                            let kind: String = why.chars().take(60).collect();
                            *transport_errors.lock().unwrap().entry(kind).or_insert(0) += 1;
                            // A connection the server closed (413, 408): start afresh.
                            agent = self::agent();
                        }
                    }
                }
            });
        }
    });
    let elapsed = started.elapsed();
    let errors = transport_errors.into_inner().unwrap();
    eprintln!(
        "fuzz_http ({backend:?}): {total} requests in {:.1} s, {} without an HTTP answer: {errors:?}; statuses: {:?}",
        elapsed.as_secs_f64(),
        errors.values().sum::<usize>(),
        statuses.into_inner().unwrap()
    );
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} responses were 5xx; the first:\n{}",
        server_errors.load(Ordering::Relaxed),
        failures
            .iter()
            .map(|(_, what)| what.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    // Alive and healthy.
    assert!(
        w.server.child.try_wait().unwrap().is_none(),
        "the server exited"
    );
    let (status, _, _) = common::get(&w.server.url("/healthz"));
    assert_eq!(status, 200);
    let (status, _, _) = common::get(&w.server.url("/readyz"));
    assert_eq!(status, 200);
    // The administrator's token worked to the end: the API's checks were reached.
    let (status, _, body) = common::get_with(
        &w.server.url("/admin/api/users"),
        &[("authorization", known.auths[0].as_str())],
    );
    assert_eq!(status, 200, "{body}");
    assert!(w.server.terminate().success());
    w.env.ok(&["audit", "verify"], None);
}

per_backend!(fuzz_http);

/// Regression (found by `fuzz_http` on PostgreSQL): a client id with NUL, from
/// HTTP Basic or the admin API's path, was a 500 (PostgreSQL text cannot hold
/// NUL); it is an unknown client. So are a break-glass id and the users' cursor.
fn nul_in_a_client_id_is_an_unknown_client(backend: Backend) {
    let w = support::world(backend);
    for path in ["/token", "/par", "/introspect", "/revoke"] {
        let res = oidc::post_form(
            &w.server,
            path,
            Some(&basic("\u{0}", "x")),
            &[("grant_type", "client_credentials"), ("token", "x")],
        );
        assert_eq!(res.status, 401, "{path}: {}", res.body);
        assert_eq!(res.json()["error"], "invalid_client", "{path}");
    }
    let (_, admin) = support::tokens(&w, "admin");
    for method in ["GET", "DELETE"] {
        let res = support::call(&w, method, "/clients/%00", Some(&admin), None);
        assert_eq!(res.status, 404, "{method}: {}", res.body);
    }
    // Found with WARD_FUZZ_SEED=11: NUL in the users' paging cursor.
    let res = support::call(&w, "GET", "/users?after=%00x", Some(&admin), None);
    assert_eq!(res.status, 422, "{}", res.body);
    let res = support::call(
        &w,
        "POST",
        "/break-glass/%00/review",
        Some(&admin),
        Some(r#"{"note": "ok"}"#),
    );
    assert_eq!(res.status, 404, "{}", res.body);
}

per_backend!(nul_in_a_client_id_is_an_unknown_client);
