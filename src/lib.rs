//! placeholder
#![allow(missing_docs)]
mod generated {
    #![allow(clippy::all, missing_docs, unused)]
    include!(concat!(env!("OUT_DIR"), "/deck_gen.rs"));
}
pub use generated::{Client, builder, types, ResponseValue};
pub mod error { 
    #[derive(Debug, Clone)]
    pub struct ErrorBody(pub serde_json::Value);
    impl<'de> serde::Deserialize<'de> for ErrorBody { fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> { Ok(Self(serde::Deserialize::deserialize(d)?)) } }
}
pub mod wire {
    #[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
    pub struct Int<T>(pub T);
    pub type Int32 = Int<i32>;
    pub type Int64 = Int<i64>;
    impl<T: std::fmt::Display> std::fmt::Display for Int<T> { fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { self.0.fmt(f) } }
    impl<T: std::str::FromStr> std::str::FromStr for Int<T> { type Err = T::Err; fn from_str(s: &str) -> Result<Self, T::Err> { s.parse().map(Int) } }
    impl<T> From<T> for Int<T> { fn from(v: T) -> Self { Int(v) } }
}
pub mod ext {
    pub struct Page<T> { pub items: Vec<T> }
    impl<T> Page<T> { pub fn from_parts(items: Vec<T>, _h: impl Into<Option<bool>>, _n: impl Into<Option<String>>, _r: impl Into<Option<String>>) -> Self { Page { items } } }
    pub trait Paginate<'a>: Sized {
        type Page; type Item;
        fn limit_is_set(&self) -> bool;
        fn with_limit(self, limit: u8) -> Self;
        fn with_cursor(self, cursor: String) -> Self;
        fn fetch(self) -> impl std::future::Future<Output = Result<crate::ResponseValue<Self::Page>, progenitor_client::Error<crate::error::ErrorBody>>> + Send + 'a;
        fn into_page(page: Self::Page) -> Page<Self::Item>;
    }
}
#[derive(Debug, Clone)]
pub struct ClientState;
impl progenitor_client::ClientHooks<ClientState> for Client {}
