#![doc = include_str!("../README.md")]
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

pub mod batch;
mod bounds;
pub mod client;
pub mod error;
pub mod ext;
pub mod feed;
pub mod field;
pub mod hooks;
mod ids;
mod limiter;
mod multipart;
mod response;
mod retry;
pub mod runs;
#[cfg(feature = "schemars")]
pub mod schema;
pub mod store;
pub mod tracker;
mod transport;
mod wire;

pub use client::{Certificate, ClientBuilder, IdempotencyKey, RateLimit, RequestOptions};
pub use error::{ApiError, Error, ErrorBody, ErrorKind, Result};
pub use ext::Include;
pub use field::{IntoField, Patch};
pub use generated::{Client, builder, types};
pub use multipart::Multipart;
pub use response::ResponseValue;
pub use retry::RetryPolicy;
#[cfg(feature = "schemars")]
pub use schema::json_schema;
/// The `schemars` this crate derives with (feature `schemars`): derive `JsonSchema` through it,
/// with `#[schemars(crate = "deck::schemars")]` on the type, so the versions match and your
/// crate needs no `schemars` dependency of its own (see [`json_schema`]).
#[cfg(feature = "schemars")]
pub use schemars;

#[cfg(feature = "mock")]
pub mod mock;

#[cfg(feature = "webhooks")]
pub mod webhooks;

/// Typed [`httpmock`](https://docs.rs/httpmock) helpers generated from the spec: one method per
/// operation on `httpmock::MockServer` (feature `httpmock`).
#[cfg(feature = "httpmock")]
pub mod httpmock {
    #![allow(missing_docs, clippy::all, unused_imports, dead_code)]
    include!(concat!(env!("OUT_DIR"), "/deck_httpmock.rs"));
}
