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

/// Rule: request and response bodies keep `application/json` only. Deck (ASP.NET) also lists
/// `text/plain`, `text/json` and `application/*+json` with the same schema; progenitor panics on
/// several request media types. A different schema under an alias, or a body with no JSON form,
/// is refused.
pub fn keep_json_media_type(holder: &mut Value, ptr: &str) -> Result<()> {
    let Some(content) = holder.get_mut("content").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    let Some(json_media) = content.get("application/json").cloned() else {
        let found: Vec<&String> = content.keys().collect();
        return fail(
            &format!("{ptr}/content"),
            format!("no application/json body (found {found:?})"),
        );
    };
    for (media, value) in content.iter() {
        if media == "application/json" {
            continue;
        }
        if !JSON_ALIASES.contains(&media.as_str()) {
            return fail(
                &format!("{ptr}/content/{}", escape(media)),
                format!("media type `{media}` is not understood"),
            );
        }
        if value.get("schema") != json_media.get("schema") {
            return fail(
                &format!("{ptr}/content/{}", escape(media)),
                "its schema differs from the application/json one",
            );
        }
    }
    content.retain(|media, _| media == "application/json");
    Ok(())
}

/// Rule: one error type per operation. Deck declares `ValidationErrorResponse` for 400,
/// `ErrorResponse` for the rest and no body for 401/403; progenitor asserts at most one error
/// type. Every non-2xx response (plus `4XX`/`5XX` catch-alls, so 429 and 503 decode too) points
/// to `DeckErrorBody`, the union of the two (`error_schemas`: their names in this document); the
/// client fills in a missing body.
pub fn unify_error_responses(
    responses: &mut Value,
    ptr: &str,
    error_schemas: &[String],
) -> Result<()> {
    let obj = responses.as_object_mut().expect("responses object");
    if obj.contains_key("default") {
        return fail(
            &format!("{ptr}/default"),
            "`default` responses are not supported (progenitor asserts on them)",
        );
    }
    let error_content = json!({
        "application/json": { "schema": { "$ref": format!("#/components/schemas/{ERROR_BODY}") } }
    });
    for (status, response) in obj.iter_mut() {
        if status.starts_with('2') {
            continue;
        }
        if let Some(content) = response.get("content") {
            let schema_ref = content
                .pointer("/application~1json/schema/$ref")
                .and_then(Value::as_str)
                .and_then(super::component_ref);
            if !schema_ref.is_some_and(|name| error_schemas.iter().any(|e| e == name)) {
                return fail(
                    &format!("{ptr}/{status}"),
                    "an error body other than ErrorResponse/ValidationErrorResponse",
                );
            }
        }
        response["content"] = error_content.clone();
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
        let mut multipart = json!({"content": {"multipart/form-data": {"schema": s}}});
        assert!(keep_json_media_type(&mut multipart, "").is_err());
        let mut differing =
            json!({"content": {"application/json": {"schema": s}, "text/json": {"schema": {}}}});
        assert!(keep_json_media_type(&mut differing, "").is_err());
    }

    #[test]
    fn unify_error_responses_points_every_error_at_one_body() {
        let e = |name: &str| json!({"application/json": {"schema": {"$ref": format!("#/components/schemas/{name}")}}});
        let known = vec!["ValidationProblem".to_string(), "ErrorEnvelope".to_string()];
        let mut responses = json!({
            "200": {"description": "OK"},
            "400": {"description": "bad", "content": e("ValidationProblem")},
            "401": {"description": "Unauthorized."},
            "404": {"description": "nf", "content": e("ErrorEnvelope")}
        });
        unify_error_responses(&mut responses, "", &known).unwrap();
        for status in ["400", "401", "404", "4XX", "5XX"] {
            assert_eq!(responses[status]["content"], e(ERROR_BODY), "{status}");
        }
        assert!(responses["200"].get("content").is_none());
        let mut unknown = json!({"404": {"content": e("Other")}});
        assert!(unify_error_responses(&mut unknown, "", &known).is_err());
        let mut default = json!({"default": {}});
        assert!(unify_error_responses(&mut default, "", &known).is_err());
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
