//! A real SMTP server for tests: 127.0.0.1, a free port, plain std threads, no TLS.
//! It accepts every message and keeps it in memory.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;

/// One message as the server received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The envelope sender (MAIL FROM), without the angle brackets.
    pub from: String,
    /// The envelope recipients (RCPT TO), without the angle brackets.
    pub to: Vec<String>,
    /// The message (headers and body), dot-unstuffed, with CRLF line ends.
    pub data: String,
    /// The user name of a successful AUTH PLAIN / AUTH LOGIN, if any.
    pub auth_user: Option<String>,
}

#[derive(Default)]
struct Shared {
    messages: Mutex<Vec<Received>>,
    arrived: Condvar,
}

pub struct SmtpListener {
    port: u16,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
}

impl SmtpListener {
    pub fn start() -> SmtpListener {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the test SMTP listener");
        let port = listener.local_addr().expect("local addr").port();
        let shared = Arc::new(Shared::default());
        let stop = Arc::new(AtomicBool::new(false));
        {
            let shared = shared.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let shared = shared.clone();
                    std::thread::spawn(move || {
                        let _ = session(stream, &shared);
                    });
                }
            });
        }
        SmtpListener { port, shared, stop }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every message received so far, oldest first.
    pub fn messages(&self) -> Vec<Received> {
        self.shared.messages.lock().unwrap().clone()
    }

    /// The first message to `to` (an envelope recipient), waiting up to `timeout`.
    pub fn wait_for(&self, to: &str, timeout: Duration) -> Option<Received> {
        let deadline = Instant::now() + timeout;
        let mut messages = self.shared.messages.lock().unwrap();
        loop {
            if let Some(m) = messages
                .iter()
                .find(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(to)))
            {
                return Some(m.clone());
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            messages = self.shared.arrived.wait_timeout(messages, left).unwrap().0;
        }
    }

    /// The variables that make a `ward` process of `env` send mail here.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("WARD_MAIL_TRANSPORT", "smtp".into()),
            ("WARD_MAIL_SMTP_HOST", "127.0.0.1".into()),
            ("WARD_MAIL_SMTP_PORT", self.port.to_string()),
            ("WARD_MAIL_SMTP_TLS", "none".into()),
        ]
    }

    /// Point every later `ward` process of `env` at this listener.
    pub fn configure(&self, env: &mut super::TestEnv) {
        for (k, v) in self.env() {
            env.set_env(k, &v);
        }
    }
}

impl Drop for SmtpListener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn session(stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut out = stream.try_clone()?;
    let mut input = BufReader::new(stream);
    let mut reply = |line: &str| -> std::io::Result<()> {
        out.write_all(line.as_bytes())?;
        out.write_all(b"\r\n")?;
        out.flush()
    };
    reply("220 ward-test-smtp ESMTP ready")?;

    let mut from: Option<String> = None;
    let mut to: Vec<String> = Vec::new();
    let mut auth_user: Option<String> = None;
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let command = line.trim_end_matches(['\r', '\n']);
        let upper = command.to_ascii_uppercase();
        let verb = upper.split_whitespace().next().unwrap_or("");
        match verb {
            "EHLO" => {
                reply("250-ward-test-smtp")?;
                reply("250-8BITMIME")?;
                reply("250-SMTPUTF8")?;
                reply("250 AUTH PLAIN LOGIN")?;
            }
            "HELO" => reply("250 ward-test-smtp")?,
            "AUTH" => {
                let args: Vec<&str> = command.split_whitespace().skip(1).collect();
                let mechanism = args.first().map(|m| m.to_ascii_uppercase());
                match mechanism.as_deref() {
                    Some("PLAIN") => {
                        let payload = match args.get(1) {
                            Some(p) => p.to_string(),
                            None => {
                                reply("334 ")?;
                                read_line(&mut input)?
                            }
                        };
                        // authzid NUL authcid NUL password
                        let decoded = decode_b64(&payload);
                        let user = decoded.split('\0').nth(1).unwrap_or_default().to_string();
                        auth_user = Some(user);
                        reply("235 2.7.0 Authentication successful")?;
                    }
                    Some("LOGIN") => {
                        let user = match args.get(1) {
                            Some(u) => decode_b64(u),
                            None => {
                                reply("334 VXNlcm5hbWU6")?;
                                decode_b64(&read_line(&mut input)?)
                            }
                        };
                        reply("334 UGFzc3dvcmQ6")?;
                        let _password = read_line(&mut input)?;
                        auth_user = Some(user);
                        reply("235 2.7.0 Authentication successful")?;
                    }
                    _ => reply("504 5.5.4 Unrecognized authentication type")?,
                }
            }
            "MAIL" => {
                from = Some(angle_address(command));
                to.clear();
                reply("250 2.1.0 OK")?;
            }
            "RCPT" => {
                if from.is_none() {
                    reply("503 5.5.1 MAIL first")?;
                } else {
                    to.push(angle_address(command));
                    reply("250 2.1.5 OK")?;
                }
            }
            "DATA" => {
                if from.is_none() || to.is_empty() {
                    reply("503 5.5.1 MAIL and RCPT first")?;
                    continue;
                }
                reply("354 End data with <CR><LF>.<CR><LF>")?;
                let mut data = String::new();
                loop {
                    let mut l = String::new();
                    if input.read_line(&mut l)? == 0 {
                        return Ok(());
                    }
                    let content = l.trim_end_matches(['\r', '\n']);
                    if content == "." {
                        break;
                    }
                    // RFC 5321 §4.5.2: a leading dot was doubled by the client.
                    let content = content.strip_prefix('.').unwrap_or(content);
                    data.push_str(content);
                    data.push_str("\r\n");
                }
                let received = Received {
                    from: from.take().unwrap_or_default(),
                    to: std::mem::take(&mut to),
                    data,
                    auth_user: auth_user.clone(),
                };
                shared.messages.lock().unwrap().push(received);
                shared.arrived.notify_all();
                reply("250 2.0.0 OK queued")?;
            }
            "RSET" => {
                from = None;
                to.clear();
                reply("250 2.0.0 OK")?;
            }
            "NOOP" => reply("250 2.0.0 OK")?,
            "QUIT" => {
                reply("221 2.0.0 Bye")?;
                return Ok(());
            }
            _ => reply("502 5.5.2 Command not implemented")?,
        }
    }
}

