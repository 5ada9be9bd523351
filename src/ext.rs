//! What the generator cannot know: cursor pagination streams and the `include` flag set.
//!
//! Pagination is derived from the spec: every list operation whose response is Deck's page
//! (`{data, has_more, next_cursor, request_id}`) gets `items()`, `pages()`, `collect_all()`,
//! `max_items(n)` and `into_paginator()` from the generator, backed by [`Paginator`] here, so a
//! list endpoint added by a spec refresh is paginated with no code here.

use crate::Client;
use crate::error::Error;
use futures::stream::{self, BoxStream, Stream, StreamExt};
use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::pin::Pin;
use std::task::{Context, Poll};

// ---------------------------------------------------------------------------------------------
// Pagination
// ---------------------------------------------------------------------------------------------

/// One page of a list.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items of this page (possibly none, even when more pages follow).
    pub items: Vec<T>,
    /// Whether Deck said more pages follow.
    pub has_more: bool,
    /// The cursor of the next page, if any.
    pub next_cursor: Option<String>,
    /// Deck's request id for this page.
    pub request_id: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from the generated page type's fields (whatever their optionality).
    pub(crate) fn from_parts(
        items: Vec<T>,
        has_more: impl Into<Option<bool>>,
        next_cursor: impl Into<Option<String>>,
        request_id: impl Into<Option<String>>,
    ) -> Self {
        // An empty cursor means none; a missing `has_more` defers to the cursor.
        let next_cursor = next_cursor.into().filter(|c| !c.is_empty());
        let has_more = has_more.into().unwrap_or(next_cursor.is_some());
        Self {
            items,
            has_more,
            next_cursor,
            request_id: request_id.into(),
        }
    }

    /// The cursor to follow: `None` when Deck said this is the last page or gave no cursor.
    fn follow(&self) -> Option<&str> {
        self.next_cursor.as_deref().filter(|_| self.has_more)
    }
}

/// A list operation's parameters without the client (generated for every list operation).
///
/// Public only because it bounds [`Paginator`]'s type parameter. Sealed: only the generated
/// `…Query` types implement it, and it is not part of the API (hidden, may change).
#[doc(hidden)]
pub trait PageQuery: sealed::Sealed + Clone + Send + Sync + 'static {
    /// The list item type.
    type Item: Send + 'static;
    /// The largest page the operation accepts (the `limit` parameter's `maximum` in the spec,
    /// else Deck's documented 100): the page size the paginator asks for by default.
    const MAX_PAGE_SIZE: u32;
    /// Whether the caller set `limit`.
    fn limit_is_set(&self) -> bool;
    /// Fetches one page: the query's own cursor when `cursor` is `None`.
    fn fetch<'c>(
        &self,
        client: &'c Client,
        cursor: Option<String>,
        limit: Option<u32>,
    ) -> impl Future<Output = Result<Page<Self::Item>, Error>> + Send + 'c;
}

pub(crate) mod sealed {
    /// Implemented next to each generated `PageQuery` impl; unnameable outside the crate, so
    /// no other type can implement `PageQuery`.
    pub trait Sealed {}
}

/// Configures how a list is paged; get one with `into_paginator()` on a list request builder.
///
/// ```no_run
/// # async fn f(client: &deck::Client) -> Result<(), deck::Error> {
/// use deck::types::RunStatus;
/// use futures::TryStreamExt;
///
/// let mut runs = client
///     .list_task_runs()
///     .status([RunStatus::Running])
///     .into_paginator()
///     .page_size(50)
///     .prefetch(false)
///     .items();
/// while let Some(run) = runs.try_next().await? {
///     println!("{} {}", run.id, run.status);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Paginator<Q> {
    client: Client,
    query: Q,
    page_size: Option<u32>,
    max_items: Option<usize>,
    prefetch: bool,
}

impl<Q: PageQuery> Paginator<Q> {
    pub(crate) fn new(client: Client, query: Q) -> Self {
        Self {
            client,
            query,
            page_size: None,
            max_items: None,
            prefetch: true,
        }
    }

