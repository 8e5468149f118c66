//! An example FHIR resource server protected by Ward: the downstream side of
//! a SMART on FHIR deployment, small enough to read in one sitting and copy.
//! It checks Ward's access tokens itself (`token`), enforces the SMART scopes
//! and the patient compartment on every request (`scopes`, `server`), and
//! serves a handful of synthetic resources from a JSON file (`store`).
//! See docs/smart.md, "How to protect your FHIR API with Ward".

pub mod scopes;
pub mod server;
pub mod store;
pub mod token;

use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::{App, HttpServer, web};
use serde_json::Value;

/// How to run the gateway.
#[derive(Debug, Clone)]
pub struct Config {
    /// This server's FHIR base URL, exactly as registered in Ward
    /// (`ward fhir add`): access tokens must carry it as `aud`.
    pub base_url: String,
    /// Ward's issuer; its keys are at `{issuer}/jwks` unless `jwks_uri` says otherwise.
    pub issuer: String,
    pub jwks_uri: Option<String>,
    /// The synthetic resources to serve.
    pub resources: Vec<Value>,
    pub listen: SocketAddr,
}

/// Why the gateway cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the base URL must be http(s)://host[:port]/path: {0}")]
    BaseUrl(String),
    #[error("cannot listen: {0}")]
    Listen(#[from] std::io::Error),
}

/// A gateway serving in the background (for tests and embedding); stops
/// when dropped.
pub struct Running {
    pub addr: SocketAddr,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let stop = self.handle.stop(false);
        // The server runs on its own thread's runtime; wait for it there.
        if let Some(t) = self.thread.take() {
            drop(stop);
            let _ = t.join();
        }
    }
}

/// The path part of the base URL, where the FHIR routes are mounted.
fn base_path(base_url: &str) -> Result<String, StartError> {
    let rest = base_url
        .strip_prefix("https://")
        .or_else(|| base_url.strip_prefix("http://"))
        .ok_or_else(|| StartError::BaseUrl(base_url.to_owned()))?;
    let path = rest.find('/').map(|i| &rest[i..]).unwrap_or("");
    Ok(path.trim_end_matches('/').to_owned())
}

fn server(config: Config) -> Result<actix_web::dev::Server, StartError> {
    let path = base_path(&config.base_url)?;
    let jwks = config
        .jwks_uri
        .clone()
        .unwrap_or_else(|| format!("{}/jwks", config.issuer.trim_end_matches('/')));
    let gateway = Arc::new(server::Gateway {
        keys: token::Keys::new(jwks, config.issuer.clone(), config.base_url.clone()),
        store: store::Store::new(config.resources),
    });
    let server = HttpServer::new(move || {
        let g = gateway.clone();
        App::new().service(web::scope(&path).configure(move |cfg| server::routes(cfg, g)))
    })
    .workers(1)
    .bind(config.listen)?
    .run();
    Ok(server)
}

/// Serve until the process is stopped.
pub async fn run(config: Config) -> Result<(), StartError> {
    server(config)?.await.map_err(StartError::Listen)
}

/// Serve on a background thread; the returned value stops the server when dropped.
pub fn spawn(config: Config) -> Result<Running, StartError> {
    let addr = config.listen;
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            match server(config) {
                Ok(s) => {
                    let _ = tx.send(Ok(s.handle()));
                    let _ = s.await;
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            }
        })
    });
    let handle = rx
        .recv()
        .map_err(|_| StartError::Listen(std::io::Error::other("the server thread ended")))??;
    Ok(Running {
        addr,
        handle,
        thread: Some(thread),
    })
}
