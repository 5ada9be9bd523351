//! Rules on where things are declared: the same operation can be written with its parameters on
//! the path item or in `components.parameters`, its responses and bodies in `components`, and
//! its name given or left out. These rules bring every such rendition to one form (everything
//! inline on the operation, every operation named), so the generated API does not depend on how
//! Deck's generator laid the document out.

use super::{HTTP_METHODS, Result, escape, fail, pascal};
use serde_json::{Map, Value, json};

/// The component sections whose members are Reference-Object targets outside schemas.
const INLINED_SECTIONS: &[&str] = &["parameters", "responses", "requestBodies", "headers"];

/// Rule: `$ref`s to `components.parameters`, `components.responses`, `components.requestBodies`
/// and `components.headers` are replaced by what they point to, and those sections are dropped
/// (progenitor resolves none of them everywhere, and an error response behind a `$ref` makes it
/// assert). A Reference Object's `description`/`summary` override the target's, as in 3.1. A
/// reference that does not resolve, or a cycle, is refused with its pointer.
pub fn inline_component_refs(doc: &mut Value) -> Result<()> {
    let sections: Map<String, Value> = doc
        .pointer("/components")
        .and_then(Value::as_object)
        .map(|c| {
            c.iter()
                .filter(|(k, _)| INLINED_SECTIONS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    let lookup = |reference: &str| -> Option<Value> {
        let rest = reference.strip_prefix("#/components/")?;
        let (section, name) = rest.split_once('/')?;
        if !INLINED_SECTIONS.contains(&section) {
            return None;
        }
        let name = name.replace("~1", "/").replace("~0", "~");
        sections.get(section)?.get(&name).cloned()
    };
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    for (path, item) in paths.iter_mut() {
        let item_ptr = format!("/paths/{}", escape(path));
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        if let Some(params) = item.get_mut("parameters") {
            inline_list(params, &format!("{item_ptr}/parameters"), &lookup)?;
        }
        for method in HTTP_METHODS {
            let Some(op) = item.get_mut(*method) else {
                continue;
            };
            let op_ptr = format!("{item_ptr}/{method}");
            if let Some(params) = op.get_mut("parameters") {
                inline_list(params, &format!("{op_ptr}/parameters"), &lookup)?;
            }
            if let Some(body) = op.get_mut("requestBody") {
                inline_one(body, &format!("{op_ptr}/requestBody"), &lookup)?;
            }
            if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
                for (status, response) in responses.iter_mut() {
                    let r_ptr = format!("{op_ptr}/responses/{}", escape(status));
                    inline_one(response, &r_ptr, &lookup)?;
                    if let Some(headers) =
                        response.get_mut("headers").and_then(Value::as_object_mut)
                    {
                        for (name, header) in headers.iter_mut() {
                            inline_one(
                                header,
                                &format!("{r_ptr}/headers/{}", escape(name)),
                                &lookup,
                            )?;
                        }
                    }
                }
            }
        }
    }
    if let Some(components) = doc.get_mut("components").and_then(Value::as_object_mut) {
        components.retain(|k, _| !INLINED_SECTIONS.contains(&k.as_str()));
    }
    Ok(())
}

fn inline_list(list: &mut Value, ptr: &str, lookup: &impl Fn(&str) -> Option<Value>) -> Result<()> {
    let Some(items) = list.as_array_mut() else {
        return fail(ptr, "parameters must be a list");
    };
    for (i, item) in items.iter_mut().enumerate() {
        inline_one(item, &format!("{ptr}/{i}"), lookup)?;
    }
    Ok(())
}

/// Replaces a Reference Object by its target (following chains), keeping the reference's
/// `description` and `summary`.
fn inline_one(
    holder: &mut Value,
    ptr: &str,
    lookup: &impl Fn(&str) -> Option<Value>,
) -> Result<()> {
    let mut seen = Vec::new();
    while let Some(reference) = holder.get("$ref").and_then(Value::as_str).map(String::from) {
        if !reference.starts_with("#/components/") || reference.starts_with("#/components/schemas/")
        {
            return fail(
                ptr,
                format!("`{reference}` is not a reference this place can hold"),
            );
        }
        if seen.contains(&reference) {
            return fail(ptr, format!("a reference cycle through `{reference}`"));
        }
        let Some(mut target) = lookup(&reference) else {
            return fail(ptr, format!("`{reference}` does not resolve"));
        };
        let Some(target_obj) = target.as_object_mut() else {
            return fail(
                ptr,
                format!("`{reference}` points to something that is not an object"),
            );
        };
        for key in ["description", "summary"] {
            if let Some(v) = holder.get(key) {
                target_obj.insert(key.into(), v.clone());
            }
        }
        seen.push(reference);
        *holder = target;
    }
    Ok(())
}

/// Rule: parameters declared on a path item apply to each of its operations (an operation's own
/// parameter of the same name and location wins) and move there; progenitor and the rules after
/// this one read an operation's parameters only.
pub fn path_item_parameters(doc: &mut Value) -> Result<()> {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    for (path, item) in paths.iter_mut() {
        let ptr = format!("/paths/{}/parameters", escape(path));
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        let Some(shared) = item.remove("parameters") else {
            continue;
        };
        let Some(shared) = shared.as_array() else {
            return fail(&ptr, "parameters must be a list");
        };
        for method in HTTP_METHODS {
            let Some(op) = item.get_mut(*method).and_then(Value::as_object_mut) else {
                continue;
            };
            let own = op.entry("parameters").or_insert_with(|| json!([]));
            let Some(own) = own.as_array_mut() else {
                return fail(
                    &format!("/paths/{}/{method}/parameters", escape(path)),
                    "parameters must be a list",
                );
            };
            let key = |p: &Value| (p.get("name").cloned(), p.get("in").cloned());
            let mut merged: Vec<Value> = shared
                .iter()
                .filter(|p| !own.iter().any(|o| key(o) == key(p)))
                .cloned()
                .collect();
            merged.append(own);
            *own = merged;
        }
    }
    Ok(())
}

/// Rule: every operation has an `operationId` (it names the client method). An operation the
/// overlay identified carries the SDK's name in `x-deck-name`, which becomes its `operationId`
/// (Deck's own, if it differs, stays in `x-deck-operation-id`); one with neither is named from
/// its method and path (`GET /agents/{agent_id}/tasks` → `getAgentsByAgentIdTasks`). Two
/// operations with one name are refused.
pub fn operation_ids(doc: &mut Value) -> Result<()> {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    let mut taken: Map<String, Value> = Map::new();
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for method in HTTP_METHODS {
            let Some(op) = item.get_mut(*method).and_then(Value::as_object_mut) else {
                continue;
            };
            let ptr = format!("/paths/{}/{method}", escape(path));
            let given = op
                .get("operationId")
                .and_then(Value::as_str)
                .map(String::from);
            let name = match (op.remove("x-deck-name"), &given) {
                (Some(Value::String(sdk)), _) => {
                    if given.as_deref() != Some(sdk.as_str())
                        && let Some(deck) = &given
                    {
                        op.insert("x-deck-operation-id".into(), json!(deck));
                    }
                    sdk
                }
                (Some(other), _) => {
                    return fail(
                        &format!("{ptr}/x-deck-name"),
                        format!("`{other}` is not a name"),
                    );
                }
                (None, Some(given)) => given.clone(),
                (None, None) => derived_operation_id(method, path),
            };
            if let Some(other) = taken.get(&name) {
                return fail(
                    &format!("{ptr}/operationId"),
                    format!("`{name}` also names the operation at {other}"),
                );
            }
            taken.insert(name.clone(), json!(ptr));
            op.insert("operationId".into(), json!(name));
        }
    }
    Ok(())
}

/// `get` `/agents/{agent_id}/tasks` → `getAgentsByAgentIdTasks`.
pub fn derived_operation_id(method: &str, path: &str) -> String {
    let mut name = method.to_ascii_lowercase();
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(param) => {
                name.push_str("By");
                name.push_str(&pascal(param));
            }
            None => name.push_str(&pascal(segment)),
        }
    }
    name
}

