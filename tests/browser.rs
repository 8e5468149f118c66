//! The login and consent pages in a real browser: Debian's Chromium, headless,
//! driven through chromedriver's WebDriver API. This is where a Content Security
//! Policy that blocks the redirect back to the client would show (`form-action`
//! applies to the redirects after a form submission in Chromium; a plain HTTP
//! client does not enforce CSP at all).
//!
//! `.ci/run` installs chromium and chromium-driver and sets WARD_REQUIRE_BROWSER=1,
//! so in CI a missing browser fails the test; elsewhere it is skipped with a note.

mod common;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::oidc::{self, authorize_url, param, pkce};
use common::{TestEnv, backends};
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

struct Driver {
    child: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
    _profile: tempfile::TempDir,
}

impl Driver {
    fn start() -> Option<Self> {
        if !std::path::Path::new(CHROMIUM).exists() || !std::path::Path::new(CHROMEDRIVER).exists()
        {
            assert!(
                std::env::var("WARD_REQUIRE_BROWSER").is_err(),
                "WARD_REQUIRE_BROWSER is set but chromium/chromedriver are not installed"
            );
            eprintln!("skipping: install chromium and chromium-driver to run the browser tests");
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let deadline = Instant::now() + Duration::from_secs(10);
        while agent.get(&format!("{base}/status")).call().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = tempfile::tempdir().unwrap();
        // The flags keep Chromium off the network: only loopback is reachable here.
        let caps = json!({ "capabilities": { "alwaysMatch": { "browserName": "chrome", "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
                     format!("--user-data-dir={}", profile.path().display())]
        }}}});
        let mut res = agent
            .post(&format!("{base}/session"))
            .send_json(&caps)
            .unwrap();
        let v: Value = res.body_mut().read_json().unwrap();
        let session = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_string();
        Some(Self {
            child,
            base,
            session,
            agent,
            _profile: profile,
        })
    }

    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut res = match method {
            "GET" => self.agent.get(&url).call().unwrap(),
            _ => self
                .agent
                .post(&url)
                .send_json(body.unwrap_or(json!({})))
                .unwrap(),
        };
        res.body_mut().read_json::<Value>().unwrap()["value"].clone()
    }

    fn goto(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({ "url": url })));
    }

    fn url(&self) -> String {
        self.cmd("GET", "/url", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn js(&self, script: &str) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
    }

    /// Wait until the URL satisfies `f`.
    fn wait_url(&self, what: &str, f: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let u = self.url();
            if f(&u) {
                return u;
            }
            assert!(Instant::now() < deadline, "waiting for {what}; at {u}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self
            .agent
            .delete(&format!("{}/session/{}", self.base, self.session))
            .call();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The relying party's redirect endpoint: a loopback listener that answers 200
/// and remembers the request lines it received.
struct Callback {
    url: String,
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Callback {
    fn start() -> Self {
        use std::io::{BufRead, BufReader, Write};
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://127.0.0.1:{}/cb",
            listener.local_addr().unwrap().port()
        );
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut line = String::new();
                let mut reader = BufReader::new(&stream);
                if reader.read_line(&mut line).is_ok() {
                    log.lock().unwrap().push(line.trim().to_string());
                }
                let mut stream = stream;
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 8\r\nConnection: close\r\n\r\nsigned in");
            }
        });
        Self { url, seen }
    }
}

#[test]
fn sign_in_and_consent_in_chromium_reach_the_client() {
    for backend in backends() {
        let Some(browser) = Driver::start() else {
            return;
        };
        let env = TestEnv::new(backend);
        oidc::user(&env, "alice");
        let callback = Callback::start();
        oidc::client(
            &env,
            "rp",
            &[
                "--type",
                "confidential",
                "--redirect-uri",
                &callback.url,
                "--name",
                "Clinic Portal",
            ],
        );
        // `localhost`, as in development: the page and the client are then on different origins.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let listen = format!("127.0.0.1:{port}");
        let issuer = format!("http://localhost:{port}");
        let server =
            common::Server::start(&env, &[("WARD_LISTEN", &listen), ("WARD_ISSUER", &issuer)]);
        let p = pkce();
        let url = authorize_url(
            &server,
            "rp",
            &p,
            &[("scope", "openid profile"), ("redirect_uri", &callback.url)],
        )
        .replacen(&server.base, &issuer, 1);

        browser.goto(&url);
        browser.wait_url("the login page", |u| u.contains("/login?"));
        assert_eq!(
            browser.js("return document.querySelector('label[for=username]').textContent"),
            "Username"
        );
        // A wrong password first: the page says so, in an alert region.
        browser.js("document.getElementById('username').value = 'alice'; document.getElementById('password').value = 'wrong-password-1'; document.querySelector('button[type=submit]').click();");
        let deadline = Instant::now() + Duration::from_secs(10);
        while browser.js("return document.querySelector('[role=alert]') !== null") != json!(true) {
            assert!(Instant::now() < deadline, "no error shown");
            std::thread::sleep(Duration::from_millis(50));
        }
        browser.js(&format!(
            "document.getElementById('password').value = '{}'; document.querySelector('button[type=submit]').click();",
            common::PASSWORD
        ));
        browser.wait_url("the consent page", |u| u.contains("/consent?"));
        assert!(
            browser
                .js("return document.body.innerText")
                .as_str()
                .unwrap()
                .contains("Clinic Portal")
        );
        browser.js("document.querySelector('button[value=approve]').click();");
        // The client's redirect URI is reached (nothing listens there; the URL is what matters).
        let back = browser.wait_url("the redirect to the client", |u| {
            u.starts_with(&callback.url)
        });
        assert!(param(&back, "code").is_some(), "{backend:?}: {back}");
        assert_eq!(param(&back, "state").as_deref(), Some("st4te"));
        assert!(
            callback
                .seen
                .lock()
                .unwrap()
                .iter()
                .any(|l| l.starts_with("GET /cb?code=")),
            "the client's endpoint received the code"
        );

        // A second authorization in the same browser: single sign-on, straight back.
        browser.goto(&url);
        let back = browser.wait_url("single sign-on", |u| u.starts_with(&callback.url));
        assert!(param(&back, "code").is_some());
        drop(server);
    }
}
