//! A tiny HTTP server on 127.0.0.1 where test clients publish their key sets
//! (a `jwks_uri`), and a few that misbehave: `/redirect/...` answers 302 to
//! the set, `/huge` sends a megabyte, `/hang` never answers. It counts the
//! requests per path, so that a test can see what Ward fetched.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

#[derive(Default)]
struct State {
    sets: HashMap<String, String>,
    hits: HashMap<String, usize>,
}

pub struct JwksServer {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    state: Arc<Mutex<State>>,
}

impl JwksServer {
    pub fn start() -> JwksServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = shared.clone();
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        JwksServer { base, state }
    }

    /// Publish `set` at `path` (replacing what was there): a key rotation.
    pub fn publish(&self, path: &str, set: &Value) {
        let mut s = self.state.lock().unwrap();
        s.sets.insert(path.to_string(), set.to_string());
    }

    /// The URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// How many requests `path` has had.
    pub fn hits(&self, path: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .hits
            .get(path)
            .copied()
            .unwrap_or(0)
    }
}

fn serve(stream: TcpStream, state: &Mutex<State>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let path = line.split(' ').nth(1).unwrap_or("/").to_string();
    // The rest of the head.
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) <= 2 {
            break;
        }
    }
    let body = {
        let mut s = state.lock().unwrap();
        *s.hits.entry(path.clone()).or_default() += 1;
        s.sets.get(&path).cloned()
    };
    let mut out = stream;
    let _ = match (path.as_str(), body) {
        ("/hang", _) => {
            std::thread::sleep(Duration::from_secs(60));
            return;
        }
        ("/huge", _) => {
            let big = format!("{{\"keys\": [], \"pad\": \"{}\"}}", "x".repeat(1 << 20));
            respond(&mut out, "200 OK", &[], &big)
        }
        (p, _) if p.starts_with("/redirect/") => {
            let to = format!("Location: {}", &p["/redirect".len()..]);
            respond(&mut out, "302 Found", &[&to], "")
        }
        (_, Some(set)) => respond(&mut out, "200 OK", &[], &set),
        (_, None) => respond(&mut out, "404 Not Found", &[], "{}"),
    };
}

fn respond(out: &mut TcpStream, status: &str, headers: &[&str], body: &str) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for h in headers {
        head.push_str(h);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())?;
    out.write_all(body.as_bytes())?;
    out.flush()
}