/// Rule: path parameters take the SDK's names. The overlay pins them per operation
/// (`x-deck-path-params`: the names in template order), so a path parameter Deck renames keeps
/// its setter (the URL is the same: path parameters are positional). The template and the
/// parameter objects are renamed together. A list that does not fit the template (another count)
/// is left unapplied and reported in the returned notes; so is a path item whose operations
/// disagree.
pub fn path_parameter_names(doc: &mut Value, notes: &mut Vec<String>) -> Result<()> {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    let mut renamed_paths: Vec<(String, String)> = Vec::new();
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        let template = template_params(path);
        let mut wanted: Option<Vec<String>> = None;
        let mut agree = true;
        for method in HTTP_METHODS {
            let Some(op) = item.get_mut(*method).and_then(Value::as_object_mut) else {
                continue;
            };
            let Some(names) = op.remove("x-deck-path-params") else {
                continue;
            };
            let names: Vec<String> = names
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|n| n.as_str().map(String::from))
                .collect();
            if names.len() != template.len() {
                notes.push(format!(
                    "path parameter names {names:?} for {} {path} not applied: the path has {} parameter(s)",
                    method.to_ascii_uppercase(),
                    template.len()
                ));
                agree = false;
                continue;
            }
            match &wanted {
                Some(w) if *w != names => agree = false,
                _ => wanted = Some(names),
            }
        }
        let had_names = wanted.is_some();
        let Some(names) = wanted.filter(|w| agree && *w != template) else {
            if !agree && had_names {
                notes.push(format!(
                    "path parameter names for {path} not applied: its operations disagree"
                ));
            }
            continue;
        };
        for method in HTTP_METHODS {
            let Some(params) = item
                .get_mut(*method)
                .and_then(|op| op.get_mut("parameters"))
                .and_then(Value::as_array_mut)
            else {
                continue;
            };
            for param in params.iter_mut() {
                if param.get("in").and_then(Value::as_str) != Some("path") {
                    continue;
                }
                let Some(i) = template
                    .iter()
                    .position(|t| Some(t.as_str()) == param.get("name").and_then(Value::as_str))
                else {
                    continue;
                };
                param["name"] = json!(names[i]);
            }
        }
        let mut new_path = String::new();
        let mut rest = path.as_str();
        let mut i = 0;
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}') else {
                break;
            };
            new_path.push_str(&rest[..open]);
            new_path.push_str(&format!("{{{}}}", names[i]));
            i += 1;
            rest = &rest[open + close + 1..];
        }
        new_path.push_str(rest);
        renamed_paths.push((path.clone(), new_path));
    }
    for (old, new) in renamed_paths {
        if paths.contains_key(&new) {
            notes.push(format!(
                "path parameter names for {old} not applied: {new} exists"
            ));
            continue;
        }
        if let Some(item) = paths.remove(&old) {
            paths.insert(new, item);
        }
    }
    Ok(())
}

