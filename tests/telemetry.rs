//! OpenTelemetry traces (issue #15): a code flow against a Ward whose
//! `[telemetry] otlp_endpoint` is a loopback OTLP/HTTP receiver written here.
//! The spans arrive with their parent links, an incoming `traceparent` is
//! continued, and no span, attribute or event carries a secret, a code or a token.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::app::TestApp;
use common::oidc::{REDIRECT, param, pkce};
use common::{Backend, PASSWORD, get_with};
use serde_json::Value;

const CLIENT: &str = "traced-app";

/// A minimal OTLP/HTTP collector: every POST body, as text.
fn collector() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&bodies);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let (mut line, mut length) = (String::new(), 0usize);
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                if line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                line.clear();
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_ok() {
                seen.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&body).into_owned());
            }
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (url, bodies)
}

/// One exported span: name, ids and string attributes.
#[derive(Debug, Clone)]
struct Span {
    name: String,
    trace: String,
    id: String,
    parent: String,
    attrs: Vec<(String, String)>,
}

impl Span {
    fn attr(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

fn spans(bodies: &[String]) -> Vec<Span> {
    let mut out = Vec::new();
    for body in bodies {
        let v: Value = serde_json::from_str(body).expect("OTLP JSON");
        for rs in v["resourceSpans"].as_array().into_iter().flatten() {
            for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                for s in ss["spans"].as_array().into_iter().flatten() {
                    let text = |k: &str| s[k].as_str().unwrap_or_default().to_string();
                    let attrs = s["attributes"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|a| {
                            let val = &a["value"];
                            let shown = val["stringValue"]
                                .as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| val.to_string());
                            (a["key"].as_str().unwrap_or_default().to_string(), shown)
                        })
                        .collect();
                    out.push(Span {
                        name: text("name"),
                        trace: text("traceId"),
                        id: text("spanId"),
                        parent: text("parentSpanId"),
                        attrs,
                    });
                }
            }
        }
    }
    out
}

/// Wait until `ready` holds over what arrived (the exporter sends in batches).
fn wait_for(bodies: &Arc<Mutex<Vec<String>>>, ready: impl Fn(&[Span]) -> bool) -> Vec<Span> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let all = spans(&bodies.lock().unwrap());
        if ready(&all) {
            return all;
        }
        assert!(Instant::now() < deadline, "spans never arrived: {all:#?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn request_span<'a>(all: &'a [Span], route: &str) -> Option<&'a Span> {
    all.iter()
        .find(|s| s.name == "request" && s.attr("route") == Some(route))
}

fn children<'a>(all: &'a [Span], parent: &Span) -> Vec<&'a Span> {
    // Direct children and their descendants (a transaction inside a grant, say).
    let mut out: Vec<&Span> = Vec::new();
    let mut frontier = vec![parent.id.clone()];
    while let Some(id) = frontier.pop() {
        for s in all.iter().filter(|s| s.parent == id) {
            frontier.push(s.id.clone());
            out.push(s);
        }
    }
    out
}

fn a_code_flow_is_traced_without_a_secret(backend: Backend) {
    let (endpoint, bodies) = collector();
    let w = TestApp::new(backend)
        .user("alice")
        .confidential(CLIENT, REDIRECT, &["--first-party"])
        .serve_env("WARD_TELEMETRY_OTLP_ENDPOINT", &endpoint)
        .serve_env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .start();

    // A caller's trace continues in Ward (W3C Trace Context).
    let caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let (status, _, _) = get_with(
        &w.server.url("/.well-known/openid-configuration"),
        &[(
            "traceparent",
            &format!("00-{caller_trace}-00f067aa0ba902b7-01"),
        )],
    );
    assert_eq!(status, 200);

    // The code flow, by hand, so that the code itself is known.
    let mut b = w.browser();
    let p = pkce();
    let res = b.authorize(
        &w.authorize_url(CLIENT, &p, &[("scope", "openid profile")]),
        "alice",
    );
    let code = param(res.location(), "code").expect("a code");
    let tokens = w.tokens(CLIENT, &code, &p);

    let all = wait_for(&bodies, |all| {
        request_span(all, "/token")
            .is_some_and(|t| children(all, t).iter().any(|c| c.name == "jws.sign"))
            && all.iter().any(|s| s.name == "password.verify")
            && all.iter().any(|s| s.trace == caller_trace)
    });

    // The request span: route, status, the authenticated client; its children.
    let token = request_span(&all, "/token").unwrap();
    assert_eq!(token.attr("status"), Some("200"), "{token:?}");
    assert_eq!(token.attr("client_id"), Some(CLIENT), "{token:?}");
    assert_eq!(token.attr("method"), Some("POST"));
    assert!(token.attr("request_id").is_some_and(|r| !r.is_empty()));
    let under_token: Vec<&str> = children(&all, token)
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert!(under_token.contains(&"jws.sign"), "{under_token:?}");
    assert!(under_token.contains(&"db.transaction"), "{under_token:?}");
    for c in children(&all, token) {
        assert_eq!(c.trace, token.trace, "a child in another trace: {c:?}");
    }
    // The password check belongs to the sign-in request's trace.
    let verify = all.iter().find(|s| s.name == "password.verify").unwrap();
    let login = all
        .iter()
        .find(|s| s.id == verify.parent)
        .expect("password.verify has a parent");
    assert_eq!(login.name, "request", "{login:?}");
    assert_eq!(login.trace, verify.trace);
    // The caller's trace and parent span.
    let discovery = all.iter().find(|s| s.trace == caller_trace).unwrap();
    assert_eq!(discovery.parent, "00f067aa0ba902b7");
    assert_eq!(
        discovery.attr("route"),
        Some("/.well-known/openid-configuration")
    );

    // No secret anywhere in what was exported.
    let exported = bodies.lock().unwrap().join("\n");
    let secrets = [
        code.as_str(),
        p.verifier.as_str(),
        PASSWORD,
        w.secret(CLIENT),
        tokens["access_token"].as_str().unwrap(),
        tokens["id_token"].as_str().unwrap(),
    ];
    for s in secrets {
        assert!(
            !exported.contains(s),
            "exported telemetry carries a secret ({} chars)",
            s.len()
        );
    }
    // Nor the raw session cookie or a bearer scheme.
    assert!(!exported.to_ascii_lowercase().contains("bearer "));
}

per_backend!(a_code_flow_is_traced_without_a_secret);
