//! The OpenAPI 3.1 description of the whole API, generated from the route tables the functions
//! export, so a route cannot exist without being described (a test checks the reverse).

use nanoshop_api::Access;
use serde_json::{Map, Value, json};

/// Every function's routes, by function name.
pub fn routes() -> Vec<(&'static str, &'static [nanoshop_api::Route])> {
    vec![
        (nanoshop_catalog::FUNCTION, nanoshop_catalog::ROUTES),
        (nanoshop_cart::FUNCTION, nanoshop_cart::ROUTES),
        (nanoshop_checkout::FUNCTION, nanoshop_checkout::ROUTES),
        (nanoshop_payments_webhook::FUNCTION, nanoshop_payments_webhook::ROUTES),
        (nanoshop_orders::FUNCTION, nanoshop_orders::ROUTES),
    ]
}

/// The security requirements of a route: alternatives are separate requirement objects, `{}`
/// is anonymous access.
fn security(access: Access) -> Value {
    match access {
        Access::Anyone => json!([{}, {"bearer": []}]),
        Access::Customer | Access::Admin | Access::CustomerOrAdmin | Access::OwnerOrAdmin => json!([{"bearer": []}]),
        Access::CartTokenOrOwner => json!([{"cartToken": []}, {"bearer": []}]),
        Access::OrderOwnerTokenOrAdmin => json!([{"orderToken": []}, {"bearer": []}]),
        Access::StripeSignature => json!([{"stripeSignature": []}]),
    }
}

/// The document served at `/openapi.json` and printed by `nanoshop openapi`.
pub fn document() -> Value {
    let mut paths = Map::new();
    for (function, routes) in routes() {
        for route in routes {
            let parameters: Vec<Value> = route
                .path
                .split('/')
                .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
                .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
                .collect();
            let mut operation = json!({
                "operationId": format!("{}_{}", route.method.to_lowercase(), route.path.trim_matches('/').replace(['/', '{', '}'], "_")),
                "summary": route.summary,
                "tags": [function],
                "parameters": parameters,
                "x-nanoshop-function": function,
                "x-nanoshop-access": format!("{:?}", route.access),
                "responses": {
                    "default": {"description": "An RFC 9457 problem", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
                }
            });
            operation["security"] = security(route.access);
            let entry = paths.entry(route.path.to_owned()).or_insert_with(|| json!({}));
            entry[route.method.to_lowercase()] = operation;
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "nanoshop", "version": env!("CARGO_PKG_VERSION"), "description": "The nanoshop REST API (API.md, contract v1)."},
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "cartToken": {"type": "apiKey", "in": "header", "name": "X-Cart-Token"},
                "orderToken": {"type": "apiKey", "in": "header", "name": "X-Order-Token"},
                "stripeSignature": {"type": "apiKey", "in": "header", "name": "Stripe-Signature"}
            },
            "schemas": {
                "Problem": {
                    "type": "object",
                    "required": ["type", "title", "status", "code", "request_id"],
                    "properties": {
                        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                        "detail": {"type": "string"}, "code": {"type": "string"}, "request_id": {"type": "string"},
                        "errors": {"type": "array", "items": {"type": "object", "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}}
                    }
                },
                "Money": {"type": "object", "required": ["amount", "currency"], "properties": {"amount": {"type": "integer"}, "currency": {"type": "string", "pattern": "^[A-Z]{3}$"}}}
            }
        }
    })
}