    /// Items per request, from 1 to the operation's maximum (100 for Deck's lists). Default:
    /// the builder's `limit` if set, else the maximum.
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = Some(size.clamp(1, Q::MAX_PAGE_SIZE.max(1)));
        self
    }

    /// Stop after `n` items: a hard bound, no page is requested once `n` items are in (the page
    /// size shrinks to `n` when smaller), whether or not pages are fetched ahead.
    pub fn max_items(mut self, n: usize) -> Self {
        self.max_items = Some(n);
        self
    }

    /// Fetch page N+1 while page N is processed (default on; needs a Tokio runtime, and falls
    /// back to sequential paging without one). Memory stays within about two pages.
    pub fn prefetch(mut self, prefetch: bool) -> Self {
        self.prefetch = prefetch;
        self
    }

    /// The `limit` to send: the caller's if set, else the page size, shrunk to the item cap.
    fn limit(&self) -> Option<u32> {
        if self.page_size.is_none() && self.query.limit_is_set() {
            return None;
        }
        let size = self.page_size.unwrap_or(Q::MAX_PAGE_SIZE.max(1));
        Some(match self.max_items {
            Some(n) => size.min(u32::try_from(n.max(1)).unwrap_or(u32::MAX)),
            None => size,
        })
    }

    /// Whole pages as a stream.
    pub fn pages(self) -> BoxStream<'static, Result<Page<Q::Item>, Error>> {
        let limit = self.limit();
        let pages = sequential_pages(self.client, self.query, limit, self.max_items);
        if self.prefetch {
            prefetched(pages)
        } else {
            pages
        }
    }

    /// Items as a stream.
    pub fn items(self) -> BoxStream<'static, Result<Q::Item, Error>> {
        let max_items = self.max_items;
        let items = self
            .pages()
            .flat_map(|page| match page {
                Ok(page) => stream::iter(page.items).map(Ok).left_stream(),
                Err(e) => stream::once(async { Err(e) }).right_stream(),
            })
            .boxed();
        match max_items {
            Some(n) => items.take(n).boxed(),
            None => items,
        }
    }

    /// Every item, collected (up to the cap).
    pub async fn collect_all(self) -> Result<Vec<Q::Item>, Error> {
        let mut items = self.items();
        let mut all = Vec::new();
        while let Some(item) = items.next().await {
            all.push(item?);
        }
        Ok(all)
    }
}

enum Cursor {
    First,
    Next(String),
    Done,
}

/// The most empty pages in a row a listing follows before it ends with
/// [`ErrorKind::Pagination`](crate::ErrorKind::Pagination): Deck may answer an empty page with
/// more to come, but a server handing out fresh cursors to empty pages forever must not hold
/// the caller forever.
pub(crate) const MAX_EMPTY_PAGES_IN_A_ROW: u32 = 20;

/// Pages one after another, each requested when the previous one has been taken. With
/// `max_items`, no page is requested once that many items are in.
fn sequential_pages<Q: PageQuery>(
    client: Client,
    query: Q,
    limit: Option<u32>,
    max_items: Option<usize>,
) -> BoxStream<'static, Result<Page<Q::Item>, Error>> {
    struct State<Q> {
        client: Client,
        query: Q,
        limit: Option<u32>,
        cursor: Cursor,
        seen: HashSet<u64>,
        pending_error: Option<Error>,
        /// Items still wanted (`None`: no cap).
        wanted: Option<usize>,
        empty_in_a_row: u32,
    }
    let state = State {
        client,
        query,
        limit,
        cursor: if max_items == Some(0) {
            Cursor::Done
        } else {
            Cursor::First
        },
        seen: HashSet::new(),
        pending_error: None,
        wanted: max_items,
        empty_in_a_row: 0,
    };
    stream::unfold(state, |mut s| async move {
        if let Some(error) = s.pending_error.take() {
            return Some((Err(error), s));
        }
        let cursor = match std::mem::replace(&mut s.cursor, Cursor::Done) {
            Cursor::Done => return None,
            Cursor::First => None,
            Cursor::Next(c) => Some(c),
        };
        // On error the cursor stays `Done`: the error is yielded once and the stream ends.
        // The last page asks for no more than the items still wanted.
        let limit = match (s.limit, s.wanted) {
            (Some(limit), Some(wanted)) => Some(limit.min(u32::try_from(wanted).unwrap_or(limit))),
            (limit, _) => limit,
        };
        let mut page = match s.query.fetch(&s.client, cursor, limit).await {
            Ok(page) => page,
            Err(e) => return Some((Err(e), s)),
        };
        if let Some(wanted) = &mut s.wanted {
            // The cap is checked here, before another page is asked for (not when it comes).
            page.items.truncate(*wanted);
            *wanted -= page.items.len();
            if *wanted == 0 {
                return Some((Ok(page), s));
            }
        }
        s.empty_in_a_row = if page.items.is_empty() {
            s.empty_in_a_row + 1
        } else {
            0
        };
        // Anything wrong is reported after this page is delivered; then the stream stops.
        match page.follow() {
            _ if s.empty_in_a_row >= MAX_EMPTY_PAGES_IN_A_ROW => {
                s.pending_error = Some(Error::Pagination(format!(
                    "{MAX_EMPTY_PAGES_IN_A_ROW} empty pages in a row, each with a new cursor; \
                     stopping instead of following them forever"
                )));
            }
            Some(next) if s.seen.insert(hash(next)) => s.cursor = Cursor::Next(next.to_string()),
            Some(next) => {
                s.pending_error = Some(Error::Pagination(format!(
                    "Deck returned cursor {next:?} a second time; stopping instead of looping"
                )));
            }
            None if page.has_more => {
                s.pending_error = Some(Error::Pagination(
                    "Deck said more pages follow (`has_more: true`) but gave no `next_cursor`; \
                     the list is incomplete"
                        .into(),
                ));
            }
            None => {}
        }
        Some((Ok(page), s))
    })
    .boxed()
}