/// Rule: a path's template parameters and its operations' path parameters are the same set
/// (progenitor cannot build a URL otherwise, and stops): each `{name}` is declared `in: path`,
/// and each declared path parameter appears in the template. Refused with the operation's
/// pointer otherwise.
pub fn path_parameters_match_template(doc: &Value) -> Result<()> {
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return Ok(());
    };
    for (path, item) in paths {
        let template = template_params(path);
        for method in HTTP_METHODS {
            let Some(op) = item.get(*method) else {
                continue;
            };
            let ptr = format!("/paths/{}/{method}", escape(path));
            let declared: Vec<&str> = op
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|p| p.get("in").and_then(Value::as_str) == Some("path"))
                .filter_map(|p| p.get("name").and_then(Value::as_str))
                .collect();
            if let Some(missing) = template.iter().find(|t| !declared.contains(&t.as_str())) {
                return fail(
                    &ptr,
                    format!("path parameter `{missing}` of `{path}` is not declared"),
                );
            }
            if let Some(extra) = declared.iter().find(|d| !template.iter().any(|t| t == *d)) {
                return fail(&ptr, format!("path parameter `{extra}` is not in `{path}`"));
            }
        }
    }
    Ok(())
}

/// The parameter names of a path template, in order.
pub fn template_params(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        out.push(rest[open + 1..open + close].to_string());
        rest = &rest[open + close + 1..];
    }
    out
}

