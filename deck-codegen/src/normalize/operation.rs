//! Rules on operations: reference siblings, media types, error and success responses.

use super::{ERROR_BODY, Result, escape, fail};
use serde_json::{Value, json};

/// Media types Deck lists beside `application/json` that carry the same JSON.
const JSON_ALIASES: &[&str] = &["text/plain", "text/json", "application/*+json"];

/// Rule: Reference Objects outside schemas (parameters, responses, bodies, headers) may carry
/// `summary`/`description` in 3.1; those only override documentation and are dropped. Any other
/// sibling is refused.
pub fn drop_ref_siblings(holder: &mut Value, ptr: &str) -> Result<()> {
    let Some(obj) = holder.as_object_mut() else {
        return fail(ptr, "expected an object");
    };
    if obj.contains_key("$ref") && obj.len() > 1 {
        obj.retain(|k, _| k == "$ref" || !matches!(k.as_str(), "summary" | "description"));
        if obj.len() > 1 {
            return fail(
                ptr,
                "a reference with siblings other than summary/description",
            );
        }
    }
    Ok(())
}

/// Whether a media type carries JSON: `application/json`, an alias ASP.NET lists beside it, or
/// any `+json` type.
fn is_json_media(media: &str) -> bool {
    let base = media.split(';').next().unwrap_or("").trim();
    base == "application/json" || JSON_ALIASES.contains(&base) || base.ends_with("+json")
}

