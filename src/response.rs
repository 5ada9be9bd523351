//! [`ResponseValue`]: what every `send()` returns, the decoded body with its status and headers.

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use std::fmt;
use std::ops::{Deref, DerefMut};

/// A successful response: the decoded body (reached through `Deref`), its status and headers.
///
/// ```
/// use reqwest::{StatusCode, header::HeaderMap};
/// let value = deck::ResponseValue::new(7u32, StatusCode::OK, HeaderMap::new());
/// assert_eq!(*value + 1, 8);
/// assert_eq!(value.status(), StatusCode::OK);
/// assert_eq!(value.into_inner(), 7);
/// ```
#[derive(Clone)]
pub struct ResponseValue<T> {
    inner: T,
    status: StatusCode,
    headers: HeaderMap,
}

impl<T> ResponseValue<T> {
    /// A response from its parts (for tests of code that handles responses).
    pub fn new(inner: T, status: StatusCode, headers: HeaderMap) -> Self {
        Self {
            inner,
            status,
            headers,
        }
    }

    /// The decoded body.
    pub fn into_inner(self) -> T {
        self.inner
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The `Content-Length` header, when present and valid.
    pub fn content_length(&self) -> Option<u64> {
        self.headers
            .get(reqwest::header::CONTENT_LENGTH)?
            .to_str()
            .ok()?
            .parse()
            .ok()
    }
}

impl<T> Deref for ResponseValue<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T> DerefMut for ResponseValue<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T> AsRef<T> for ResponseValue<T> {
    fn as_ref(&self) -> &T {
        &self.inner
    }
}

impl<T: fmt::Debug> fmt::Debug for ResponseValue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}
