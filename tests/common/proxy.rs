//! A round-robin TCP proxy on loopback, standing in for the load balancer in
//! front of several Ward nodes (tests/two_nodes.rs). Each accepted connection
//! goes to the next live backend; a backend that refuses a connection is
//! dropped from the rotation (as a load balancer's failed health check would)
//! and the connection is retried on the next one, so a client never sees a
//! dead node once the proxy has dropped it.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Backends {
    addrs: Vec<SocketAddr>,
    /// When each backend was dropped from the rotation, if it was.
    dropped: Vec<Option<Instant>>,
    /// Connections handed to each backend.
    served: Vec<u64>,
    next: usize,
}

pub struct Proxy {
    pub port: u16,
    state: Arc<Mutex<Backends>>,
}

impl Proxy {
    pub fn start(backends: &[u16]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let n = backends.len();
        let state = Arc::new(Mutex::new(Backends {
            addrs: backends
                .iter()
                .map(|p| SocketAddr::from(([127, 0, 0, 1], *p)))
                .collect(),
            dropped: vec![None; n],
            served: vec![0; n],
            next: 0,
        }));
        let shared = state.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let state = shared.clone();
                std::thread::spawn(move || {
                    if let Some(upstream) = connect(&state) {
                        pipe(client, upstream);
                    }
                });
            }
        });
        Self { port, state }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// When backend `i` was dropped from the rotation.
    pub fn dropped_at(&self, i: usize) -> Option<Instant> {
        self.state.lock().unwrap().dropped[i]
    }

    /// Connections handed to each backend so far.
    pub fn served(&self) -> Vec<u64> {
        self.state.lock().unwrap().served.clone()
    }
}

/// A connection to the next live backend; a refusing backend is dropped.
fn connect(state: &Mutex<Backends>) -> Option<TcpStream> {
    loop {
        let (i, addr) = {
            let mut s = state.lock().unwrap();
            let n = s.addrs.len();
            let i = (0..n)
                .map(|k| (s.next + k) % n)
                .find(|&i| s.dropped[i].is_none())?;
            s.next = (i + 1) % n;
            (i, s.addrs[i])
        };
        match TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
            Ok(stream) => {
                state.lock().unwrap().served[i] += 1;
                return Some(stream);
            }
            Err(_) => {
                let mut s = state.lock().unwrap();
                s.dropped[i].get_or_insert_with(Instant::now);
            }
        }
    }
}

fn pipe(client: TcpStream, upstream: TcpStream) {
    let (mut c_read, mut u_write) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
    let forward = std::thread::spawn(move || {
        copy(&mut c_read, &mut u_write);
        let _ = u_write.shutdown(Shutdown::Write);
    });
    let (mut u_read, mut c_write) = (upstream, client);
    copy(&mut u_read, &mut c_write);
    let _ = c_write.shutdown(Shutdown::Both);
    let _ = forward.join();
}

fn copy(from: &mut TcpStream, to: &mut TcpStream) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    return;
                }
            }
        }
    }
}
