//! Where in a JSON body serde failed: a small scanner from serde's line and column to a path.

use super::truncate;

/// The JSON path (`data[3].runtime_ms`) of the position serde_json reported, found by scanning
/// the bytes up to it. `None` when the position is outside the input.
pub(super) fn json_path_at(bytes: &[u8], line: usize, column: usize) -> Option<String> {
    if line == 0 {
        return None;
    }
    let mut offset = 0;
    for _ in 1..line {
        offset += bytes[offset..].iter().position(|b| *b == b'\n')? + 1;
    }
    let end = (offset + column).min(bytes.len());

    enum Frame {
        Object { key: Option<String> },
        Array { index: usize },
    }
    let mut stack: Vec<Frame> = Vec::new();
    let mut expecting_key = false;
    let mut i = 0;
    while i < end {
        match bytes[i] {
            b'{' => {
                stack.push(Frame::Object { key: None });
                expecting_key = true;
            }
            b'[' => stack.push(Frame::Array { index: 0 }),
            b'}' | b']' => {
                stack.pop();
                expecting_key = false;
            }
            b',' => match stack.last_mut() {
                Some(Frame::Array { index }) => *index += 1,
                Some(Frame::Object { .. }) => expecting_key = true,
                None => {}
            },
            b':' => expecting_key = false,
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                if expecting_key && let Some(Frame::Object { key }) = stack.last_mut() {
                    // Keys are the server's: at most 64 characters of each are kept.
                    let raw = &bytes[start..i.min(bytes.len()).min(start + 256)];
                    *key = Some(truncate(&String::from_utf8_lossy(raw), 64));
                }
            }
            _ => {}
        }
        i += 1;
    }
    let mut path = String::from("$");
    for frame in &stack {
        match frame {
            Frame::Object { key: Some(k) } => {
                path.push('.');
                path.push_str(k);
            }
            Frame::Object { key: None } => {}
            Frame::Array { index } => path.push_str(&format!("[{index}]")),
        }
    }
    // Nesting is bounded by serde's recursion limit (128), the path by this.
    Some(truncate(&path, 512))
}