fn hash(cursor: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    cursor.hash(&mut h);
    h.finish()
}

/// Runs `pages` in a spawned task one page ahead of the consumer. The task waits for room in a
/// one-slot channel *before* fetching, so at most two pages exist at once: the one the consumer
/// holds and the one in the slot. Dropping the stream aborts the task. A task that panics ends
/// the stream with [`Error::Pagination`], never as if the list were complete.
fn prefetched<T: Send + 'static>(
    mut pages: BoxStream<'static, Result<Page<T>, Error>>,
) -> BoxStream<'static, Result<Page<T>, Error>> {
    if tokio::runtime::Handle::try_current().is_err() {
        return pages;
    }
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    let task = tokio::spawn(async move {
        loop {
            let Ok(permit) = tx.reserve().await else {
                return;
            };
            match pages.next().await {
                Some(page) => permit.send(page),
                None => return,
            }
        }
    });
    Prefetched {
        rx,
        task,
        finished: false,
    }
    .boxed()
}

struct Prefetched<T> {
    rx: tokio::sync::mpsc::Receiver<Result<Page<T>, Error>>,
    task: tokio::task::JoinHandle<()>,
    finished: bool,
}

impl<T> Stream for Prefetched<T> {
    type Item = Result<Page<T>, Error>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.finished {
            return Poll::Ready(None);
        }
        if let Some(page) = std::task::ready!(self.rx.poll_recv(cx)) {
            return Poll::Ready(Some(page));
        }
        // The channel closed: the task ended. How it ended decides between "complete" and an
        // error (its end may not be recorded yet when the channel closes: then wait for it).
        let ended = std::task::ready!(Pin::new(&mut self.task).poll(cx));
        self.finished = true;
        Poll::Ready(ended.err().map(|e| {
            Err(Error::Pagination(format!(
                "the task fetching pages ahead failed ({}); the list is incomplete",
                if e.is_panic() {
                    "it panicked"
                } else {
                    "it was cancelled"
                }
            )))
        }))
    }
}

impl<T> Drop for Prefetched<T> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

// ---------------------------------------------------------------------------------------------
// Include flags
// ---------------------------------------------------------------------------------------------

/// The sections `GET /task-runs/{run_id}` adds on request (`?include=input,storage`).
///
/// Renders a stable, de-duplicated, comma-joined value; pass it to `.include(..)`:
///
/// ```
/// use deck::ext::Include;
/// let flags = Include::STORAGE | Include::INPUT | Include::INPUT;
/// assert_eq!(flags.to_string(), "input,storage");
/// assert_eq!(Include::new().artifacts().other("screenshots").to_string(), "artifacts,screenshots");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Include {
    bits: u8,
    other: BTreeSet<String>,
}

const KNOWN_SECTIONS: [(u8, &str); 3] = [(1, "input"), (2, "storage"), (4, "artifacts")];

impl Include {
    /// `input`: the run's input (and `tokenized`).
    pub const INPUT: Include = Include::bit(1);
    /// `storage`: captured files with their extraction.
    pub const STORAGE: Include = Include::bit(2);
    /// `artifacts`: screenshots and reasoning.
    pub const ARTIFACTS: Include = Include::bit(4);

    const fn bit(bits: u8) -> Self {
        Include {
            bits,
            other: BTreeSet::new(),
        }
    }

    /// No sections.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every section this crate knows.
    pub fn all() -> Self {
        Self::INPUT | Self::STORAGE | Self::ARTIFACTS
    }

    /// Adds `input`.
    pub fn input(self) -> Self {
        self | Self::INPUT
    }

    /// Adds `storage`.
    pub fn storage(self) -> Self {
        self | Self::STORAGE
    }

    /// Adds `artifacts`.
    pub fn artifacts(self) -> Self {
        self | Self::ARTIFACTS
    }

    /// Adds a value this crate does not know yet (e.g. the older `screenshots`). Known names
    /// map to their flag; empty or comma-holding names are ignored.
    pub fn other(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        let name = name.trim();
        if name.is_empty() || name.contains(',') {
            return self;
        }
        match KNOWN_SECTIONS.iter().find(|(_, n)| *n == name) {
            Some((bit, _)) => self.bits |= bit,
            None => {
                self.other.insert(name.to_string());
            }
        }
        self
    }

