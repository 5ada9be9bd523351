//! placeholder
#![allow(missing_docs)]
pub struct Page<T> {
    pub items: Vec<T>,
}
impl<T> Page<T> {
    pub fn from_parts(
        items: Vec<T>,
        _h: impl Into<Option<bool>>,
        _n: impl Into<Option<String>>,
        _r: impl Into<Option<String>>,
    ) -> Self {
        Page { items }
    }
}
pub trait Paginate<'a>: Sized {
    type Page;
    type Item;
    fn limit_is_set(&self) -> bool;
    fn with_limit(self, limit: u8) -> Self;
    fn with_cursor(self, cursor: String) -> Self;
    fn fetch(
        self,
    ) -> impl std::future::Future<
        Output = Result<
            crate::ResponseValue<Self::Page>,
            progenitor_client::Error<crate::error::ErrorBody>,
        >,
    > + Send
    + 'a;
    fn into_page(page: Self::Page) -> Page<Self::Item>;
}
