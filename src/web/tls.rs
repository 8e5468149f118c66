//! Optional built-in TLS with rustls (ring provider; no OpenSSL).

use std::fs::File;
use std::io::BufReader;
use std::sync::Arc;

use crate::config::TlsFiles;

pub fn server_config(files: &TlsFiles) -> Result<rustls::ServerConfig, String> {
    let open = |p: &std::path::Path| {
        File::open(p)
            .map(BufReader::new)
            .map_err(|e| format!("cannot read {}: {e}", p.display()))
    };
    let certs = rustls_pemfile::certs(&mut open(&files.cert)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: not a PEM certificate chain: {e}", files.cert.display()))?;
    if certs.is_empty() {
        return Err(format!("{} holds no certificate", files.cert.display()));
    }
    let key = rustls_pemfile::private_key(&mut open(&files.key)?)
        .map_err(|e| format!("{}: {e}", files.key.display()))?
        .ok_or_else(|| format!("{} holds no private key", files.key.display()))?;
    rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("certificate and key do not form a usable pair: {e}"))
}