/// The shape of a path with its parameter names blanked (`/agents/{agent_id}` → `/agents/{}`):
/// what stays the same when Deck renames a path parameter.
pub fn path_shape(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        out.push_str(&rest[..=open]);
        out.push('}');
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_references_are_inlined_and_the_sections_dropped() {
        let mut doc = json!({
            "paths": {"/a/{id}": {
                "parameters": [{"$ref": "#/components/parameters/Id"}],
                "post": {
                    "requestBody": {"$ref": "#/components/requestBodies/Body", "description": "mine"},
                    "responses": {"404": {"$ref": "#/components/responses/NotFound"}}
                }
            }},
            "components": {
                "parameters": {"Id": {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}},
                "requestBodies": {"Body": {"description": "theirs", "content": {}}},
                "responses": {"NotFound": {"$ref": "#/components/responses/Missing"}, "Missing": {"description": "nf"}},
                "schemas": {}
            }
        });
        inline_component_refs(&mut doc).unwrap();
        assert_eq!(doc["paths"]["/a/{id}"]["parameters"][0]["name"], "id");
        assert_eq!(
            doc["paths"]["/a/{id}"]["post"]["requestBody"]["description"],
            "mine"
        );
        assert_eq!(
            doc["paths"]["/a/{id}"]["post"]["responses"]["404"],
            json!({"description": "nf"})
        );
        assert_eq!(doc["components"], json!({"schemas": {}}));

        let mut dangling = json!({"paths": {"/a": {"get": {"parameters": [{"$ref": "#/components/parameters/Gone"}]}}}});
        let err = inline_component_refs(&mut dangling).unwrap_err();
        assert_eq!(err.pointer, "/paths/~1a/get/parameters/0");
        let mut cycle = json!({"paths": {"/a": {"get": {"responses": {"200": {"$ref": "#/components/responses/A"}}}}},
            "components": {"responses": {"A": {"$ref": "#/components/responses/A"}}}});
        assert!(
            inline_component_refs(&mut cycle)
                .unwrap_err()
                .message
                .contains("cycle")
        );
    }

    #[test]
    fn path_item_parameters_move_to_each_operation_and_the_operations_win() {
        let mut doc = json!({"paths": {"/a/{id}": {
            "parameters": [{"name": "id", "in": "path", "description": "shared"}, {"name": "q", "in": "query"}],
            "get": {"parameters": [{"name": "q", "in": "query", "description": "own"}]},
            "delete": {}
        }}});
        path_item_parameters(&mut doc).unwrap();
        let item = &doc["paths"]["/a/{id}"];
        assert!(item.get("parameters").is_none());
        assert_eq!(
            item["get"]["parameters"],
            json!([{"name": "id", "in": "path", "description": "shared"}, {"name": "q", "in": "query", "description": "own"}])
        );
        assert_eq!(item["delete"]["parameters"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn operation_ids_take_the_sdk_name_or_are_derived() {
        let mut doc = json!({"paths": {
            "/agents/{agent_id}/tasks": {"get": {}, "post": {"operationId": "AgentTasks_Create", "x-deck-name": "createAgentTask"}},
            "/test": {"get": {"operationId": "testApiKey"}}
        }});
        operation_ids(&mut doc).unwrap();
        let item = &doc["paths"]["/agents/{agent_id}/tasks"];
        assert_eq!(item["get"]["operationId"], "getAgentsByAgentIdTasks");
        assert_eq!(item["post"]["operationId"], "createAgentTask");
        assert_eq!(item["post"]["x-deck-operation-id"], "AgentTasks_Create");
        assert_eq!(doc["paths"]["/test"]["get"]["operationId"], "testApiKey");
        let mut twice =
            json!({"paths": {"/a": {"get": {"operationId": "x"}, "post": {"operationId": "x"}}}});
        assert_eq!(
            operation_ids(&mut twice).unwrap_err().pointer,
            "/paths/~1a/post/operationId"
        );
    }

    #[test]
    fn path_parameters_take_the_pinned_names_with_the_template() {
        let mut doc = json!({"paths": {"/agents/{id}": {
            "get": {"x-deck-path-params": ["agent_id"], "parameters": [{"name": "id", "in": "path"}, {"name": "id", "in": "query"}]},
            "delete": {"x-deck-path-params": ["agent_id"], "parameters": [{"name": "id", "in": "path"}]}
        }, "/b/{x}": {"get": {"x-deck-path-params": ["a", "b"], "parameters": [{"name": "x", "in": "path"}]}}}});
        let mut notes = Vec::new();
        path_parameter_names(&mut doc, &mut notes).unwrap();
        let item = &doc["paths"]["/agents/{agent_id}"];
        assert_eq!(
            item["get"]["parameters"],
            json!([{"name": "agent_id", "in": "path"}, {"name": "id", "in": "query"}])
        );
        assert_eq!(item["delete"]["parameters"][0]["name"], "agent_id");
        assert!(doc["paths"].get("/b/{x}").is_some());
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("/b/{x}"), "{notes:?}");
    }

    #[test]
    fn path_parameters_must_match_the_template() {
        let ok =
            json!({"paths": {"/a/{id}": {"get": {"parameters": [{"name": "id", "in": "path"}]}}}});
        path_parameters_match_template(&ok).unwrap();
        let missing = json!({"paths": {"/a/{id}": {"get": {"parameters": []}}}});
        assert_eq!(
            path_parameters_match_template(&missing)
                .unwrap_err()
                .pointer,
            "/paths/~1a~1{id}/get"
        );
        let extra =
            json!({"paths": {"/a": {"get": {"parameters": [{"name": "id", "in": "path"}]}}}});
        assert!(
            path_parameters_match_template(&extra)
                .unwrap_err()
                .message
                .contains("not in")
        );
    }

    #[test]
    fn path_shapes_blank_parameter_names() {
        assert_eq!(
            path_shape("/agents/{agent_id}/tasks/{task_id}"),
            "/agents/{}/tasks/{}"
        );
        assert_eq!(template_params("/a/{x}/b/{y}"), ["x", "y"]);
        assert_eq!(
            derived_operation_id("POST", "/task-runs/{run_id}/cancel"),
            "postTaskRunsByRunIdCancel"
        );
    }
}
