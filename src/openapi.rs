//! The OpenAPI 3.1 description of the whole API, generated from the route tables the functions
//! export and the Rust types those tables name, so it cannot drift from what the handlers read and
//! write (a test checks every route is served and described; the e2e suite validates every
//! response it sees against this document).
//!
//! Schemas come from [`schemars`], not utoipa: schemars derives plain JSON Schema 2020-12, which
//! is what OpenAPI 3.1 uses, follows every serde attribute the types carry (`rename`, `tag`,
//! `flatten`, `try_from`/`into`, `skip_serializing_if`, `deny_unknown_fields`) and generates a
//! type once for what it deserializes and once for what it serializes (its `Contract`), so a
//! request body is described by what the handler accepts and a response by what it writes. Its
//! runtime is a small library (no I/O); the path, parameter and security objects are built here
//! from each [`nanoshop_api::Route`], which is where utoipa would have needed a second, parallel
//! description of every route in attribute macros.

use std::collections::{BTreeMap, BTreeSet};

use nanoshop_api::{Access, Credential, Header, Problem, Route};
use schemars::SchemaGenerator;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

const SCHEMAS: &str = "#/components/schemas/";

/// Every function's routes, by function name.
pub fn routes() -> Vec<(&'static str, &'static [Route])> {
    vec![
        (nanoshop_catalog::FUNCTION, nanoshop_catalog::ROUTES),
        (nanoshop_cart::FUNCTION, nanoshop_cart::ROUTES),
        (nanoshop_checkout::FUNCTION, nanoshop_checkout::ROUTES),
        (nanoshop_payments_webhook::FUNCTION, nanoshop_payments_webhook::ROUTES),
        (nanoshop_orders::FUNCTION, nanoshop_orders::ROUTES),
        (nanoshop_customers::FUNCTION, nanoshop_customers::ROUTES),
    ]
}

/// The path under which the document lists a route: routes whose paths differ only in the names
/// of their parameters (`GET /products/{id_or_slug}`, `PATCH /products/{id}`) are one path item, named
/// as the first route of that shape names it (OpenAPI forbids two paths of one shape).
pub fn document_path(path: &str) -> String {
    fn shape(p: &str) -> Vec<&str> {
        p.split('/').map(|seg| if seg.starts_with('{') { "{}" } else { seg }).collect()
    }
    routes()
        .into_iter()
        .flat_map(|(_, routes)| routes.iter())
        .map(|route| route.path)
        .find(|candidate| shape(candidate) == shape(path))
        .unwrap_or(path)
        .to_owned()
}

/// The security requirements of a route: alternatives are separate requirement objects, `{}`
/// is anonymous access.
fn security(access: Access) -> Value {
    let requirement = |proofs: &[Credential]| {
        // One requirement object holds the schemes needed together.
        let schemes = proofs.iter().map(|proof| (security_scheme(*proof).to_owned(), json!([])));
        Value::Object(schemes.collect())
    };
    Value::Array(access.credentials().iter().map(|proofs| requirement(proofs)).collect())
}

/// The name of a credential's security scheme in `components.securitySchemes`.
fn security_scheme(credential: Credential) -> &'static str {
    match credential {
        Credential::Bearer => "bearer",
        Credential::CartToken => "cartToken",
        Credential::OrderToken => "orderToken",
        Credential::StripeSignature => "stripeSignature",
    }
}

/// The errors a route answers because of who may call it.
fn access_errors(access: Access) -> &'static [(u16, &'static [&'static str])] {
    match access {
        Access::StripeSignature => &[],
        Access::Anyone
        | Access::Customer
        | Access::CartTokenOrOwner
        | Access::CustomerAndCartToken
        | Access::OrderOwnerTokenOrAdmin => &[(401, &["unauthorized"])],
        Access::Admin | Access::CustomerOrAdmin | Access::OwnerOrAdmin => {
            &[(401, &["unauthorized"]), (403, &["forbidden"])]
        }
    }
}

/// Errors every route answers (docs/api.md, "Errors").
const EVERY_ROUTE: &[(u16, &[&str])] =
    &[(400, &["invalid_query"]), (404, &["not_found"]), (500, &["internal_error"]), (503, &["service_unavailable"])];
