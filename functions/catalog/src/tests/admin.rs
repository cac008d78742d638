//! The catalog's other resources: categories, inventory, settings and discount codes.

use axum::http::StatusCode;
use nanoshop_api::testing::TestRequest;
use serde_json::json;

use super::catalog;

#[tokio::test]
async fn categories_are_created_then_replaced_and_form_a_tree() {
    let catalog = catalog();
    let admin = catalog.auth.admin();
    let created = TestRequest::put("/categories/apparel")
        .bearer(&admin)
        .json(&json!({"name": "Apparel"}))
        .send(&catalog.app)
        .await;
    created.assert_status(StatusCode::CREATED);
    let child = json!({"name": "Shirts", "parent": "apparel"});
    TestRequest::put("/categories/shirts")
        .bearer(&admin)
        .json(&child)
        .send(&catalog.app)
        .await
        .assert_status(StatusCode::CREATED);
    let renamed = TestRequest::put("/categories/apparel")
        .bearer(&admin)
        .json(&json!({"name": "Clothes"}))
        .send(&catalog.app)
        .await;
    assert_eq!(renamed.assert_status(StatusCode::OK)["name"], "Clothes");

    let tree = TestRequest::get("/categories").send(&catalog.app).await;
    let tree = tree.assert_status(StatusCode::OK);
    assert!(tree.to_string().contains("\"shirts\""), "{tree}");
    let orphan = TestRequest::put("/categories/mugs")
        .bearer(&admin)
        .json(&json!({"name": "Mugs", "parent": "nowhere"}))
        .send(&catalog.app)
        .await;
    orphan.assert_field_error("validation_failed", "parent");
}

#[tokio::test]
async fn stock_of_a_known_sku_is_set_and_read_by_admins_and_never_negative() {
    let catalog = catalog();
    let admin = catalog.auth.admin();
    let unknown =
        TestRequest::put("/inventory/LS-S").bearer(&admin).json(&json!({"on_hand": 12})).send(&catalog.app).await;
    unknown.assert_problem(StatusCode::NOT_FOUND, "not_found");
    catalog.create(&super::products::product("ls", "active")).await;
    let set = TestRequest::put("/inventory/LS-S").bearer(&admin).json(&json!({"on_hand": 12})).send(&catalog.app).await;
    assert_eq!(
        *set.assert_status(StatusCode::OK),
        json!({"sku": "LS-S", "on_hand": 12, "reserved": 0, "available": 12})
    );
    let read = TestRequest::get("/inventory/LS-S").bearer(&admin).send(&catalog.app).await;
    assert_eq!(read.assert_status(StatusCode::OK)["available"], 12);
    let negative =
        TestRequest::put("/inventory/LS-S").bearer(&admin).json(&json!({"on_hand": -1})).send(&catalog.app).await;
    negative.assert_field_error("validation_failed", "on_hand");
    let stale = TestRequest::put("/inventory/LS-S")
        .bearer(&admin)
        .header("if-match", "\"0\"")
        .json(&json!({"on_hand": 3}))
        .send(&catalog.app)
        .await;
    stale.assert_problem(StatusCode::PRECONDITION_FAILED, "version_conflict");
    // A count out of range is named before the stale version or an unknown SKU.
    for (sku, if_match) in [("LS-S", "\"0\""), ("NO-SUCH", "\"1\"")] {
        let both = TestRequest::put(format!("/inventory/{sku}"))
            .bearer(&admin)
            .header("if-match", if_match)
            .json(&json!({"on_hand": -1}))
            .send(&catalog.app)
            .await;
        both.assert_field_error("validation_failed", "on_hand");
    }
}

#[tokio::test]
async fn settings_show_their_public_part_to_everyone_and_all_to_admins() {
    let catalog = catalog();
    let admin = catalog.auth.admin();
    let body = json!({
        "currencies": ["EUR", "USD"], "prices_include_tax": true,
        "tax_rates": [{"country": "DE", "rate": "0.19"}],
        "shipping_zones": [{"name": "EU", "countries": ["DE", "FR"], "methods": [
            {"id": "standard", "name": "Standard", "prices": [{"amount": 490, "currency": "EUR"}], "free_over": []}]}]
    });
    let put = TestRequest::put("/settings").bearer(&admin).json(&body).send(&catalog.app).await;
    put.assert_status(StatusCode::OK);
    let public = TestRequest::get("/settings").send(&catalog.app).await;
    assert_eq!(public.assert_status(StatusCode::OK)["countries"], json!(["DE", "FR"]));
    assert!(public.body.get("tax_rates").is_none(), "{}", public.body);
    let full = TestRequest::get("/settings").bearer(&admin).send(&catalog.app).await;
    assert_eq!(full.assert_status(StatusCode::OK)["tax_rates"][0]["rate"], "0.19");

    let stale =
        TestRequest::put("/settings").bearer(&admin).header("if-match", "\"0\"").json(&body).send(&catalog.app).await;
    stale.assert_problem(StatusCode::PRECONDITION_FAILED, "version_conflict");
    let no_currency = TestRequest::put("/settings")
        .bearer(&admin)
        .json(&json!({"currencies": [], "prices_include_tax": true, "tax_rates": [], "shipping_zones": []}))
        .send(&catalog.app)
        .await;
    no_currency.assert_field_error("validation_failed", "currencies");
}

