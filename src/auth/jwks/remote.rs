//! The identity provider's keys from its JWKS URL, held in memory.
//!
//! - [`RemoteKeys::start`] fetches them once at start-up. The service starts
//!   even when that fails (the provider may be down for a moment): RS256
//!   tokens are refused, and `/readyz` says not ready, until a fetch succeeds.
//! - In the background they are fetched again when the provider's
//!   `Cache-Control: max-age` runs out, clamped to [`MIN_FRESH`]–[`MAX_FRESH`]
//!   ([`DEFAULT_FRESH`] without one). A failed fetch keeps the keys held and
//!   is retried after a second, then after twice as long each time, up to
//!   [`RELOAD_INTERVAL`].
//! - A token naming a key id the set does not hold means the provider may
//!   have rotated its keys: the set is fetched at once, but at most once
//!   every [`RELOAD_INTERVAL`], so tokens with made-up key ids cannot make us
//!   hammer the provider. Requests arriving while a fetch runs wait for it
//!   (up to [`WAIT_TIMEOUT`]) rather than fetch again or fail.

use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, Instant};

use jsonwebtoken::DecodingKey;
use tokio::sync::Mutex;

use super::fetch::{JwksUrl, REQUEST_TIMEOUT};
use super::{Keys, RELOAD_INTERVAL};

/// The shortest and longest time keys are held before fetching them again,
/// whatever the provider's `max-age` says.
pub const MIN_FRESH: Duration = Duration::from_secs(5 * 60);
pub const MAX_FRESH: Duration = Duration::from_secs(24 * 3600);
/// How long keys are held when the provider gives no `max-age`.
pub const DEFAULT_FRESH: Duration = Duration::from_secs(3600);
/// How long a request waits for a fetch in progress (or queued before it).
pub const WAIT_TIMEOUT: Duration = Duration::from_secs(REQUEST_TIMEOUT.as_secs() + 5);
/// The first retry after a failed background fetch.
const FIRST_RETRY: Duration = Duration::from_secs(1);

pub struct RemoteKeys {
    url: JwksUrl,
    /// The keys of the last successful fetch; `None` until one succeeds.
    held: RwLock<Option<Keys>>,
    /// Taken by every fetch, so that only one runs at a time; holds when a
    /// token's unknown key id last caused one.
    fetching: Mutex<Option<Instant>>,
}

impl RemoteKeys {
    pub fn new(url: JwksUrl) -> RemoteKeys {
        RemoteKeys {
            url,
            held: RwLock::new(None),
            fetching: Mutex::new(None),
        }
    }

    /// Whether a key set has been fetched.
    pub fn is_ready(&self) -> bool {
        self.held.read().is_ok_and(|held| held.is_some())
    }

    /// The key held for a token's key id, fetching nothing.
    pub fn held(&self, kid: Option<&str>) -> Option<DecodingKey> {
        self.held.read().ok()?.as_ref()?.find(kid).cloned()
    }

    /// The key for a token's key id, fetching the set again when the id is
    /// unknown and no token caused a fetch in the last [`RELOAD_INTERVAL`].
    pub async fn find(&self, kid: Option<&str>) -> Option<DecodingKey> {
        if let Some(key) = self.held(kid) {
            return Some(key);
        }

        let Ok(mut last) = tokio::time::timeout(WAIT_TIMEOUT, self.fetching.lock()).await else {
            tracing::warn!(url = %self.url.shown(), "gave up waiting for the JWKS fetch in progress");
            return None;
        };
        // The fetch this request waited for may have brought the key.
        if let Some(key) = self.held(kid) {
            return Some(key);
        }
        if last.is_some_and(|at| at.elapsed() < RELOAD_INTERVAL) {
            return None;
        }
        *last = Some(Instant::now());

        tracing::info!(kid = kid.unwrap_or(""), "unknown key id: fetching the JWKS again");
        if let Err(error) = self.fetch_and_hold().await {
            tracing::warn!(error = %format!("{error:#}"), "cannot fetch the JWKS; keeping the keys held");
        }
        self.held(kid)
    }

    /// Fetches the keys and holds them, and keeps fetching them in the
    /// background for as long as they are in use. Refreshing goes on when
    /// the first fetch fails; the error says why it did.
    pub async fn start(self: &Arc<Self>) -> anyhow::Result<()> {
        let mut schedule = Schedule::default();

        let first = self.refresh().await;

        let wait = schedule.next(&first);
        tokio::spawn(keep_fresh(Arc::downgrade(self), schedule, wait));
        first.map(|_| ())
    }

    /// Fetches the keys, after any fetch in progress; returns how long they
    /// stay fresh.
    async fn refresh(&self) -> anyhow::Result<Duration> {
        let _turn = self.fetching.lock().await;
        self.fetch_and_hold().await
    }

    /// Fetches the set and holds it in place of the old one, unless it holds
    /// no key at all; returns how long it stays fresh. The caller holds
    /// `fetching`.
    async fn fetch_and_hold(&self) -> anyhow::Result<Duration> {
        let fetched = self.url.fetch().await?;
        if fetched.keys.is_empty() {
            anyhow::bail!("{} holds no RSA signing key", self.url.shown());
        }

        let fresh = fresh_for(fetched.max_age);
        tracing::info!(
            url = %self.url.shown(),
            keys = fetched.keys.len(),
            fresh_s = fresh.as_secs(),
            "JWKS fetched"
        );
        if let Ok(mut held) = self.held.write() {
            *held = Some(fetched.keys);
        }
        Ok(fresh)
    }
}

