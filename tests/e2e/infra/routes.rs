//! API Gateway: every declared route reaches its function, with the authorizer where its `Access`
//! says every caller carries a JWT; throttles and CORS.

use std::collections::{BTreeMap, BTreeSet};

use nanoshop_api::Access;
use serde_json::{Value, json};

use super::template::{Template, one_or_many};
use super::{FUNCTIONS, function_id, pascal, shape, swappable};

#[test]
fn every_route_reaches_its_function_and_only_jwt_only_routes_have_the_authorizer() {
    let template = Template::load();
    let authorizer = template.single_id_of("AWS::ApiGatewayV2::Authorizer");

    // What the crates declare: (method, path shape) → (function, path, access).
    let mut declared = BTreeMap::new();
    for function in FUNCTIONS {
        for route in function.routes {
            assert!(route.path.starts_with('/'), "{} route `{}` must start with `/`", function.bin, route.path);
            let key = (route.method.to_owned(), shape(route.path));
            if let Some((other, ..)) = declared.insert(key, (function.bin, route.path, route.access)) {
                panic!("{} {} is declared by both {other} and {}", route.method, route.path, function.bin);
            }
        }
    }

    // Which function each integration reaches.
    let mut integrations = BTreeMap::new();
    for function in FUNCTIONS.iter().filter(|f| !f.routes.is_empty()) {
        let name = pascal(function.bin);
        let id = format!("{name}Integration");
        let integration = template.resource(&id);
        assert_eq!(integration["Type"], "AWS::ApiGatewayV2::Integration", "{id}");
        let props = &integration["Properties"];
        assert_eq!(props["ApiId"], json!({"Ref": "HttpApi"}), "{id} ApiId");
        assert_eq!(props["IntegrationType"], "AWS_PROXY", "{id}");
        assert_eq!(props["PayloadFormatVersion"], "2.0", "{id}: lambda_http expects payload format 2.0");
        assert_eq!(
            props["IntegrationUri"],
            swappable(&name, json!({"Fn::GetAtt": [function_id(function.bin), "Arn"]}))
        );
        integrations.insert(id, function.bin);
    }
    let stray: Vec<_> = template
        .resources_of("AWS::ApiGatewayV2::Integration")
        .filter(|(id, _)| !integrations.contains_key(*id))
        .collect();
    assert!(stray.is_empty(), "integrations of no function: {stray:?}");

    // What the template routes.
    let mut routed = BTreeMap::new();
    let mut names_at = BTreeMap::new();
    for (id, route) in template.resources_of("AWS::ApiGatewayV2::Route") {
        let props = &route["Properties"];
        assert_eq!(props["ApiId"], json!({"Ref": "HttpApi"}), "{id} ApiId");
        let key = props["RouteKey"].as_str().unwrap_or_else(|| panic!("{id} RouteKey"));
        let (method, path) =
            key.split_once(' ').unwrap_or_else(|| panic!("{id} RouteKey `{key}` is not `METHOD /path`"));
        assert!(path.starts_with('/') && (path == "/" || !path.ends_with('/')), "{id} path `{path}`");
        check_one_parameter_name_per_position(&mut names_at, path);
        let target = props["Target"]["Fn::Sub"]
            .as_str()
            .unwrap_or_else(|| panic!("{id} Target must be !Sub integrations/${{…}}"));
        let integration = target
            .strip_prefix("integrations/${")
            .and_then(|t| t.strip_suffix('}'))
            .unwrap_or_else(|| panic!("{id} Target `{target}`"));
        let bin = *integrations
            .get(integration)
            .unwrap_or_else(|| panic!("{id} targets {integration}, no function's integration"));
        let (declared_by, declared_path, access) = *declared
            .get(&(method.to_owned(), shape(path)))
            .unwrap_or_else(|| panic!("{id} routes {key}, which no crate's ROUTES declares"));
        assert_eq!(bin, declared_by, "{key} (ROUTES of {declared_by}: {declared_path}) is routed to {bin}");
        if access.requires_bearer() {
            assert_eq!(
                props["AuthorizationType"], "JWT",
                "{key} admits only JWT holders ({access:?}): use the authorizer"
            );
            assert_eq!(props["AuthorizerId"], json!({"Ref": authorizer}), "{key} AuthorizerId");
        } else {
            assert_eq!(props["AuthorizationType"], "NONE", "{key} admits {access:?}, who may carry no JWT");
            assert!(props.get("AuthorizerId").is_none(), "{key} must not have an authorizer");
        }
        assert!(routed.insert((method.to_owned(), shape(path)), id).is_none(), "{key} is routed twice");
    }
    let unrouted: Vec<_> = declared
        .iter()
        .filter(|(k, _)| !routed.contains_key(*k))
        .map(|((m, _), (f, p, _))| format!("{f}: {m} {p}"))
        .collect();
    assert!(unrouted.is_empty(), "declared in ROUTES but not in infra/template.yaml: {unrouted:#?}");
}

