//! Issued bearer tokens: a bounded map from random token to its expiry (and
//! whatever the API keeps with it), shared by the Palisade and Ledger token
//! flows.
//!
//! Why bounded: a client that fetches a token per request (the bug conform's
//! credential tests look for) would otherwise grow the mock without limit.
//! Every token in one map has the same lifetime, so expiry order is creation
//! order: each insert first prunes the expired tokens at the old end, and
//! beyond the cap the oldest live token is evicted (see `store.rs`).
//! Expired tokens not yet pruned are still recognised, so a request that
//! carries one is told its token has expired rather than that it is unknown.

use std::time::{Duration, Instant};

use super::store::Store;

/// The most tokens one map holds.
pub(super) const MAX_TOKENS: usize = 10_000;

/// One issued token: when it stops working and what the API keeps with it.
#[derive(Debug, Clone)]
struct Grant<T> {
    expires: Instant,
    data: T,
}

/// What a lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Lookup<T> {
    /// Issued and not yet expired, with its data.
    Live(T),
    /// Issued, but its lifetime is over.
    Expired,
    /// Never issued by this map, evicted, or already used up.
    Unknown,
}

/// Tokens of one kind (e.g. access tokens), all with the same lifetime.
#[derive(Debug)]
pub(super) struct Tokens<T = ()> {
    store: Store<Grant<T>>,
    ttl: Duration,
}

impl<T> Tokens<T> {
    /// An empty map of tokens that live `ttl`, holding at most `cap`.
    pub(super) fn new(ttl: Duration, cap: usize) -> Self {
        Tokens {
            store: Store::new(cap),
            ttl,
        }
    }

    /// How long each token lives.
    pub(super) fn ttl(&self) -> Duration {
        self.ttl
    }

    /// How many tokens are held (live or expired but not yet pruned).
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.store.len()
    }

    /// Issues a fresh random token carrying `data`, valid for the lifetime
    /// from `now`. Prunes expired tokens first, then evicts the oldest one if
    /// the map is full.
    pub(super) fn issue(&mut self, now: Instant, data: T) -> String {
        self.store.prune_oldest_while(|g| g.expires <= now);
        let token = random_token();
        let expires = now.checked_add(self.ttl).unwrap_or(now);
        self.store
            .insert(token.clone(), Grant { expires, data }, false);
        token
    }

    /// What `token` is at `now`.
    pub(super) fn check(&self, token: &str, now: Instant) -> Lookup<&T> {
        match self.store.get(token) {
            Some(g) if g.expires > now => Lookup::Live(&g.data),
            Some(_) => Lookup::Expired,
            None => Lookup::Unknown,
        }
    }

    /// Removes `token` (a single-use token, such as a refresh token) and
    /// tells what it was at `now`.
    pub(super) fn take(&mut self, token: &str, now: Instant) -> Lookup<T> {
        match self.store.remove(token) {
            Some(g) if g.expires > now => Lookup::Live(g.data),
            Some(_) => Lookup::Expired,
            None => Lookup::Unknown,
        }
    }
}

/// A token lifetime in whole seconds for `expiresIn` / `expires_in`:
/// rounded down, so that a client trusting it never holds an expired token,
/// but at least 1 (clients read 0 as "unknown").
pub(super) fn whole_secs(ttl: Duration) -> u64 {
    ttl.as_secs().max(1)
}

/// 256 random bits as 64 lowercase hex digits.
fn random_token() -> String {
    use std::fmt::Write as _;
    let bytes: [u8; 32] = rand::random();
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn tokens_are_random_hex_and_live_until_their_expiry() {
        let t0 = Instant::now();
        let mut tokens: Tokens = Tokens::new(Duration::from_secs(10), MAX_TOKENS);
        let a = tokens.issue(t0, ());
        let b = tokens.issue(t0, ());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_eq!(
            tokens.check(&a, t0 + Duration::from_secs(9)),
            Lookup::Live(&())
        );
        assert_eq!(
            tokens.check(&a, t0 + Duration::from_secs(10)),
            Lookup::Expired
        );
        assert_eq!(tokens.check("nope", t0), Lookup::Unknown);
        assert_eq!(tokens.ttl(), Duration::from_secs(10));
    }

    #[test]
    fn lifetimes_round_down_to_at_least_a_second() {
        assert_eq!(whole_secs(HOUR), 3600);
        assert_eq!(whole_secs(Duration::from_millis(1500)), 1);
        assert_eq!(whole_secs(Duration::from_millis(300)), 1);
    }

    #[test]
    fn take_uses_a_token_up() {
        let t0 = Instant::now();
        let mut tokens = Tokens::new(HOUR, MAX_TOKENS);
        let a = tokens.issue(t0, "session");
        assert_eq!(tokens.take(&a, t0), Lookup::Live("session"));
        assert_eq!(tokens.take(&a, t0), Lookup::Unknown);
        let b = tokens.issue(t0, "s2");
        assert_eq!(tokens.take(&b, t0 + HOUR), Lookup::Expired);
    }

    #[test]
    fn issuing_prunes_expired_tokens() {
        let t0 = Instant::now();
        let mut tokens: Tokens = Tokens::new(Duration::from_secs(1), MAX_TOKENS);
        let old: Vec<String> = (0..100).map(|_| tokens.issue(t0, ())).collect();
        assert_eq!(tokens.len(), 100);
        let later = t0 + Duration::from_secs(2);
        let fresh = tokens.issue(later, ());
        assert_eq!(tokens.len(), 1);
        assert_eq!(tokens.check(&old[0], later), Lookup::Unknown);
        assert_eq!(tokens.check(&fresh, later), Lookup::Live(&()));
    }

    #[test]
    fn the_map_stays_bounded_and_evicts_the_oldest() {
        let t0 = Instant::now();
        let mut tokens: Tokens = Tokens::new(HOUR, MAX_TOKENS);
        let first = tokens.issue(t0, ());
        let mut last = String::new();
        for _ in 1..MAX_TOKENS + 50 {
            last = tokens.issue(t0, ());
        }
        assert!(tokens.len() <= MAX_TOKENS, "{} tokens held", tokens.len());
        assert_eq!(tokens.len(), MAX_TOKENS);
        assert_eq!(tokens.check(&first, t0), Lookup::Unknown);
        assert_eq!(tokens.check(&last, t0), Lookup::Live(&()));
    }
}
