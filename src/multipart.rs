//! `multipart/form-data` bodies, for operations Deck's spec declares as form uploads (an
//! `IFormFile` parameter in ASP.NET). Their builders' `body` takes a [`Multipart`]; the request
//! goes out as `multipart/form-data` with this form's boundary.
//!
//! Written here rather than with reqwest's `multipart` feature: that form streams its body, so
//! a call could not be retried, and it pulls in `mime_guess`; this one is a buffer (the call's
//! retries resend it) of a few dozen lines.

use bytes::Bytes;
use std::fmt;

/// A `multipart/form-data` form: text fields and files, in order.
///
/// ```
/// let form = deck::Multipart::new()
///     .text("purpose", "statement")
///     .file("file", "october.pdf", "application/pdf", b"%PDF-1.7".to_vec());
/// assert!(form.content_type().starts_with("multipart/form-data; boundary="));
/// let body = form.to_bytes();
/// assert!(body.starts_with(format!("--{}\r\n", form.boundary()).as_bytes()));
/// ```
#[derive(Clone)]
pub struct Multipart {
    boundary: String,
    body: Vec<u8>,
    /// Field names, for `Debug` (values may be secrets).
    names: Vec<String>,
}

impl Multipart {
    /// An empty form with a fresh random boundary.
    pub fn new() -> Multipart {
        Multipart {
            boundary: format!("deck-{}", uuid::Uuid::new_v4().simple()),
            body: Vec::new(),
            names: Vec::new(),
        }
    }

    /// Adds a text field.
    pub fn text(self, name: impl AsRef<str>, value: impl AsRef<str>) -> Multipart {
        self.part(name.as_ref(), None, None, value.as_ref().as_bytes())
    }

    /// Adds a file: its field name, file name, media type (`application/pdf`) and content.
    pub fn file(
        self,
        name: impl AsRef<str>,
        file_name: impl AsRef<str>,
        content_type: impl AsRef<str>,
        content: impl AsRef<[u8]>,
    ) -> Multipart {
        self.part(
            name.as_ref(),
            Some(file_name.as_ref()),
            Some(content_type.as_ref()),
            content.as_ref(),
        )
    }

    fn part(
        mut self,
        name: &str,
        file_name: Option<&str>,
        content_type: Option<&str>,
        content: &[u8],
    ) -> Multipart {
        let mut head = format!(
            "--{}\r\nContent-Disposition: form-data; name=\"{}\"",
            self.boundary,
            quoted(name)
        );
        if let Some(file_name) = file_name {
            head.push_str(&format!("; filename=\"{}\"", quoted(file_name)));
        }
        head.push_str("\r\n");
        if let Some(content_type) = content_type {
            // A media type has no line breaks; one that does is cut there, not sent as a header.
            let content_type = content_type.split(['\r', '\n']).next().unwrap_or_default();
            head.push_str(&format!("Content-Type: {content_type}\r\n"));
        }
        head.push_str("\r\n");
        self.body.extend_from_slice(head.as_bytes());
        self.body.extend_from_slice(content);
        self.body.extend_from_slice(b"\r\n");
        self.names.push(name.to_string());
        self
    }

    /// The boundary between parts.
    pub fn boundary(&self) -> &str {
        &self.boundary
    }

    /// `multipart/form-data; boundary=…`.
    pub fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.boundary)
    }

    /// The encoded form, closing delimiter included.
    pub fn to_bytes(&self) -> Bytes {
        self.clone().into_bytes()
    }

    /// The encoded form, the parts' buffer reused (sending a form does not copy its files).
    fn into_bytes(mut self) -> Bytes {
        let close = format!("--{}--\r\n", self.boundary);
        self.body.extend_from_slice(close.as_bytes());
        Bytes::from(self.body)
    }
}

impl Default for Multipart {
    fn default() -> Self {
        Multipart::new()
    }
}

impl fmt::Debug for Multipart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Multipart")
            .field("fields", &self.names)
            .field("bytes", &self.body.len())
            .finish()
    }
}

impl From<Multipart> for reqwest::Body {
    fn from(form: Multipart) -> reqwest::Body {
        reqwest::Body::from(form.into_bytes())
    }
}