/// Rule: a request body sent only as `multipart/form-data` (a file upload, as ASP.NET declares
/// an `IFormFile` parameter) becomes a raw body progenitor generates (`application/octet-stream`,
/// a binary string) marked `x-deck-multipart` with the form's schema, for
/// [`crate::postprocess::sends::multipart_bodies`] to send it as a form: the builder takes a
/// `deck::Multipart` and the request says
/// `multipart/form-data`. A body that also has a JSON form keeps the JSON one.
pub fn multipart_body(body: &mut Value, ptr: &str) -> Result<()> {
    let Some(content) = body.get("content").and_then(Value::as_object) else {
        return Ok(());
    };
    let Some(form) = content.get("multipart/form-data") else {
        return Ok(());
    };
    if content.keys().any(|m| is_json_media(m)) {
        return Ok(());
    }
    let schema = form.get("schema").cloned().unwrap_or_else(|| json!({}));
    if !schema.is_object() {
        return fail(
            &format!("{ptr}/content/multipart~1form-data/schema"),
            "expected a schema object",
        );
    }
    body["content"] =
        json!({"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}});
    body["x-deck-multipart"] = schema;
    Ok(())
}

/// Rule: request and response bodies keep one JSON media type, as `application/json`. ASP.NET
/// lists `text/plain`, `text/json` and `application/*+json` beside it with the same schema
/// (progenitor panics on several request media types), and a body may be JSON under another
/// name only (`application/problem+json`, any `+json` suffix). A raw upload
/// (`application/octet-stream`, a binary string) is kept for progenitor's raw bodies. A different
/// schema under a JSON alias, or a body with no form the client can send or read, is refused.
pub fn keep_json_media_type(holder: &mut Value, ptr: &str) -> Result<()> {
    let Some(content) = holder.get_mut("content").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    if content.is_empty() {
        return Ok(());
    }
    let chosen = ["application/json"]
        .into_iter()
        .chain(
            content
                .keys()
                .map(String::as_str)
                .filter(|m| is_json_media(m)),
        )
        .find(|m| content.contains_key(*m))
        .map(String::from);
    let Some(chosen) = chosen else {
        if content.len() == 1 && content.contains_key("application/octet-stream") {
            return Ok(());
        }
        let found: Vec<&String> = content.keys().collect();
        return fail(
            &format!("{ptr}/content"),
            format!(
                "no JSON, application/octet-stream or multipart/form-data body (found \
                 {found:?}; url-encoded form bodies are not generated)"
            ),
        );
    };
    let json_media = content.get(&chosen).cloned().expect("chosen from the keys");
    for (media, value) in content.iter() {
        if *media == chosen || !is_json_media(media) {
            continue;
        }
        if value.get("schema") != json_media.get("schema") {
            return fail(
                &format!("{ptr}/content/{}", escape(media)),
                "its schema differs from the JSON one",
            );
        }
    }
    content.clear();
    content.insert("application/json".into(), json_media);
    Ok(())
}

/// Rule: a `default` response (progenitor asserts on it) is the error catch-all beside declared
/// successes, and the success itself when it is the only response.
pub fn default_response(responses: &mut Value, ptr: &str) -> Result<()> {
    let Some(obj) = responses.as_object_mut() else {
        return fail(ptr, "responses must be an object");
    };
    let Some(default) = obj.remove("default") else {
        return Ok(());
    };
    if !obj.keys().any(|s| s.starts_with('2')) {
        obj.insert("200".into(), default);
    }
    Ok(())
}

/// Rule: one error type per operation. Deck declares `ValidationErrorResponse` for 400,
/// `ErrorResponse` for the rest and no body for 401/403; ASP.NET may declare
/// `application/problem+json` problem details, and a newer spec any other error schema;
/// progenitor asserts at most one error type. Every non-2xx response (plus `4XX`/`5XX`
/// catch-alls, so 429 and 503 decode too) points to `DeckErrorBody`, which the generator replaces
/// with the runtime's lenient error body (`deck::Error` reads any of them from the bytes, with a
/// missing body filled in): whatever schema the spec gives an error, the client decodes it.
pub fn unify_error_responses(responses: &mut Value, ptr: &str) -> Result<()> {
    let Some(obj) = responses.as_object_mut() else {
        return fail(ptr, "responses must be an object");
    };
    let error_content = json!({
        "application/json": { "schema": { "$ref": format!("#/components/schemas/{ERROR_BODY}") } }
    });
    for (status, response) in obj.iter_mut() {
        if status.starts_with('2') {
            continue;
        }
        let Some(response) = response.as_object_mut() else {
            return fail(
                &format!("{ptr}/{}", escape(status)),
                "a response must be an object",
            );
        };
        response.insert("content".into(), error_content.clone());
    }
    for range in ["4XX", "5XX"] {
        obj.entry(range).or_insert_with(|| {
            json!({
                "description": "Any other error, in Deck's error envelope.",
                "content": error_content.clone(),
            })
        });
    }
    Ok(())
}

/// Rule: an operation with one success response also accepts any other 2xx as that response
/// (`2XX`). Deck's docs show "Created" for some writes and the served status may differ; a
/// success must never surface as an "unexpected status" error. Several distinct success bodies
/// are refused (progenitor would need one type).
pub fn any_success_status(responses: &mut Value, ptr: &str) -> Result<()> {
    let obj = responses.as_object_mut().expect("responses object");
    let successes: Vec<(&String, &Value)> = obj
        .iter()
        .filter(|(status, _)| status.starts_with('2'))
        .collect();
    let Some((_, first)) = successes.first() else {
        return Ok(());
    };
    let content = first.get("content").cloned();
    if successes
        .iter()
        .any(|(_, r)| r.get("content") != content.as_ref())
    {
        return fail(ptr, "success responses with different bodies");
    }
    if !obj.contains_key("2XX") {
        let mut range = json!({"description": "Any other success status, with the same body."});
        if let Some(content) = content {
            range["content"] = content;
        }
        obj.insert("2XX".into(), range);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_ref_siblings_keeps_only_the_ref() {
        let mut p = json!({"$ref": "#/components/parameters/Limit", "description": "d"});
        drop_ref_siblings(&mut p, "").unwrap();
        assert_eq!(p, json!({"$ref": "#/components/parameters/Limit"}));
        let mut bad = json!({"$ref": "#/x", "required": true});
        assert!(drop_ref_siblings(&mut bad, "").is_err());
    }

    #[test]
    fn multipart_body_becomes_a_marked_raw_body() {
        let form = json!({"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}});
        let mut body =
            json!({"required": true, "content": {"multipart/form-data": {"schema": form}}});
        multipart_body(&mut body, "/b").unwrap();
        assert_eq!(
            body,
            json!({"required": true, "x-deck-multipart": form, "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}})
        );
        // Then it is a raw body the next rule keeps.
        keep_json_media_type(&mut body, "/b").unwrap();
        // A JSON form beside it wins; other bodies are untouched.
        let both = json!({"content": {"multipart/form-data": {"schema": form},
            "application/json": {"schema": form}}});
        let mut kept = both.clone();
        multipart_body(&mut kept, "/b").unwrap();
        assert_eq!(kept, both);
        let mut bad = json!({"content": {"multipart/form-data": {"schema": true}}});
        assert_eq!(
            multipart_body(&mut bad, "/b").unwrap_err().pointer,
            "/b/content/multipart~1form-data/schema"
        );
    }

    #[test]
    fn keep_json_media_type_drops_aliases_and_refuses_others() {
        let s = json!({"$ref": "#/components/schemas/A"});
        let mut body = json!({"content": {
            "application/json": {"schema": s}, "text/json": {"schema": s},
            "application/*+json": {"schema": s}, "text/plain": {"schema": s}
        }});
        keep_json_media_type(&mut body, "").unwrap();
        assert_eq!(
            body,
            json!({"content": {"application/json": {"schema": s}}})
        );
        let mut form = json!({"content": {"application/x-www-form-urlencoded": {"schema": s}}});
        let err = keep_json_media_type(&mut form, "/b").unwrap_err();
        assert_eq!(err.pointer, "/b/content");
        let mut problem = json!({"content": {"application/problem+json": {"schema": s}}});
        keep_json_media_type(&mut problem, "").unwrap();
        assert_eq!(
            problem,
            json!({"content": {"application/json": {"schema": s}}})
        );
        let raw = json!({"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}});
        let mut upload = raw.clone();
        keep_json_media_type(&mut upload, "").unwrap();
        assert_eq!(upload, raw);
        let mut differing =
            json!({"content": {"application/json": {"schema": s}, "text/json": {"schema": {}}}});
        assert!(keep_json_media_type(&mut differing, "").is_err());
    }

    #[test]
    fn unify_error_responses_points_every_error_at_one_body() {
        let e = |name: &str| json!({"application/json": {"schema": {"$ref": format!("#/components/schemas/{name}")}}});
        let mut responses = json!({
            "200": {"description": "OK"},
            "400": {"description": "bad", "content": e("ValidationProblem")},
            "401": {"description": "Unauthorized."},
            "404": {"description": "nf", "content": e("ErrorEnvelope")},
            "409": {"description": "c", "content": {"application/problem+json": {"schema": {"type": "object"}}}},
            "422": {"description": "u", "content": e("SomeNewError")}
        });
        unify_error_responses(&mut responses, "").unwrap();
        for status in ["400", "401", "404", "409", "422", "4XX", "5XX"] {
            assert_eq!(responses[status]["content"], e(ERROR_BODY), "{status}");
        }
        assert!(responses["200"].get("content").is_none());
    }

    #[test]
    fn default_response_is_the_catch_all_or_the_success() {
        let mut beside = json!({"200": {"description": "OK"}, "default": {"description": "err"}});
        default_response(&mut beside, "").unwrap();
        assert_eq!(beside, json!({"200": {"description": "OK"}}));
        let mut alone = json!({"default": {"description": "it"}});
        default_response(&mut alone, "").unwrap();
        assert_eq!(alone, json!({"200": {"description": "it"}}));
    }

    #[test]
    fn any_success_status_adds_a_2xx_range() {
        let body = json!({"application/json": {"schema": {"$ref": "#/components/schemas/Run"}}});
        let mut responses = json!({"201": {"description": "Created", "content": body}, "404": {}});
        any_success_status(&mut responses, "").unwrap();
        assert_eq!(responses["2XX"]["content"], body);
        let mut two = json!({"200": {"content": body}, "202": {"content": {}}});
        assert!(any_success_status(&mut two, "").is_err());
    }
}
