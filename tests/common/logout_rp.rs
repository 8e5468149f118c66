//! A relying party's back-channel logout endpoint on loopback (Back-Channel
//! Logout 1.0 §2.5): it records each POSTed body, and answers 503 while
//! `down`. Used by tests/backchannel.rs and tests/consent_records.rs.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Verifier;
use serde_json::Value;

use super::Server;

/// The RP's back-channel endpoint: records each POSTed body; answers 503 while `down`.
pub struct Rp {
    pub port: u16,
    pub bodies: Arc<Mutex<Vec<String>>>,
    pub down: Arc<AtomicBool>,
}

impl Rp {
    pub fn start() -> Self {
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

    pub fn wait_token(&self, timeout: Duration) -> Option<String> {
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

    /// The URL to register as the client's `backchannel_logout_uri`.
    pub fn uri(&self) -> String {
        format!("http://127.0.0.1:{}/backchannel", self.port)
    }
}

fn b64(part: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(part).unwrap()
}

/// Verify an ES256 JWS against the issuer's JWKS; its claims.
pub fn verify(server: &Server, jwt: &str) -> Value {
    let parts: Vec<&str> = jwt.split('.').collect();
    let header: Value = serde_json::from_slice(&b64(parts[0])).unwrap();
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["typ"], "logout+jwt");
    let jwks: Value = serde_json::from_str(&super::get(&server.url("/jwks")).2).unwrap();
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
