//! Stage 3 — execute: send a step's request and record what came back.
//! It records; it checks nothing.

mod client;
mod exchange;

pub use client::{
    ClientOptions, ExecError, build_client, error_chain, install_crypto, plain_http_only,
    rate_limit_wait, send,
};
pub use exchange::{Exchange, RequestRecord, ResponseRecord};

#[cfg(test)]
pub(crate) use exchange::test_exchange;
