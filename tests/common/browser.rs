//! A real browser for the tests: Debian's Chromium, headless, driven through
//! chromedriver's WebDriver API (W3C WebDriver, plus the WebAuthn extension's
//! virtual authenticators), and the relying party's redirect endpoint.
//!
//! Without /usr/bin/chromium and /usr/bin/chromedriver, [`Driver::start`]
//! returns None and the test prints a skip note, unless WARD_REQUIRE_BROWSER is
//! set (as `.ci/run` does): then it fails.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::app::{TestApp, TestAppBuilder};
use super::oidc::Pkce;

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The key under which WebDriver serialises an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// How long a wait for the page may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(15);

/// A free loopback port (the listener is closed again; a tiny race, as elsewhere).
pub fn free_port() -> u16 {
    super::oidc::free_port()
}

pub struct Driver {
    child: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
    _profile: tempfile::TempDir,
}

impl Driver {
    /// Chromedriver and a new headless Chromium session with a fresh profile,
    /// or None (after a note) when the browser is not installed.
    pub fn start() -> Option<Self> {
        if !std::path::Path::new(CHROMIUM).exists() || !std::path::Path::new(CHROMEDRIVER).exists()
        {
            assert!(
                std::env::var("WARD_REQUIRE_BROWSER").is_err(),
                "WARD_REQUIRE_BROWSER is set but chromium/chromedriver are not installed"
            );
            eprintln!("skipping: install chromium and chromium-driver to run the browser tests");
            return None;
        }
        let port = free_port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let deadline = Instant::now() + Duration::from_secs(10);
        while agent.get(&format!("{base}/status")).call().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = tempfile::tempdir().unwrap();
        // The flags keep Chromium off the network: only loopback is reachable here.
        let caps = json!({ "capabilities": { "alwaysMatch": { "browserName": "chrome",
            "goog:loggingPrefs": { "browser": "ALL" },
            "goog:chromeOptions": {
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

    /// A WebDriver command of this session; its `value`, or None if it is a WebDriver error.
    pub fn try_cmd(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, Value> {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let res = match method {
            "GET" => self.agent.get(&url).call(),
            "DELETE" => self.agent.delete(&url).call(),
            _ => self.agent.post(&url).send_json(body.unwrap_or(json!({}))),
        };
        let mut res = res.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let ok = res.status().is_success();
        let value = res.body_mut().read_json::<Value>().unwrap()["value"].clone();
        if ok { Ok(value) } else { Err(value) }
    }

    /// A WebDriver command that must succeed.
    pub fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.try_cmd(method, path, body)
            .unwrap_or_else(|e| panic!("WebDriver {method} {path} failed: {e}"))
    }

    pub fn goto(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({ "url": url })));
    }

    pub fn url(&self) -> String {
        self.cmd("GET", "/url", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub fn js(&self, script: &str) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
    }

    /// The page's visible text.
    pub fn text(&self) -> String {
        self.js("return document.body.innerText")
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The browser console's messages since the last call (CSP violations among them).
    pub fn console(&self) -> Vec<String> {
        self.try_cmd("POST", "/se/log", Some(json!({ "type": "browser" })))
            .ok()
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .map(|e| {
                format!(
                    "{} {}",
                    e["level"].as_str().unwrap_or_default(),
                    e["message"].as_str().unwrap_or_default()
                )
            })
            .collect()
    }

    /// Wait until the URL satisfies `f`.
    pub fn wait_url(&self, what: &str, f: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let u = self.url();
            if f(&u) {
                return u;
            }
            assert!(
                Instant::now() < deadline,
                "waiting for {what}; at {u}: {}\nconsole: {:#?}",
                self.text(),
                self.console()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Wait until `script` (an expression) is true in the page.
    pub fn wait_js(&self, what: &str, expression: &str) {
        let deadline = Instant::now() + WAIT;
        let script = format!("return !!({expression})");
        loop {
            // A navigation in flight can make a script fail; that is "not yet".
            if self.try_cmd(
                "POST",
                "/execute/sync",
                Some(json!({ "script": script, "args": [] })),
            ) == Ok(json!(true))
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "waiting for {what}; at {}: {}\nconsole: {:#?}",
                self.url(),
                self.text(),
                self.console()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The WebDriver element id of the first match of a CSS selector.
    pub fn find(&self, css: &str) -> String {
        let v = self.cmd(
            "POST",
            "/element",
            Some(json!({ "using": "css selector", "value": css })),
        );
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_string()
    }

    /// A real click (WebDriver element click: scrolled into view, a user gesture).
    pub fn click(&self, css: &str) {
        let id = self.find(css);
        self.cmd("POST", &format!("/element/{id}/click"), None);
    }

    /// Clear a field and type `text` into it, key by key.
    pub fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.cmd("POST", &format!("/element/{id}/clear"), None);
        self.cmd(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        );
    }

    /// Resize the window (the viewport of a headless browser).
    pub fn window(&self, width: u32, height: u32) {
        self.cmd(
            "POST",
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        );
    }

    /// A PNG of the viewport into `$WARD_SCREENSHOTS/<name>.png`, when that
    /// variable names a directory; nothing otherwise.
    pub fn screenshot(&self, name: &str) {
        let Some(dir) = std::env::var_os("WARD_SCREENSHOTS").filter(|d| !d.is_empty()) else {
            return;
        };
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        // Let focus rings and fonts settle, and no caret blink decide the picture.
        std::thread::sleep(Duration::from_millis(200));
        let png = self.cmd("GET", "/screenshot", None);
        let bytes = STANDARD
            .decode(png.as_str().expect("base64 PNG"))
            .expect("screenshot is base64");
        std::fs::write(dir.join(format!("{name}.png")), bytes).unwrap();
    }

    /// From now on, note every `navigator.credentials.get` and `.create` of the
    /// pages, with its `mediation` and how it ended, in the page origin's
    /// sessionStorage (see [`Self::webauthn_calls`]). The hook is installed
    /// through the DevTools protocol before any script of a page runs; the
    /// page's Content Security Policy does not apply to it. It only observes:
    /// the page's call goes through unchanged.
    pub fn record_webauthn_calls(&self) {
        self.cmd(
            "POST",
            "/goog/cdp/execute",
            Some(json!({
                "cmd": "Page.addScriptToEvaluateOnNewDocument",
                "params": { "source": RECORDER },
            })),
        );
    }

    /// The WebAuthn calls recorded in the current origin's tab storage, oldest first:
    /// `{"call": "get"|"create", "page": path, "mediation": "conditional"|null,
    /// "outcome": "pending"|"resolved"|"rejected: <name>"}`.
    pub fn webauthn_calls(&self) -> Vec<Value> {
        let v = self.js("return sessionStorage.getItem('ward-test-webauthn') || '[]'");
        serde_json::from_str(v.as_str().unwrap_or("[]")).unwrap()
    }

    /// Forget the recorded WebAuthn calls of the current origin.
    pub fn clear_webauthn_calls(&self) {
        self.js("sessionStorage.removeItem('ward-test-webauthn')");
    }

    /// A virtual CTAP2 platform authenticator (WebDriver WebAuthn extension)
    /// holding discoverable credentials, with user verification that succeeds.
    /// `synced`: its new credentials are backup eligible and backed up (BE=1,
    /// BS=1, a synced passkey); otherwise device-bound (BE=0, Chromium's default).
    pub fn add_virtual_authenticator(&self, synced: bool) -> Authenticator<'_> {
        let id = self.cmd(
            "POST",
            "/webauthn/authenticator",
            Some(json!({
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": true,
                "hasUserVerification": true,
                "isUserVerified": true,
                "isUserConsenting": true,
                "defaultBackupEligibility": synced,
                "defaultBackupState": synced,
            })),
        );
        Authenticator {
            driver: self,
            id: id.as_str().expect("authenticator id").to_string(),
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

/// The observer of [`Driver::record_webauthn_calls`].
const RECORDER: &str = r#"(function () {
  if (!window.navigator.credentials) { return; }
  var KEY = "ward-test-webauthn";
  function load() { return JSON.parse(sessionStorage.getItem(KEY) || "[]"); }
  ["get", "create"].forEach(function (name) {
    var original = navigator.credentials[name].bind(navigator.credentials);
    navigator.credentials[name] = function (options) {
      var all = load(), i = all.length;
      all.push({ call: name, page: location.pathname, mediation: (options && options.mediation) || null, outcome: "pending" });
      sessionStorage.setItem(KEY, JSON.stringify(all));
      function settle(outcome) {
        var now = load();
        if (now[i]) { now[i].outcome = outcome; sessionStorage.setItem(KEY, JSON.stringify(now)); }
      }
      return original(options).then(
        function (c) { settle("resolved"); return c; },
        function (e) { settle("rejected: " + e.name); throw e; });
    };
  });
})();"#;

/// A virtual authenticator in the browser.
pub struct Authenticator<'a> {
    driver: &'a Driver,
    pub id: String,
}

impl Authenticator<'_> {
    /// The credentials it holds (WebDriver "Credential Parameters": credentialId,
    /// isResidentCredential, rpId, privateKey, userHandle, signCount).
    pub fn credentials(&self) -> Vec<Value> {
        self.driver
            .cmd(
                "GET",
                &format!("/webauthn/authenticator/{}/credentials", self.id),
                None,
            )
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Forget every credential; returns them, to [`Self::restore`] later.
    pub fn take_credentials(&self) -> Vec<Value> {
        let all = self.credentials();
        self.driver.cmd(
            "DELETE",
            &format!("/webauthn/authenticator/{}/credentials", self.id),
            None,
        );
        all
    }

    /// Put credentials back (as [`Self::take_credentials`] returned them).
    pub fn restore(&self, credentials: &[Value]) {
        for c in credentials {
            self.driver.cmd(
                "POST",
                &format!("/webauthn/authenticator/{}/credential", self.id),
                Some(c.clone()),
            );
        }
    }

    /// Remove the authenticator from the browser.
    pub fn remove(self) {
        self.driver.cmd(
            "DELETE",
            &format!("/webauthn/authenticator/{}", self.id),
            None,
        );
    }
}

/// The relying party's redirect endpoint: a loopback listener that answers 200
/// and remembers the request lines it received.
pub struct Callback {
    pub url: String,
    pub seen: Arc<Mutex<Vec<String>>>,
}

impl Callback {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://127.0.0.1:{}/cb",
            listener.local_addr().unwrap().port()
        );
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut line = String::new();
                let mut reader = BufReader::new(&stream);
                if reader.read_line(&mut line).is_ok() {
                    log.lock().unwrap().push(line.trim().to_string());
                }
                let mut stream = stream;
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 9\r\nConnection: close\r\n\r\nsigned in");
            }
        });
        Self { url, seen }
    }

    /// Whether the endpoint received a request whose line starts with `prefix`.
    pub fn received(&self, prefix: &str) -> bool {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.starts_with(prefix))
    }
}

/// The world of a browser test: headless Chromium, the relying party's
/// redirect endpoint, and Ward (a [`TestApp`] whose issuer is
/// `http://localhost:<port>`) with the confidential client `rp` ("Clinic
/// Portal") redirecting to that endpoint.
pub struct BrowserWorld {
    pub browser: Driver,
    pub callback: Callback,
    pub app: TestApp,
}

impl BrowserWorld {
    /// The browser first, then Ward as `builder` sets it up plus `rp`; None
    /// (after a note) when the browser is not installed.
    pub fn start(builder: TestAppBuilder) -> Option<Self> {
        Self::start_with(builder, &[])
    }

    /// The same, with `more` arguments to `ward client add` for `rp`.
    pub fn start_with(builder: TestAppBuilder, more: &[&str]) -> Option<Self> {
        let browser = Driver::start()?;
        let callback = Callback::start();
        let mut args = vec!["--name", "Clinic Portal"];
        args.extend_from_slice(more);
        let app = builder
            .confidential("rp", &callback.url, &args)
            .on_localhost()
            .start();
        Some(Self {
            browser,
            callback,
            app,
        })
    }

    /// The URL of one of Ward's pages, at the issuer's address.
    pub fn page(&self, path: &str) -> String {
        format!("{}{path}", self.app.issuer)
    }

    /// An authorize URL for `rp` with PKCE, redirecting to the endpoint, at
    /// the issuer's address; `extra` adds or replaces parameters.
    pub fn authorize_url(&self, p: &Pkce, extra: &[(&str, &str)]) -> String {
        let mut all = vec![("redirect_uri", self.callback.url.as_str())];
        all.extend_from_slice(extra);
        self.app
            .authorize_url("rp", p, &all)
            .replacen(&self.app.server.base, &self.app.issuer, 1)
    }

    /// Redeem a code the endpoint received: the token response (200 required).
    pub fn redeem(&self, code: &str, p: &Pkce) -> Value {
        let res = self
            .app
            .exchange_at("rp", &self.callback.url, code, &p.verifier);
        assert_eq!(res.status, 200, "{}", res.body);
        res.json()
    }
}