/// A name in a quoted header parameter, as browsers send it: `"`, CR and LF percent-encoded.
fn quoted(name: &str) -> String {
    name.replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// The request's `multipart/form-data` content type (as the generated `send` of a form upload
/// sets it, without a boundary) completed with the boundary its body starts with. A body that
/// is not a form (not made by [`Multipart`]) is refused before anything is sent.
pub(crate) fn complete_content_type(request: &mut reqwest::Request) -> Result<(), crate::Error> {
    let content_type = reqwest::header::CONTENT_TYPE;
    if request.headers().get(&content_type).map(|v| v.as_bytes()) != Some(b"multipart/form-data") {
        return Ok(());
    }
    let boundary = request
        .body()
        .and_then(reqwest::Body::as_bytes)
        .and_then(|body| body.strip_prefix(b"--"))
        .and_then(|rest| rest.split(|b| *b == b'\r').next())
        .and_then(|b| std::str::from_utf8(b).ok())
        .filter(|b| {
            // RFC 2046's boundary characters, 1 to 70 of them, in a token (no quoting needed).
            (1..=70).contains(&b.len())
                && b.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || b"'()+_,-./:=?".contains(&c))
        })
        .map(str::to_owned);
    let Some(boundary) = boundary else {
        return Err(crate::Error::InvalidRequest(
            "this operation sends a multipart/form-data form: pass a deck::Multipart as its body"
                .into(),
        ));
    };
    let value = reqwest::header::HeaderValue::from_str(&format!(
        "multipart/form-data; boundary={boundary}"
    ))
    .map_err(|e| crate::Error::InvalidRequest(format!("multipart content type: {e}")))?;
    request.headers_mut().insert(content_type, value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(content_type: &'static str, body: impl Into<reqwest::Body>) -> reqwest::Request {
        let url = "http://127.0.0.1:1/files".parse().unwrap();
        let mut request = reqwest::Request::new(reqwest::Method::POST, url);
        request.headers_mut().insert(
            reqwest::header::CONTENT_TYPE,
            reqwest::header::HeaderValue::from_static(content_type),
        );
        *request.body_mut() = Some(body.into());
        request
    }

    #[test]
    fn a_form_encodes_its_parts_in_order() {
        let form = Multipart::new().text("purpose", "statement").file(
            "file",
            "a \"b\".pdf",
            "application/pdf",
            b"%PDF",
        );
        let b = form.boundary().to_string();
        let body = String::from_utf8(form.to_bytes().to_vec()).unwrap();
        assert_eq!(
            body,
            format!(
                "--{b}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nstatement\r\n\
                 --{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a %22b%22.pdf\"\r\n\
                 Content-Type: application/pdf\r\n\r\n%PDF\r\n--{b}--\r\n"
            )
        );
        assert_ne!(b, Multipart::new().boundary(), "a fresh boundary per form");
        // What is sent is what `to_bytes` shows.
        let sent = reqwest::Body::from(form.clone());
        assert_eq!(sent.as_bytes(), Some(form.to_bytes().as_ref()));
        // A media type cannot add a header line.
        let form = Multipart::new().file("f", "x", "text/plain\rX-Evil: 1", b"");
        assert!(!String::from_utf8_lossy(&form.to_bytes()).contains("X-Evil"));
    }

    #[test]
    fn debug_shows_field_names_not_values() {
        let form = Multipart::new().text("password", "MARKER-SECRET-1");
        let debug = format!("{form:?}");
        assert!(
            debug.contains("password") && !debug.contains("MARKER-SECRET-1"),
            "{debug}"
        );
    }

    #[test]
    fn the_content_type_gets_the_form_s_boundary() {
        let form = Multipart::new().text("a", "1");
        let mut req = request("multipart/form-data", form.clone());
        complete_content_type(&mut req).unwrap();
        assert_eq!(
            req.headers()[reqwest::header::CONTENT_TYPE],
            form.content_type().as_str()
        );
        // Bytes that are not a form are refused, before sending.
        let mut req = request("multipart/form-data", b"just bytes".to_vec());
        let err = complete_content_type(&mut req).unwrap_err();
        assert!(err.to_string().contains("deck::Multipart"), "{err}");
        // Other content types are left alone.
        let mut req = request("application/octet-stream", b"--x\r\n".to_vec());
        complete_content_type(&mut req).unwrap();
        assert_eq!(
            req.headers()[reqwest::header::CONTENT_TYPE],
            "application/octet-stream"
        );
    }
}
