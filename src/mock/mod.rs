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
//!   deviation happens.
//!
//! Memory stays flat however long it runs: no request is recorded and each
//! API keeps at most 10,000 users, evicting the oldest non-seeded one first.

pub mod faults;
pub mod ledger;
pub mod palisade;
pub mod server;
mod store;

pub use self::faults::Fault;
pub use self::ledger::{LEDGER_API_KEY_HEADER, LEDGER_SEED_DEVICE_ID, LEDGER_SEED_USER};
pub use self::palisade::{PALISADE_ORG_ID, PALISADE_SEED_EMAIL, PALISADE_SEED_USER_ID};
pub use self::server::{Api, MAX_BODY_BYTES, MockConfig, MockServer, router, start};