/// Errors of every route that reads a JSON body.
const JSON_BODY: &[(u16, &[&str])] = &[
    (400, &["malformed_json"]),
    (413, &["payload_too_large"]),
    (415, &["unsupported_media_type"]),
    (422, &["invalid_body"]),
];
const PAGED: &[(u16, &[&str])] = &[(400, &["invalid_limit", "invalid_cursor"])];
const IF_MATCH: &[(u16, &[&str])] = &[(400, &["invalid_if_match"]), (412, &["version_conflict"])];
const IDEMPOTENT: &[(u16, &[&str])] = &[
    (400, &["idempotency_key_required", "invalid_idempotency_key"]),
    (409, &["request_in_progress", "replay_unavailable"]),
    (422, &["idempotency_key_reused"]),
];

fn settings() -> SchemaSettings {
    SchemaSettings::draft2020_12().with(|s| {
        s.definitions_path = "/components/schemas".into();
        s.meta_schema = None;
    })
}

/// The document served at `/openapi.json` and printed by `nanoshop openapi`.
pub fn document() -> Value {
    // What handlers read is described by the types as they deserialize, what they answer as
    // they serialize; the two sets of components are merged below.
    let mut reads = settings().for_deserialize().into_generator();
    let mut writes = settings().for_serialize().into_generator();
    let problem = writes.subschema_for::<Problem<'static>>().to_value();
    let mut query_types = BTreeSet::new();
    let mut operations = Vec::new();
    for (function, routes) in routes() {
        for route in routes {
            operations.push((
                function,
                route,
                operation(function, route, &mut reads, &mut writes, &problem, &mut query_types),
            ));
        }
    }
    let mut read_defs = reads.take_definitions(true);
    for name in &query_types {
        read_defs.remove(name);
    }
    let write_defs = writes.take_definitions(true);
    let (mut schemas, renamed) = merge(write_defs, read_defs);
    let mut paths = Map::new();
    for (_, route, mut operation) in operations {
        if let Some(body) = operation.pointer_mut("/requestBody/content/application~1json/schema") {
            rename_refs(body, &renamed);
        }
        let entry = paths.entry(document_path(route.path)).or_insert_with(|| json!({}));
        entry[route.method.to_lowercase()] = operation;
    }
    for schema in schemas.values_mut() {
        strict(schema);
    }
    schemas.insert("Problem".into(), {
        let mut p = resolve(&problem, &schemas).clone();
        strict(&mut p);
        p
    });
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "nanoshop",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The nanoshop REST API. The human reference is docs/api.md in the repository.",
            "license": {"name": env!("CARGO_PKG_LICENSE"), "identifier": env!("CARGO_PKG_LICENSE")}
        },
        // Relative to wherever the document is served from: the same origin as the API.
        "servers": [{"url": "/", "description": "The origin serving this document"}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                    "description": "A customer's or an admin's JWT (admins: the groups claim holds `admin`)."},
                "cartToken": {"type": "apiKey", "in": "header", "name": "X-Cart-Token",
                    "description": "A guest cart's capability, returned once by `POST /carts`."},
                "orderToken": {"type": "apiKey", "in": "header", "name": "X-Order-Token",
                    "description": "A guest order's capability, returned by `POST /checkout`."},
                "stripeSignature": {"type": "apiKey", "in": "header", "name": "Stripe-Signature",
                    "description": "Stripe's signature over the raw body with the webhook secret."}
            },
            "schemas": schemas
        }
    })
}