#[tokio::test]
async fn the_mail_fields_of_settings_are_kept_normalised_and_bad_ones_write_nothing() {
    let catalog = catalog();
    let admin = catalog.auth.admin();
    let base = json!({"currencies": ["EUR"], "prices_include_tax": true});
    let with = |fields: serde_json::Value| {
        let mut body = base.clone();
        body.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
        body
    };
    let unset = TestRequest::get("/settings").bearer(&admin).send(&catalog.app).await;
    assert_eq!(unset.assert_status(StatusCode::OK)["locale"], "en-US");
    assert_eq!(unset.body["store_name"], json!(null));

    let body = with(json!({"store_name": " Kaffeehaus ", "store_address": "Hauptstraße 1\n\n 10115 Berlin \n",
        "reply_to": "Hilfe@Kaffeehaus.example", "locale": "de-DE"}));
    let put = TestRequest::put("/settings").bearer(&admin).json(&body).send(&catalog.app).await;
    let saved = put.assert_status(StatusCode::OK);
    assert_eq!(
        (&saved["store_name"], &saved["store_address"], &saved["reply_to"], &saved["locale"]),
        (
            &json!("Kaffeehaus"),
            &json!("Hauptstraße 1\n10115 Berlin"),
            &json!("hilfe@kaffeehaus.example"),
            &json!("de-DE")
        )
    );
    let public = TestRequest::get("/settings").send(&catalog.app).await;
    assert!(public.assert_status(StatusCode::OK).get("reply_to").is_none(), "{}", public.body);

    for (bad, field) in [
        (json!({"locale": "pt-BR"}), "locale"),
        (json!({"locale": "de_DE"}), "locale"),
        (json!({"locale": "de-de"}), "locale"),
        (json!({"reply_to": "  "}), "reply_to"),
        (json!({"reply_to": " hilfe@kaffeehaus.example"}), "reply_to"),
        (json!({"reply_to": "hilfe@käffeehaus.example"}), "reply_to"),
        (json!({"store_name": "Kaffeehaus\r"}), "store_name"),
        (json!({"store_name": format!("Kaffeehaus{}", " ".repeat(100))}), "store_name"),
        (json!({"store_address": "1\n\n\n\n\n\n7"}), "store_address"),
        (json!({"reply_to": "not an address"}), "reply_to"),
        (json!({"store_name": "Kaffee\nhaus"}), "store_name"),
        (json!({"store_name": "x".repeat(101)}), "store_name"),
        (json!({"store_address": "1\n2\n3\n4\n5\n6\n7"}), "store_address"),
        (json!({"store_address": "a".repeat(301)}), "store_address"),
    ] {
        let refused = TestRequest::put("/settings").bearer(&admin).json(&with(bad)).send(&catalog.app).await;
        refused.assert_field_error("validation_failed", field);
    }
    let kept = TestRequest::get("/settings").bearer(&admin).send(&catalog.app).await;
    assert_eq!(kept.assert_status(StatusCode::OK)["version"], saved["version"]);
    assert_eq!(kept.body["store_name"], "Kaffeehaus");

    // A form's empty fields are "not set".
    let blank = with(json!({"store_name": "", "store_address": "  ", "reply_to": "", "locale": null}));
    let cleared = TestRequest::put("/settings").bearer(&admin).json(&blank).send(&catalog.app).await;
    let cleared = cleared.assert_status(StatusCode::OK);
    assert_eq!(
        (&cleared["store_name"], &cleared["reply_to"], &cleared["locale"]),
        (&json!(null), &json!(null), &json!("en-US"))
    );
}

#[tokio::test]
async fn discount_codes_are_created_listed_read_and_patched_once_per_code() {
    let catalog = catalog();
    let admin = catalog.auth.admin();
    let body = json!({"code": "spring10", "kind": "percentage", "percentage": "0.10"});
    let created = TestRequest::post("/discounts").bearer(&admin).json(&body).send(&catalog.app).await;
    let id = created.assert_status(StatusCode::CREATED)["id"].as_str().unwrap().to_owned();
    assert_eq!(created.body["code"], "SPRING10");
    let again = TestRequest::post("/discounts").bearer(&admin).json(&body).send(&catalog.app).await;
    again.assert_problem(StatusCode::CONFLICT, "code_taken");

    let listed = TestRequest::get("/discounts").bearer(&admin).send(&catalog.app).await;
    assert_eq!(listed.assert_status(StatusCode::OK)["items"][0]["id"], id);
    let path = format!("/discounts/{id}");
    TestRequest::get(&path).bearer(&admin).send(&catalog.app).await.assert_status(StatusCode::OK);
    let patched = TestRequest::patch(&path).bearer(&admin).json(&json!({"active": false})).send(&catalog.app).await;
    assert_eq!(patched.assert_status(StatusCode::OK)["active"], false);
    let unknown =
        TestRequest::get("/discounts/disc_01JF8Z3Q6V1N2K4M5P7R9T0W2X").bearer(&admin).send(&catalog.app).await;
    unknown.assert_problem(StatusCode::NOT_FOUND, "not_found");
    let no_percentage = TestRequest::post("/discounts")
        .bearer(&admin)
        .json(&json!({"code": "HALF", "kind": "percentage"}))
        .send(&catalog.app)
        .await;
    no_percentage.assert_field_error("validation_failed", "percentage");
}