#[test]
fn the_jwt_authorizer_takes_issuer_and_audience_from_parameters() {
    let template = Template::load();
    let id = template.single_id_of("AWS::ApiGatewayV2::Authorizer");
    let props = &template.resource(id)["Properties"];
    assert_eq!(props["AuthorizerType"], "JWT");
    assert_eq!(props["ApiId"], json!({"Ref": "HttpApi"}));
    assert_eq!(props["IdentitySource"], json!(["$request.header.Authorization"]));
    let jwt = props["JwtConfiguration"].as_object().unwrap();
    let keys: BTreeSet<&str> = jwt.keys().map(String::as_str).collect();
    assert_eq!(keys, BTreeSet::from(["Audience", "Issuer"]), "JwtConfiguration keys");
    let parameter =
        |value: &Value| value["Ref"].as_str().filter(|p| template.0["Parameters"].get(*p).is_some()).map(str::to_owned);
    assert!(parameter(&jwt["Issuer"]).is_some(), "the issuer must be a template parameter, not {}", jwt["Issuer"]);
    let audience = jwt["Audience"].as_array().unwrap();
    assert!(audience.len() == 1 && parameter(&audience[0]).is_some(), "the audience must be a parameter");
}

#[test]
fn anonymous_write_routes_have_their_own_tighter_throttle() {
    let template = Template::load();
    let stage_id = template.single_id_of("AWS::ApiGatewayV2::Stage");
    let stage = template.resource(stage_id);
    let props = &stage["Properties"];
    let default = &props["DefaultRouteSettings"];
    let (rate, burst) =
        (template.number(&default["ThrottlingRateLimit"]), template.number(&default["ThrottlingBurstLimit"]));
    assert!(rate > 0 && burst >= rate, "{stage_id} DefaultRouteSettings: a rate and a burst at least as large");

    // The routes that make the store hold stock or reach Stripe, open to anyone: creating a cart,
    // changing one, checking out; and the changes to a customer's account, of which an erasure
    // rewrites every order of the customer.
    let writes: Vec<(String, String)> = FUNCTIONS
        .iter()
        .filter(|f| ["cart", "checkout", "customers"].contains(&f.bin))
        .flat_map(|f| f.routes)
        .filter(|r| r.method != "GET")
        .map(|r| (r.method.to_owned(), shape(r.path)))
        .collect();
    assert!(writes.len() >= 3, "cart and checkout declare their write routes: {writes:?}");
    let routes: BTreeMap<(String, String), (&String, &str)> = template
        .resources_of("AWS::ApiGatewayV2::Route")
        .map(|(id, r)| {
            let key = r["Properties"]["RouteKey"].as_str().unwrap();
            let (method, path) = key.split_once(' ').unwrap();
            ((method.to_owned(), shape(path)), (id, key))
        })
        .collect();
    let settings = props["RouteSettings"].as_object().unwrap_or_else(|| panic!("{stage_id} has no RouteSettings"));
    let depends = one_or_many(&stage["DependsOn"]);
    for write in &writes {
        let (route_id, key) = routes[write];
        let limits = settings.get(key).unwrap_or_else(|| panic!("{stage_id} RouteSettings: no throttle on {key}"));
        let (route_rate, route_burst) =
            (template.number(&limits["ThrottlingRateLimit"]), template.number(&limits["ThrottlingBurstLimit"]));
        assert!(route_rate > 0 && route_rate < rate, "{key}: rate {route_rate} must be below the stage's {rate}");
        assert!(route_burst > 0 && route_burst < burst, "{key}: burst {route_burst} must be below the stage's {burst}");
        assert!(
            depends.contains(&json!(route_id)),
            "{stage_id} must DependsOn {route_id}: API Gateway refuses settings for a route it does not have yet"
        );
    }
    let known: BTreeSet<&str> = routes.values().map(|(_, key)| *key).collect();
    for key in settings.keys() {
        assert!(known.contains(key.as_str()), "{stage_id} RouteSettings names {key}, which no route has");
    }
}

