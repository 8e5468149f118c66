//! The cache and its refetch rule, with a fake fetcher and explicit times.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;

use super::*;

const URI: &str = "https://backend.example/jwks";

/// Serves the set with the kids it is given, counting fetches; fails while
/// `down` is set.
#[derive(Default)]
struct Fake {
    kids: Mutex<Vec<&'static str>>,
    down: Mutex<bool>,
    calls: AtomicUsize,
    asked: Mutex<Vec<String>>,
}

impl Fetch for Arc<Fake> {
    fn fetch(&self, uri: &str) -> Result<Value, FetchError> {
        self.asked.lock().unwrap().push(uri.to_string());
        self.calls.fetch_add(1, Ordering::SeqCst);
        if *self.down.lock().unwrap() {
            return Err(FetchError::Timeout);
        }
        let keys: Vec<Value> = self
            .kids
            .lock()
            .unwrap()
            .iter()
            .map(|k| json!({ "kid": k }))
            .collect();
        Ok(json!({ "keys": keys }))
    }
}

fn setup(kids: &[&'static str]) -> (ClientKeys, Arc<Fake>) {
    let fake = Arc::new(Fake::default());
    *fake.kids.lock().unwrap() = kids.to_vec();
    (ClientKeys::new(Box::new(fake.clone())), fake)
}

fn kids(set: &Value) -> Vec<String> {
    set["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

fn calls(f: &Fake) -> usize {
    f.calls.load(Ordering::SeqCst)
}

#[test]
fn a_key_set_is_fetched_once_and_used_until_its_time_is_up() {
    let (cache, fake) = setup(&["k1"]);
    let t = 1_000_000;
    assert_eq!(
        kids(&cache.keys("svc", URI, Some("k1"), t).unwrap()),
        ["k1"]
    );
    assert_eq!(kids(&cache.keys("svc", URI, None, t + 1).unwrap()), ["k1"]);
    cache.keys("svc", URI, Some("k1"), t + TTL_MS - 1).unwrap();
    assert_eq!(calls(&fake), 1);
    // Stale: asked again.
    cache.keys("svc", URI, Some("k1"), t + TTL_MS).unwrap();
    assert_eq!(calls(&fake), 2);
    // Each client has its own entry.
    cache.keys("other", URI, Some("k1"), t + TTL_MS).unwrap();
    assert_eq!(calls(&fake), 3);
}

#[test]
fn an_unknown_kid_refetches_once_per_interval() {
    let (cache, fake) = setup(&["k1"]);
    let t = 1_000_000;
    cache.keys("svc", URI, Some("k1"), t).unwrap();
    // The client rotates to k2 at once: too soon to ask again, so the cached
    // set is the answer (and k2's assertion will not verify).
    *fake.kids.lock().unwrap() = vec!["k1", "k2"];
    let set = cache.keys("svc", URI, Some("k2"), t + 1).unwrap();
    assert_eq!(kids(&set), ["k1"]);
    assert_eq!(calls(&fake), 1);
    // After the interval, the unknown kid brings the new set.
    let set = cache
        .keys("svc", URI, Some("k2"), t + MIN_REFETCH_MS)
        .unwrap();
    assert_eq!(kids(&set), ["k1", "k2"]);
    assert_eq!(calls(&fake), 2);
    // Made-up kids, many of them: at most one fetch per interval.
    for i in 0..100 {
        let _ = cache.keys("svc", URI, Some("forged"), t + MIN_REFETCH_MS + 1 + i);
    }
    assert_eq!(calls(&fake), 2);
    cache
        .keys("svc", URI, Some("forged"), t + 2 * MIN_REFETCH_MS)
        .unwrap();
    assert_eq!(calls(&fake), 3);
}

#[test]
fn a_failed_fetch_is_not_retried_before_the_interval() {
    let (cache, fake) = setup(&["k1"]);
    *fake.down.lock().unwrap() = true;
    let t = 1_000_000;
    assert_eq!(
        cache.keys("svc", URI, Some("k1"), t),
        Err(KeysError::Fetch(FetchError::Timeout))
    );
    for i in 1..50 {
        assert_eq!(
            cache.keys("svc", URI, Some("k1"), t + i),
            Err(KeysError::RateLimited)
        );
    }
    assert_eq!(calls(&fake), 1);
    *fake.down.lock().unwrap() = false;
    cache
        .keys("svc", URI, Some("k1"), t + MIN_REFETCH_MS)
        .unwrap();
    assert_eq!(calls(&fake), 2);
    // A failure after the set went stale leaves nothing to verify with.
    *fake.down.lock().unwrap() = true;
    let later = t + MIN_REFETCH_MS + TTL_MS;
    assert!(cache.keys("svc", URI, Some("k1"), later).is_err());
    assert_eq!(
        cache.keys("svc", URI, Some("k1"), later + 1),
        Err(KeysError::RateLimited)
    );
}

#[test]
fn a_new_uri_for_the_client_starts_afresh() {
    let (cache, fake) = setup(&["k1"]);
    let t = 1_000_000;
    cache.keys("svc", URI, Some("k1"), t).unwrap();
    // The client was removed and registered again with another URI: its
    // old set is not used, and the new URI is asked at once.
    let elsewhere = "https://elsewhere.example/jwks";
    cache.keys("svc", elsewhere, Some("k1"), t + 1).unwrap();
    assert_eq!(*fake.asked.lock().unwrap(), [URI, elsewhere]);
}
