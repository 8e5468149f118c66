//! Fetching a client's key set over HTTP(S), with the server-side request
//! forgery guards of `super::address`: one `GET`, no proxy, no redirect (a
//! 3xx is an error, not followed), at most [`MAX_BYTES`] of body, and
//! [`TIMEOUT`] for the whole exchange, name resolution included. The
//! resolver checks every address a name resolves to and hands exactly those
//! to the connector, so the address checked is the address connected to.
//!
//! [`get_text`] is that one guarded `GET`, for every URL a client registers
//! that Ward fetches: the `jwks_uri` (here) and the `sector_identifier_uri`
//! of a pairwise client (`manage::clients`, OIDC Core §8.1).

use std::io;
use std::time::Duration;

use serde_json::Value;
use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use super::address;

/// The largest answer Ward reads (a set of 20 RSA keys is about 10 KiB; a
/// sector document of a few hundred redirect URIs fits too).
pub const MAX_BYTES: u64 = 64 * 1024;
/// The longest a fetch may take, from name resolution to the last byte.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// Why a key set could not be had. Never holds the URL's path or query, nor
/// anything the server answered: these reach the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("the URL is refused: it {0}")]
    Refused(&'static str),
    #[error("the host resolves to an address Ward may not connect to")]
    Address,
    #[error("no answer within the time limit")]
    Timeout,
    #[error("the answer was HTTP {0}; only 200 is taken, and redirects are not followed")]
    Status(u16),
    #[error("the answer is larger than the limit")]
    TooLarge,
    #[error("connecting or reading failed: {0}")]
    Transport(String),
    #[error("the answer is not usable: it {0}")]
    Invalid(&'static str),
}

/// Something that fetches a key set from a URL: HTTP in the server,
/// a fake in unit tests.
pub trait Fetch: Send + Sync {
    fn fetch(&self, uri: &str) -> Result<Value, FetchError>;
}

/// The real fetcher.
#[derive(Debug, Clone, Copy)]
pub struct HttpFetcher {
    /// `clients.allow_insecure_fetch` (or its older name
    /// `allow_insecure_jwks_uri`): http, loopback and private addresses.
    pub allow_insecure: bool,
}

impl Fetch for HttpFetcher {
    fn fetch(&self, uri: &str) -> Result<Value, FetchError> {
        let text = get_text(
            uri,
            self.allow_insecure,
            "application/jwk-set+json, application/json",
        )?;
        crate::crypto::verify::public_key_set(&text).map_err(FetchError::Invalid)
    }
}

/// One guarded `GET` of `uri` (see the module's comment) accepting `accept`:
/// the body of a 200 answer as UTF-8 text, at most 64 KiB. `allow_insecure`:
/// the development switch (`clients.allow_insecure_fetch`): http, loopback
/// and private addresses. Every URL fetched for a client (its key set, a
/// sector document) comes through here.
pub fn get_text(uri: &str, allow_insecure: bool, accept: &str) -> Result<String, FetchError> {
    let body = get(uri, &[("Accept", accept)], MAX_BYTES, allow_insecure)?;
    String::from_utf8(body).map_err(|_| FetchError::Invalid("is not UTF-8"))
}

/// One `GET` of `uri` with `headers`, under the guards above: the address
/// checks (relaxed by `allow_insecure`: http, loopback and private
/// addresses), no proxy, no redirect, [`TIMEOUT`] for the whole exchange and
/// at most `max_bytes` of body; only a `200` counts. Shared by the key-set
/// fetch and the SMART patient picker's FHIR searches (`oidc::smart_picker`),
/// whose base URLs an administrator registered (so they pass
/// `allow_insecure`: the registry already allows http only on loopback).
pub fn get(
    uri: &str,
    headers: &[(&str, &str)],
    max_bytes: u64,
    allow_insecure: bool,
) -> Result<Vec<u8>, FetchError> {
    let url = address::check_uri(uri, allow_insecure).map_err(FetchError::Refused)?;
    let config = ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .https_only(!allow_insecure)
        .max_redirects(0)
        .http_status_as_error(false)
        // A proxy would resolve and connect on its own, past the checks.
        .proxy(None)
        .build();
    let resolver = CheckedResolver { allow_insecure };
    let agent = ureq::Agent::with_parts(config, DefaultConnector::new(), resolver);
    let mut request = agent.get(url.as_str());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut res = request.call().map_err(from_ureq)?;
    if res.status().as_u16() != 200 {
        return Err(FetchError::Status(res.status().as_u16()));
    }
    res.body_mut()
        .with_config()
        .limit(max_bytes)
        .read_to_vec()
        .map_err(from_ureq)
}

/// A refused address, as it travels through ureq.
const ADDRESS_REFUSED: &str = "ward: address refused";

fn from_ureq(e: ureq::Error) -> FetchError {
    match e {
        ureq::Error::Timeout(_) => FetchError::Timeout,
        ureq::Error::BodyExceedsLimit(_) => FetchError::TooLarge,
        ureq::Error::Io(io) if io.to_string().contains(ADDRESS_REFUSED) => FetchError::Address,
        ureq::Error::Io(io) if io.kind() == io::ErrorKind::TimedOut => FetchError::Timeout,
        other => FetchError::Transport(other.to_string().chars().take(200).collect()),
    }
}

/// The system resolver, then the address check: every address must pass, or
/// none is used (a name that mixes public and private addresses is refused).
#[derive(Debug)]
struct CheckedResolver {
    allow_insecure: bool,
}

impl Resolver for CheckedResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let addrs = DefaultResolver::default().resolve(uri, config, timeout)?;
        if addrs
            .iter()
            .any(|a| !address::may_connect(a.ip(), self.allow_insecure))
        {
            return Err(ureq::Error::Io(io::Error::new(
                io::ErrorKind::PermissionDenied,
                ADDRESS_REFUSED,
            )));
        }
        Ok(addrs)
    }
}
