//! Typed, forward-compatible Rust client for [Deck](https://deck.co)'s REST API v2.
//!
//! Deck runs AI agents that operate websites for you. This crate is generated at build time from
//! Deck's OpenAPI spec (vendored as `openapi/v2.json`) by progenitor, with a small hand-written
//! layer for what a generator cannot know: retries and idempotency keys, pagination streams,
//! include flags, waiting on task runs, and errors that carry Deck's `request_id`.
//!
//! Crate docs are completed in the README; see `README.md`.
#![warn(missing_docs)]

mod generated {
    #![allow(
        clippy::all,
        missing_docs,
        unused_imports,
        dead_code,
        irrefutable_let_patterns,
        unreachable_patterns
    )]
    include!(concat!(env!("OUT_DIR"), "/deck_gen.rs"));
}

pub mod client;
pub mod error;
pub mod ext;
mod hooks;
pub mod retry;
pub mod wire;

#[cfg(test)]
mod normalize;

pub use client::{ClientBuilder, ClientState, RequestExt, RequestOptions};
pub use error::{ApiError, Error, ErrorBody, ErrorKind, Result};
pub use generated::{ByteStream, Client, ResponseValue, builder, types};
pub use hooks::IDEMPOTENCY_KEY_HEADER;
pub use retry::RetryPolicy;

#[cfg(feature = "mock")]
pub mod mock;

/// Typed [`httpmock`](https://docs.rs/httpmock) helpers generated from the spec: one method per
/// operation on `httpmock::MockServer` (feature `httpmock`).
#[cfg(feature = "httpmock")]
pub mod httpmock {
    #![allow(missing_docs, clippy::all, unused_imports, dead_code)]
    include!(concat!(env!("OUT_DIR"), "/deck_httpmock.rs"));
}
