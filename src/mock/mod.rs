//! The embedded reference mock: the target conform tests against by default.
//!
//! It is a reference implementation of each documented API, not a set of
//! canned stubs: in-memory state (users created by one request are seen by
//! the next), auth enforced, every documented endpoint, served over real TCP
//! on 127.0.0.1 by axum. A test starts one with [`start`] on port 0;
//! `conform mock` serves one on a chosen port.
//!
//! - [`palisade`]: Palisade API 2.0 users (`/v2/users…`), seeded with
//!   [`PALISADE_SEED_USER_ID`].
//! - [`ledger`]: Ledger Enterprise API v1 API users (`/api_users…`), seeded
//!   with [`LEDGER_SEED_USER`].
//! - [`faults`]: named, deliberately non-conforming variants ([`Fault`]) for
//!   conform's own tests; each API's state machine consults them where the
//!   deviation happens. A few are availability behaviours (429/420, 503) for
//!   retry tests rather than contract violations
//!   ([`Fault::is_contract_violation`]).
//!
//! Auth: each API takes its static key ([`Api::api_key`]) or a bearer token
//! from its documented token flow: Palisade's OAuth 2.0 client credentials
//! at [`PALISADE_TOKEN_PATH`] ([`PALISADE_CLIENT_ID`] /
//! [`PALISADE_CLIENT_SECRET`]), Ledger's API key at [`LEDGER_TOKEN_PATH`]
//! ([`LEDGER_API_KEY_ID`] / [`LEDGER_API_KEY_SECRET`]) with rotation at
//! [`LEDGER_REFRESH_PATH`]. Token lifetimes are the documented ones unless
//! [`MockConfig::token_ttl`] says otherwise; [`MockServer::tokens_issued`]
//! counts issuances.
//!
//! Memory stays flat however long it runs: no request is recorded, each API
//! keeps at most 10,000 users, evicting the oldest non-seeded one first, and
//! at most 10,000 tokens of each kind, pruning expired ones and evicting the
//! oldest beyond that.

pub mod faults;
pub mod ledger;
pub mod palisade;
pub mod server;
mod store;
mod tokens;

pub use self::faults::Fault;
pub use self::ledger::{
    LEDGER_API_KEY_HEADER, LEDGER_API_KEY_ID, LEDGER_API_KEY_SECRET, LEDGER_REFRESH_PATH,
    LEDGER_SEED_DEVICE_ID, LEDGER_SEED_USER, LEDGER_TOKEN_PATH, LEDGER_TOKEN_TTL,
};
pub use self::palisade::{
    PALISADE_CLIENT_ID, PALISADE_CLIENT_SECRET, PALISADE_ORG_ID, PALISADE_SEED_EMAIL,
    PALISADE_SEED_USER_ID, PALISADE_TOKEN_PATH, PALISADE_TOKEN_TTL,
};
pub use self::server::{Api, MAX_BODY_BYTES, MockConfig, MockServer, router, start};
