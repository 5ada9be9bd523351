//! Bounded rendering: whatever a server sends, an error's `Debug` and `Display` stay small.

use reqwest::header::HeaderMap;
use std::fmt;

/// `s` cut to at most `max` characters, with `…` when cut.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Headers for `Debug`: the first 32, values cut to 200 characters.
pub(super) struct BoundedHeaders<'a>(pub(super) &'a HeaderMap);

impl fmt::Debug for BoundedHeaders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 32;
        let mut map = f.debug_map();
        for (name, value) in self.0.iter().take(SHOWN) {
            let value = truncate(&String::from_utf8_lossy(value.as_bytes()), 200);
            map.entry(&name.as_str(), &value);
        }
        if self.0.len() > SHOWN {
            map.entry(&"…", &format!("{} more", self.0.len() - SHOWN));
        }
        map.finish()
    }
}

/// `Debug` of a value, cut after `.1` bytes.
pub(super) struct Bounded<'a, T>(pub(super) &'a T, pub(super) usize);

impl<T: fmt::Debug> fmt::Debug for Bounded<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Capped::new(self.1);
        let whole = if f.alternate() {
            fmt::write(&mut out, format_args!("{:#?}", self.0))
        } else {
            fmt::write(&mut out, format_args!("{:?}", self.0))
        }
        .is_ok();
        f.write_str(&out.text)?;
        if !whole {
            f.write_str("…")?;
        }
        Ok(())
    }
}

/// A `fmt::Write` that keeps at most `max` bytes and then refuses more (which stops the
/// formatting early, so a huge value is never rendered whole).
pub(super) struct Capped {
    pub(super) text: String,
    max: usize,
}

impl Capped {
    pub(super) fn new(max: usize) -> Self {
        Capped {
            text: String::new(),
            max,
        }
    }
}

impl fmt::Write for Capped {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.max - self.text.len();
        if s.len() <= room {
            self.text.push_str(s);
            return Ok(());
        }
        let mut end = room;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        self.text.push_str(&s[..end]);
        self.max = self.text.len();
        Err(fmt::Error)
    }
}
