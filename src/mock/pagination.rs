//! Deck's cursor pagination, shared by every list: `limit` (1–100, default 20), an opaque
//! `cursor`, and the page `{data, has_more, next_cursor, request_id}`.
//!
//! A cursor is the id of the page's last item, base64url without padding: opaque to clients (as
//! Deck's are), and a list can tell its own cursors from another list's by looking the id up.

use super::reply::{Reply, validation};
use super::routes::Query;
use super::state::{Row, Table};
use axum::http::StatusCode;
use base64::Engine;
use base64::alphabet::URL_SAFE;
use base64::engine::general_purpose::{GeneralPurpose, NO_PAD};
use serde_json::{Map, Value, json};

/// Deck's documented page sizes for every list ("1-100, default 20"). The client reads the
/// maximum from the spec (the overlay states it); the mock enforces what Deck documents.
const MIN_PAGE_SIZE: u8 = 1;
const MAX_PAGE_SIZE: u8 = 100;
const DEFAULT_PAGE_SIZE: u8 = 20;

/// The page size asked for: `limit`, else Deck's default; out of range or not a number is a 400.
pub(crate) fn limit(q: &Query, rid: &str) -> Result<usize, Reply> {
    let Some(raw) = q.all("limit").into_iter().next() else {
        return Ok(usize::from(DEFAULT_PAGE_SIZE));
    };
    let (min, max) = (MIN_PAGE_SIZE, MAX_PAGE_SIZE);
    match raw.trim().parse::<i64>() {
        Ok(n) if (i64::from(min)..=i64::from(max)).contains(&n) => Ok(n as usize),
        Ok(_) => Err(validation(
            "limit",
            format!("The field limit must be between {min} and {max}."),
            rid,
        )),
        Err(_) => Err(validation(
            "limit",
            format!("The value '{raw}' is not valid for limit."),
            rid,
        )),
    }
}

/// The `cursor` parameter, resolved by `find` from the id it carries: `Ok(None)` without one, a
/// 400 when it does not decode or `find` does not know the id (a cursor of another list).
pub(crate) fn cursor<T>(
    q: &Query,
    rid: &str,
    find: impl FnOnce(&str) -> Option<T>,
) -> Result<Option<T>, Reply> {
    let Some(raw) = q.one("cursor") else {
        return Ok(None);
    };
    match decode_cursor(raw).as_deref().and_then(find) {
        Some(position) => Ok(Some(position)),
        None => Err(validation(
            "cursor",
            "The cursor is invalid or does not belong to this list.".into(),
            rid,
        )),
    }
}

/// Up to `limit` items, and whether more follow.
pub(crate) fn take<T>(items: impl Iterator<Item = T>, limit: usize) -> (Vec<T>, bool) {
    let mut page: Vec<T> = items.take(limit.saturating_add(1)).collect();
    let has_more = page.len() > limit;
    page.truncate(limit);
    (page, has_more)
}

/// The page reply; `last_id` is the id of the page's last item, the next page's cursor.
pub(crate) fn page_reply(
    data: Vec<Value>,
    has_more: bool,
    last_id: Option<&str>,
    rid: &str,
) -> Reply {
    let next_cursor = match (has_more, last_id) {
        (true, Some(id)) => json!(encode_cursor(id)),
        _ => Value::Null,
    };
    Reply::json(
        StatusCode::OK,
        json!({"data": data, "has_more": has_more, "next_cursor": next_cursor, "request_id": rid}),
    )
}

/// Unpadded base64url. Decoding forgives what MockDeck's cursors always forgave: trailing `=`
/// (trimmed before decoding) and non-zero trailing bits.
const CURSOR: GeneralPurpose =
    GeneralPurpose::new(&URL_SAFE, NO_PAD.with_decode_allow_trailing_bits(true));

/// A page of `table`, newest first, of the rows `keep` selects, each rendered by `render`. Items
/// carry the list's `request_id`, as `listTasks` items do: the spec reuses each resource's
/// single-object schema for its list items, `request_id` included.
pub(crate) fn table_page<T: Row>(
    table: &Table<T>,
    q: &Query,
    rid: &str,
    limit: usize,
    keep: impl Fn(&T) -> bool,
    render: impl Fn(&T) -> Map<String, Value>,
) -> Result<Reply, Reply> {
    let end = cursor(q, rid, |id| table.position(id))?.unwrap_or(table.end());
    let (page, has_more) = take(table.newest_first(end).filter(|row| keep(row)), limit);
    let data = page
        .iter()
        .map(|row| {
            let mut item = render(row);
            item.insert("request_id".into(), json!(rid));
            Value::Object(item)
        })
        .collect();
    Ok(page_reply(
        data,
        has_more,
        page.last().map(|row| row.id()),
        rid,
    ))
}

pub(crate) fn encode_cursor(id: &str) -> String {
    CURSOR.encode(id)
}

fn decode_cursor(cursor: &str) -> Option<String> {
    let bytes = CURSOR.decode(cursor.trim_end_matches('=')).ok()?;
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        for id in [
            "trun_abc",
            "t",
            "ab",
            "abc",
            "stor_0123456789abcdefghijklmn",
        ] {
            assert_eq!(decode_cursor(&encode_cursor(id)).as_deref(), Some(id));
        }
        assert_eq!(decode_cursor("!!"), None);
        assert_eq!(decode_cursor("dHJ1bl9hYmM=").as_deref(), Some("trun_abc"));
        assert_eq!(decode_cursor("dHJ1bl9hYmM==").as_deref(), Some("trun_abc"));
    }

    #[test]
    fn take_tells_whether_more_follow() {
        assert_eq!(take(1..=3, 2), (vec![1, 2], true));
        assert_eq!(take(1..=2, 2), (vec![1, 2], false));
        assert_eq!(take(0..0, 2), (vec![], false));
    }
}
