//! OpenID Connect Back-Channel Logout 1.0 over real HTTP, on every backend: a
//! test RP on loopback receives the logout token when the session ends and
//! verifies it (signature against /jwks, `events`, `sid`, no `nonce`); a
//! notification to an RP that is down is retried and survives a Ward restart.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::app::{TestApp, id_claims};
use common::oidc::{self, Browser};
use common::{Backend, Server};
use p256::ecdsa::signature::Verifier;
use serde_json::Value;

/// The RP's back-channel endpoint: records each POSTed body; answers 503 while `down`.
struct Rp {
    port: u16,
    bodies: Arc<Mutex<Vec<String>>>,
    down: Arc<AtomicBool>,
}

impl Rp {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (bodies, down) = (
            Arc::new(Mutex::new(Vec::new())),
            Arc::new(AtomicBool::new(false)),
        );
        let (b, d) = (bodies.clone(), down.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream);
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let status = if d.load(Ordering::SeqCst) {
                    "503 Service Unavailable"
                } else {
                    b.lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(&body).into_owned());
                    "200 OK"
                };
                let _ = reader.get_mut().write_all(
                    format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                        .as_bytes(),
                );
            }
        });
        Self { port, bodies, down }
    }

    fn wait_token(&self, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(body) = self.bodies.lock().unwrap().first() {
                let token = url::form_urlencoded::parse(body.as_bytes())
                    .find(|(k, _)| k == "logout_token")
                    .map(|(_, v)| v.into_owned());
                return token;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }
}

fn b64(part: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(part).unwrap()
}

/// Verify an ES256 JWS against the issuer's JWKS; its claims.
fn verify(server: &Server, jwt: &str) -> Value {
    let parts: Vec<&str> = jwt.split('.').collect();
    let header: Value = serde_json::from_slice(&b64(parts[0])).unwrap();
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["typ"], "logout+jwt");
    let jwks: Value = serde_json::from_str(&common::get(&server.url("/jwks")).2).unwrap();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .expect("the key is published");
    let point = p256::EncodedPoint::from_affine_coordinates(
        b64(jwk["x"].as_str().unwrap()).as_slice().into(),
        b64(jwk["y"].as_str().unwrap()).as_slice().into(),
        false,
    );
    let key = p256::ecdsa::VerifyingKey::from_encoded_point(&point).unwrap();
    let sig = p256::ecdsa::Signature::from_slice(&b64(parts[2])).unwrap();
    key.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
        .expect("a valid signature");
    serde_json::from_slice(&b64(parts[1])).unwrap()
}

fn setup(backend: Backend, rp: &Rp) -> TestApp {
    let uri = format!("http://127.0.0.1:{}/backchannel", rp.port);
    TestApp::new(backend)
        .user("alice")
        .first_party(
            "app",
            "openid",
            &["--id-token-alg", "ES256", "--backchannel-logout-uri", &uri],
        )
        .start()
}

/// Sign in through the app; the browser and the ID token's claims.
fn sign_in(w: &TestApp) -> (Browser, Value) {
    let (b, t) = w.sign_in("app", "alice", &[("scope", "openid")]);
    (b, id_claims(&t))
}

fn sign_out(b: &mut Browser) {
    let page = b.get("/account");
    let csrf = oidc::hidden(&page.body, "csrf");
    assert_eq!(
        b.post("/account", &[("csrf", &csrf), ("action", "sign_out")])
            .status,
        303
    );
}

fn the_rp_receives_a_verifiable_logout_token(backend: Backend) {
    let rp = Rp::start();
    let w = setup(backend, &rp);
    let (env, server) = (&w.env, &w.server);
    let d = common::get(&server.url("/.well-known/openid-configuration")).2;
    assert!(d.contains("\"backchannel_logout_supported\":true"), "{d}");
    let (mut b, id) = sign_in(&w);
    sign_out(&mut b);
    let token = rp
        .wait_token(Duration::from_secs(10))
        .expect("a logout token");
    let c = verify(server, &token);
    assert_eq!(c["iss"], id["iss"]);
    assert_eq!(c["aud"], "app");
    assert_eq!(c["sub"], id["sub"]);
    assert_eq!(c["sid"], id["sid"], "the sid of the session the RP saw");
    assert!(c["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
    assert!(
        c.get("nonce").is_none(),
        "a logout token never has a nonce (§2.4)"
    );
    assert!(c["jti"].is_string() && c["iat"].is_i64());
    assert_eq!(
        env.count("SELECT COUNT(*) AS n FROM logout_outbox WHERE delivered_at IS NOT NULL"),
        1
    );
}

per_backend!(the_rp_receives_a_verifiable_logout_token);

fn notifications_are_retried_and_survive_a_restart(backend: Backend) {
    let rp = Rp::start();
    rp.down.store(true, Ordering::SeqCst);
    let mut w = setup(backend, &rp);
    let (mut b, id) = sign_in(&w);
    sign_out(&mut b);
    // The RP is down: Ward keeps trying.
    let deadline = Instant::now() + Duration::from_secs(10);
    while w
        .env
        .count("SELECT COALESCE(MAX(attempts), 0) AS n FROM logout_outbox")
        < 2
    {
        assert!(Instant::now() < deadline, "no retries");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        w.env
            .count("SELECT COUNT(*) AS n FROM logout_outbox WHERE delivered_at IS NOT NULL"),
        0
    );
    // Ward restarts; the RP comes back; the notification arrives.
    w.restart_with(|| rp.down.store(false, Ordering::SeqCst));
    let token = rp
        .wait_token(Duration::from_secs(20))
        .expect("delivered after the restart");
    assert_eq!(verify(&w.server, &token)["sid"], id["sid"]);
}

per_backend!(notifications_are_retried_and_survive_a_restart);