#[test]
fn allowed_origins_must_be_named_and_a_wildcard_is_refused() {
    let template = Template::load();
    let parameter = &template.0["Parameters"]["AllowedOrigins"];
    assert_eq!(parameter["Type"], "CommaDelimitedList");
    assert!(
        parameter.get("Default").is_none(),
        "AllowedOrigins must have no default: the merchant names the storefront"
    );
    let origins = |list: &[&str]| BTreeMap::from([("AllowedOrigins".to_owned(), json!(list))]);
    assert_eq!(template.refused_by_rules(&origins(&["https://shop.example"])), Vec::<String>::new());
    assert_eq!(
        template.refused_by_rules(&origins(&["https://shop.example", "https://admin.example"])),
        Vec::<String>::new()
    );
    for refused in [&["*"][..], &["https://shop.example", "*"], &[""]] {
        assert!(!template.refused_by_rules(&origins(refused)).is_empty(), "AllowedOrigins {refused:?} must be refused");
    }
    // Both places a browser's origin is checked use it.
    let api = template.resource(template.single_id_of("AWS::ApiGatewayV2::Api"));
    assert_eq!(api["Properties"]["CorsConfiguration"]["AllowOrigins"], json!({"Ref": "AllowedOrigins"}));
    let bucket = template.resource("ImageBucket");
    for rule in one_or_many(&bucket["Properties"]["CorsConfiguration"]["CorsRules"]) {
        assert_eq!(rule["AllowedOrigins"], json!({"Ref": "AllowedOrigins"}), "ImageBucket CORS");
    }
}

pub(super) fn check_one_parameter_name_per_position(seen: &mut BTreeMap<String, String>, path: &str) {
    let segments: Vec<&str> = path.split('/').collect();
    for (i, segment) in segments.iter().enumerate().filter(|(_, s)| s.starts_with('{')) {
        let position = shape(&segments[..=i].join("/"));
        let previous = seen.entry(position.clone()).or_insert_with(|| (*segment).to_owned());
        assert_eq!(previous, segment, "two parameter names at {position}: API Gateway takes one");
    }
}

#[test]
fn only_routes_whose_every_caller_carries_a_jwt_may_be_refused_without_one() {
    // Guests hold cart and order tokens, Stripe signs its webhooks, and "anyone" includes the
    // anonymous: API Gateway must let those through without a JWT.
    for access in Access::ALL {
        let expected = match access {
            Access::Anyone | Access::CartTokenOrOwner | Access::OrderOwnerTokenOrAdmin | Access::StripeSignature => {
                false
            }
            Access::Customer
            | Access::Admin
            | Access::CustomerAndCartToken
            | Access::CustomerOrAdmin
            | Access::OwnerOrAdmin => true,
        };
        assert_eq!(access.requires_bearer(), expected, "{access:?}");
    }
}