/// How long a fetched set is held: the provider's `max-age`, within bounds.
fn fresh_for(max_age: Option<Duration>) -> Duration {
    max_age.unwrap_or(DEFAULT_FRESH).clamp(MIN_FRESH, MAX_FRESH)
}

/// When to fetch next: once the keys go stale, or after a failure sooner,
/// backing off.
struct Schedule {
    retry: Duration,
}

impl Default for Schedule {
    fn default() -> Schedule {
        Schedule { retry: FIRST_RETRY }
    }
}

impl Schedule {
    fn next(&mut self, outcome: &anyhow::Result<Duration>) -> Duration {
        match outcome {
            Ok(fresh) => {
                self.retry = FIRST_RETRY;
                *fresh
            }
            Err(_) => {
                let wait = self.retry;
                self.retry = (self.retry * 2).min(RELOAD_INTERVAL);
                wait
            }
        }
    }
}

/// Fetches the keys whenever the schedule says, until they are dropped.
async fn keep_fresh(keys: Weak<RemoteKeys>, mut schedule: Schedule, mut wait: Duration) {
    loop {
        tokio::time::sleep(wait).await;
        let Some(keys) = keys.upgrade() else {
            return;
        };

        let outcome = keys.refresh().await;

        wait = schedule.next(&outcome);
        if let Err(error) = outcome {
            tracing::warn!(
                error = %format!("{error:#}"),
                retry_s = wait.as_secs(),
                "cannot fetch the JWKS; keeping the keys held"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    const N: &str = "tVNmDbBNmjNRaOvUuYUZ8C4VDaIuQWaFih9EDEcAX7KXw938VmJWDpfKuDA0L6LgXmFgqSSlGA3CHP4hie_3JCfkyveQQehtpkpK947bukSx5QQ6L9lM2rdkiU-txkuOd2JhZI9RORntT_ra_IB-mgYmPLOoNFu5-2qCr9oet6h3Rc27nyuzJiDw0PUCj3eFkI1SxRZhzgayeX20jB1SD0cky5CVFO-LCQV9NsfGGIIS9VZrtq8E_8z0mevQXDlgAP6L8tt_JYCZHxwRqBQGS9axi0gQ5U_1hPOZ08uAK2sNcG2CClHEa6E8wrkN4jFfr3f5L-NV6XEqCRFD5PudsQ";

    /// A loopback server answering every request with a set holding the
    /// key under the id `key-<n>`, n counting the requests from 1.
    async fn rotating_provider() -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/jwks", listener.local_addr().expect("address"));
        let count = Arc::new(AtomicUsize::new(0));
        let counted = count.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut buffer = [0u8; 4096];
                let _ = stream.read(&mut buffer).await;
                let n = counted.fetch_add(1, Ordering::SeqCst) + 1;
                let body =
                    serde_json::json!({ "keys": [{ "kty": "RSA", "kid": format!("key-{n}"), "n": N, "e": "AQAB" }] })
                        .to_string();
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            }
        });
        (url, count)
    }

    #[tokio::test]
    async fn an_unknown_key_id_fetches_again_once_per_interval() {
        let (url, count) = rotating_provider().await;
        let keys = Arc::new(RemoteKeys::new(JwksUrl::new(&url, None).expect("url")));
        assert!(!keys.is_ready());
        keys.start().await.expect("first fetch");
        assert!(keys.is_ready());
        assert!(keys.find(Some("key-1")).await.is_some());

        assert!(keys.find(Some("key-2")).await.is_some(), "fetched at once");
        assert!(keys.find(Some("key-3")).await.is_none(), "not again so soon");
        assert_eq!(count.load(Ordering::SeqCst), 2);

        *keys.fetching.lock().await = Some(Instant::now() - RELOAD_INTERVAL - Duration::from_secs(1));
        assert!(keys.find(Some("key-3")).await.is_some(), "the interval has passed");
        assert!(keys.find(Some("key-2")).await.is_none(), "rotated out");
        assert_eq!(count.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn max_age_is_clamped() {
        assert_eq!(fresh_for(None), DEFAULT_FRESH);
        assert_eq!(fresh_for(Some(Duration::from_secs(0))), MIN_FRESH);
        assert_eq!(fresh_for(Some(Duration::from_secs(7200))), Duration::from_secs(7200));
        assert_eq!(fresh_for(Some(Duration::from_secs(30 * 86_400))), MAX_FRESH);
    }

    #[test]
    fn failures_back_off_and_success_resets() {
        let mut schedule = Schedule::default();
        let failed = || Err(anyhow::anyhow!("down"));
        let waits: Vec<u64> = (0..7).map(|_| schedule.next(&failed()).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 30, 30]);
        assert_eq!(schedule.next(&Ok(MIN_FRESH)), MIN_FRESH);
        assert_eq!(schedule.next(&failed()), FIRST_RETRY);
    }
}