fn read_line(input: &mut impl BufRead) -> std::io::Result<String> {
    let mut l = String::new();
    input.read_line(&mut l)?;
    Ok(l.trim_end_matches(['\r', '\n']).to_string())
}

/// `MAIL FROM:<a@b> SIZE=1` -> `a@b`.
fn angle_address(command: &str) -> String {
    match (command.find('<'), command.find('>')) {
        (Some(start), Some(end)) if end > start => command[start + 1..end].to_string(),
        _ => command
            .split_once(':')
            .map(|(_, rest)| rest.split_whitespace().next().unwrap_or("").to_string())
            .unwrap_or_default(),
    }
}

fn decode_b64(s: &str) -> String {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A MIME entity: its headers (unfolded) and its raw body.
struct Entity<'a> {
    headers: Vec<(String, String)>,
    body: &'a str,
}

fn parse_entity(raw: &str) -> Entity<'_> {
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .or_else(|| raw.split_once("\n\n"))
        .unwrap_or((raw, ""));
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = headers.last_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
        } else if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    Entity { headers, body }
}

impl Entity<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn content_type(&self) -> String {
        self.header("Content-Type")
            .unwrap_or("text/plain")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    }

    fn boundary(&self) -> Option<String> {
        let ct = self.header("Content-Type")?;
        ct.split(';').map(str::trim).find_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("boundary")
                .then(|| v.trim().trim_matches('"').to_string())
        })
    }

    /// The first part (depth-first) with this content type, decoded.
    fn find(&self, content_type: &str) -> Option<String> {
        if let Some(boundary) = self.boundary() {
            let delimiter = format!("--{boundary}");
            for part in self.body.split(&delimiter).skip(1) {
                if part.starts_with("--") {
                    break;
                }
                let part = part.strip_prefix("\r\n").unwrap_or(part);
                if let Some(found) = parse_entity(part).find(content_type) {
                    return Some(found);
                }
            }
            return None;
        }
        (self.content_type() == content_type).then(|| self.decoded_body())
    }

    fn decoded_body(&self) -> String {
        let encoding = self
            .header("Content-Transfer-Encoding")
            .unwrap_or("7bit")
            .to_ascii_lowercase();
        match encoding.as_str() {
            "base64" => {
                let compact: String = self.body.split_whitespace().collect();
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .expect("valid base64 body");
                String::from_utf8(bytes).expect("UTF-8 body")
            }
            "quoted-printable" => decode_quoted_printable(self.body),
            _ => self.body.to_string(),
        }
        .replace("\r\n", "\n")
    }
}

/// RFC 2045 §6.7: `=XX` is a byte, `=` at the end of a line joins it to the next.
fn decode_quoted_printable(body: &str) -> String {
    let mut bytes = Vec::with_capacity(body.len());
    let raw = body.as_bytes();
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'=' if raw[i + 1..].starts_with(b"\r\n") => i += 3,
            b'=' if raw[i + 1..].starts_with(b"\n") => i += 2,
            b'=' if i + 2 < raw.len() => {
                let hex = std::str::from_utf8(&raw[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        bytes.push(b);
                        i += 3;
                    }
                    Err(_) => {
                        bytes.push(b'=');
                        i += 1;
                    }
                }
            }
            b => {
                bytes.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(bytes).expect("UTF-8 body")
}

impl Received {
    /// A top-level header of the message (unfolded; RFC 2047 words left as they are).
    pub fn header(&self, name: &str) -> Option<String> {
        parse_entity(&self.data).header(name).map(str::to_string)
    }

    /// The text/plain part, decoded (7bit, quoted-printable or base64), with `\n` line ends.
    pub fn text_body(&self) -> Option<String> {
        parse_entity(&self.data).find("text/plain")
    }

    /// The text/html part, decoded.
    pub fn html_body(&self) -> Option<String> {
        parse_entity(&self.data).find("text/html")
    }

    /// The top-level content type without parameters, e.g. `multipart/alternative`.
    pub fn content_type(&self) -> String {
        parse_entity(&self.data).content_type()
    }
}