    /// Whether nothing is requested.
    pub fn is_empty(&self) -> bool {
        self.bits == 0 && self.other.is_empty()
    }

    /// Whether `section` (`input`, `storage`, …) is requested.
    pub fn contains(&self, section: &str) -> bool {
        KNOWN_SECTIONS
            .iter()
            .any(|(bit, n)| *n == section && self.bits & bit != 0)
            || self.other.contains(section)
    }
}

impl std::ops::BitOr for Include {
    type Output = Include;
    fn bitor(mut self, rhs: Include) -> Include {
        self.bits |= rhs.bits;
        self.other.extend(rhs.other);
        self
    }
}

impl fmt::Display for Include {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let known = KNOWN_SECTIONS
            .iter()
            .filter(|(bit, _)| self.bits & bit != 0)
            .map(|(_, n)| *n);
        // Written piece by piece: no intermediate list or string per call.
        for (i, name) in known
            .chain(self.other.iter().map(String::as_str))
            .enumerate()
        {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(name)?;
        }
        Ok(())
    }
}

impl From<Include> for String {
    fn from(include: Include) -> String {
        include.to_string()
    }
}

/// A response section that is only sent when requested with [`Include`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Section<T> {
    /// The section was not in the response (not requested).
    NotRequested,
    /// The section was sent (it may be empty).
    Returned(T),
}

impl<T> Section<T> {
    /// The returned value, if the section was sent.
    pub fn returned(self) -> Option<T> {
        match self {
            Section::Returned(v) => Some(v),
            Section::NotRequested => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A list whose second page panics while being fetched (a bug, a hostile body tripping
    /// one): the prefetch task dies.
    #[derive(Clone)]
    struct PanicsOnPageTwo;

    impl sealed::Sealed for PanicsOnPageTwo {}

    impl PageQuery for PanicsOnPageTwo {
        type Item = u32;
        const MAX_PAGE_SIZE: u32 = 2;
        fn limit_is_set(&self) -> bool {
            false
        }
        #[allow(clippy::manual_async_fn)] // the trait's signature, as generated
        fn fetch<'c>(
            &self,
            _: &'c Client,
            cursor: Option<String>,
            _: Option<u32>,
        ) -> impl Future<Output = Result<Page<u32>, Error>> + Send + 'c {
            async move {
                if cursor.is_some() {
                    panic!("page two");
                }
                Ok(Page::from_parts(vec![1, 2], true, "c2".to_string(), None))
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_prefetch_task_is_an_error_not_the_end_of_the_list() {
        let client = Client::builder()
            .api_key("k")
            .base_url("http://127.0.0.1:9/v2")
            .build()
            .unwrap();
        let results: Vec<_> = Paginator::new(client, PanicsOnPageTwo)
            .prefetch(true)
            .items()
            .collect()
            .await;
        assert_eq!(results.len(), 3, "{results:?}");
        let err = results[2].as_ref().unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Pagination, "{err}");
        assert!(err.to_string().contains("panicked"), "{err}");
    }

    #[test]
    fn include_renders_stable_deduplicated_values() {
        assert_eq!(
            (Include::ARTIFACTS | Include::INPUT).to_string(),
            "input,artifacts"
        );
        assert_eq!(Include::new().storage().storage().to_string(), "storage");
        assert_eq!(Include::new().other("input").to_string(), "input");
        assert_eq!(
            Include::new()
                .other("b")
                .other("a")
                .other("")
                .other("x,y")
                .to_string(),
            "a,b"
        );
        assert!(Include::new().is_empty());
        assert!(Include::all().contains("storage") && !Include::INPUT.contains("storage"));
    }

    #[test]
    fn page_follow_rules() {
        let p = Page::<u8>::from_parts(vec![], Some(true), Some("c".to_string()), None);
        assert_eq!(p.follow(), Some("c"));
        let last = Page::<u8>::from_parts(vec![], Some(false), Some("c".to_string()), None);
        assert_eq!(last.follow(), None);
        let no_cursor = Page::<u8>::from_parts(vec![], Some(true), None::<String>, None);
        assert_eq!(no_cursor.follow(), None);
        let empty_cursor = Page::<u8>::from_parts(vec![], Some(true), Some(String::new()), None);
        assert_eq!(empty_cursor.follow(), None);
        let missing_flag = Page::<u8>::from_parts(vec![], None, Some("c".to_string()), None);
        assert_eq!(missing_flag.follow(), Some("c"));
    }
}