/// The OpenAPI operation of one route.
fn operation(
    function: &str,
    route: &Route,
    reads: &mut SchemaGenerator,
    writes: &mut SchemaGenerator,
    problem: &Value,
    query_types: &mut BTreeSet<String>,
) -> Value {
    fn names(path: &str) -> Vec<String> {
        path.split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(str::to_owned)
            .collect()
    }
    let mut parameters: Vec<Value> = names(&document_path(route.path))
        .into_iter()
        .zip(names(route.path))
        .map(|(name, own)| {
            let mut parameter = json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}});
            if name != own {
                parameter["description"] = json!(format!(
                    "For this operation: the `{own}` (the path is shared with operations that name it otherwise)."
                ));
            }
            parameter
        })
        .collect();
    let mut errors: BTreeMap<u16, BTreeSet<&str>> = BTreeMap::new();
    let mut add = |list: &[(u16, &[&'static str])]| {
        for (status, codes) in list {
            errors.entry(*status).or_default().extend(codes.iter().copied());
        }
    };
    add(EVERY_ROUTE);
    add(access_errors(route.access));
    add(route.errors);
    if route.body.is_some() {
        add(JSON_BODY);
    }
    for query in route.query {
        let reference = query(reads).to_value();
        let name = ref_name(&reference).unwrap_or_default().to_owned();
        let schema = reads.definitions().get(&name).cloned().unwrap_or(reference);
        query_types.insert(name);
        let required: BTreeSet<&str> =
            schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        for (field, field_schema) in schema["properties"].as_object().into_iter().flatten() {
            if field == "limit" || field == "cursor" {
                add(PAGED);
            }
            let mut field_schema = field_schema.clone();
            not_null(&mut field_schema);
            let description = field_schema.as_object_mut().and_then(|o| o.remove("description"));
            let mut parameter = json!({"name": field, "in": "query", "required": required.contains(field.as_str()), "schema": field_schema});
            if let Some(description) = description {
                parameter["description"] = description;
            }
            parameters.push(parameter);
        }
    }
    let mut ok_headers = Map::new();
    for header in route.headers {
        match header {
            Header::IdempotencyKey => {
                add(IDEMPOTENT);
                parameters.push(json!({
                    "name": "Idempotency-Key", "in": "header", "required": true,
                    "description": "1-255 visible ASCII characters; the same key replays the first answer.",
                    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$"}
                }));
            }
            Header::IfMatch => {
                add(IF_MATCH);
                parameters.push(json!({
                    "name": "If-Match", "in": "header", "required": false,
                    "description": "The `ETag` the change is based on (`\"3\"`, `3`, `W/\"3\"`) or `*`.",
                    "schema": {"type": "string", "pattern": "^(\\*|(W/)?\"[0-9]{1,19}\"|[0-9]{1,19})$"}
                }));
            }
            Header::ETag => {
                ok_headers.insert(
                    "ETag".into(),
                    json!({"description": "The resource's version, for `If-Match`.", "schema": {"type": "string"}}),
                );
            }
            Header::Location => {}
        }
    }
    let mut responses = Map::new();
    for (status, body) in route.ok {
        let mut response = json!({"description": reason(*status)});
        let mut headers = ok_headers.clone();
        if *status == 201 && route.headers.contains(&Header::Location) {
            headers.insert(
                "Location".into(),
                json!({"description": "Where the new resource is.", "schema": {"type": "string"}}),
            );
        }
        if let Some(body) = body {
            response["content"] = json!({"application/json": {"schema": body(writes).to_value()}});
        }
        if !headers.is_empty() {
            response["headers"] = Value::Object(headers);
        }
        responses.insert(status.to_string(), response);
    }
    for (status, codes) in &errors {
        let mut response = json!({
            "description": format!("{}: `{}`", reason(*status), codes.iter().copied().collect::<Vec<_>>().join("`, `")),
            "content": {"application/problem+json": {"schema": {
                "allOf": [problem],
                "properties": {"code": {"enum": codes}}
            }}}
        });
        match status {
            401 => {
                response["headers"] = json!({"WWW-Authenticate": {"schema": {"type": "string"}}});
            }
            429 | 503 => {
                response["headers"] = json!({"Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "string"}}});
            }
            _ => {}
        }
        responses.insert(status.to_string(), response);
    }
    let mut operation = json!({
        "operationId": format!("{}_{}", route.method.to_lowercase(), route.path.trim_matches('/').replace(['/', '{', '}'], "_")),
        "summary": route.summary,
        "tags": [function],
        "parameters": parameters,
        "security": security(route.access),
        "x-nanoshop-function": function,
        "x-nanoshop-access": format!("{:?}", route.access),
        "responses": responses,
    });
    if let Some(body) = route.body {
        operation["requestBody"] =
            json!({"required": true, "content": {"application/json": {"schema": body(reads).to_value()}}});
    }
    operation
}

fn reason(status: u16) -> &'static str {
    axum::http::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("Response")
}

fn ref_name(schema: &Value) -> Option<&str> {
    schema.get("$ref")?.as_str()?.strip_prefix(SCHEMAS)
}

fn resolve<'a>(schema: &'a Value, schemas: &'a Map<String, Value>) -> &'a Value {
    ref_name(schema).and_then(|name| schemas.get(name)).unwrap_or(schema)
}

/// The components of both contracts in one set: a type that reads as it writes is described once
/// (so `Money` is one schema); one that differs keeps its written form under its name and its
/// read form under `<name>Input`. Answers the renamings of read forms.
fn merge(writes: Map<String, Value>, reads: Map<String, Value>) -> (Map<String, Value>, BTreeMap<String, String>) {
    let mut renamed = BTreeMap::new();
    // A read schema equal to its written twin is shared, unless it refers to a schema that was
    // renamed: then it is renamed too, or its request bodies would point at the written twin of
    // what they refer to. Renaming one can require renaming another, so this runs to a fixpoint.
    loop {
        let before = renamed.len();
        for (name, schema) in &reads {
            let Some(written) = writes.get(name) else { continue };
            if !renamed.contains_key(name) && (!strict_eq(written, schema) || refers_to_any(schema, &renamed)) {
                renamed.insert(name.clone(), format!("{name}Input"));
            }
        }
        if renamed.len() == before {
            break;
        }
    }
    let mut schemas = writes;
    for (name, mut schema) in reads {
        rename_refs(&mut schema, &renamed);
        match renamed.get(&name) {
            Some(new) => {
                schemas.insert(new.clone(), schema);
            }
            None => {
                schemas.entry(name).or_insert(schema);
            }
        }
    }
    (schemas, renamed)
}

/// Whether `schema` has a `$ref` to one of the `renamed` components.
fn refers_to_any(schema: &Value, renamed: &BTreeMap<String, String>) -> bool {
    match schema {
        Value::Object(map) => map.iter().any(|(key, value)| {
            if key == "$ref" {
                value.as_str().and_then(|r| r.strip_prefix(SCHEMAS)).is_some_and(|n| renamed.contains_key(n))
            } else {
                refers_to_any(value, renamed)
            }
        }),
        Value::Array(items) => items.iter().any(|v| refers_to_any(v, renamed)),
        _ => false,
    }
}

fn strict_eq(a: &Value, b: &Value) -> bool {
    let (mut a, mut b) = (a.clone(), b.clone());
    strict(&mut a);
    strict(&mut b);
    a == b
}

fn rename_refs(schema: &mut Value, renamed: &BTreeMap<String, String>) {
    match schema {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                if key == "$ref"
                    && let Some(new) = value.as_str().and_then(|r| r.strip_prefix(SCHEMAS)).and_then(|n| renamed.get(n))
                {
                    *value = Value::String(format!("{SCHEMAS}{new}"));
                } else {
                    rename_refs(value, renamed);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rename_refs(v, renamed)),
        _ => {}
    }
}

/// Every object schema that lists its properties admits no others, unless it says otherwise:
/// a field the server starts sending (or stops accepting) without the document saying so is
/// then a validation failure, not a silent drift. Every unsigned integer says its maximum.
fn strict(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            if map.contains_key("properties")
                && !map.contains_key("additionalProperties")
                && !map.contains_key("unevaluatedProperties")
            {
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            // schemars says `"format": "uint32", "minimum": 0` for a u32; the bound serde enforces
            // is part of the contract too, or a larger count reads as valid and is refused.
            let bound = match map.get("format").and_then(Value::as_str) {
                Some("uint8") => Some(u64::from(u8::MAX)),
                Some("uint16") => Some(u64::from(u16::MAX)),
                Some("uint32") => Some(u64::from(u32::MAX)),
                Some("uint64") => Some(u64::MAX),
                _ => None,
            };
            if let Some(bound) = bound
                && !map.contains_key("maximum")
            {
                map.insert("maximum".into(), Value::from(bound));
            }
            for (key, value) in map.iter_mut() {
                // `properties` maps names to schemas; a property named like a keyword is no keyword.
                // A condition (`if`/`then`/`else`) constrains the properties its object lists
                // and admits the rest: it stays open.
                if matches!(key.as_str(), "if" | "then" | "else") {
                    continue;
                }
                if key == "properties" {
                    value.as_object_mut().into_iter().flatten().for_each(|(_, v)| strict(v));
                } else {
                    strict(value);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strict),
        _ => {}
    }
}

/// A query parameter is absent or a string, never JSON `null`.
fn not_null(schema: &mut Value) {
    if let Some(types) = schema.get_mut("type").and_then(Value::as_array_mut) {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            schema["type"] = types[0].clone();
        }
    }
    if let Some(any_of) = schema.get_mut("anyOf").and_then(Value::as_array_mut) {
        any_of.retain(|s| s.get("type").is_none_or(|t| t != "null"));
    }
}
