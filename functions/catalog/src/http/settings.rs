//! `/settings`: the public part for everyone, the whole document for admins.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use nanoshop_api::{Admin, Caller, IfMatch, Json, Result, etag};
use nanoshop_domain::email::Email;
use nanoshop_domain::locale::Locale;
use nanoshop_domain::settings::{
    CountryCode, MAX_STORE_ADDRESS, MAX_STORE_ADDRESS_LINES, MAX_STORE_NAME, ShippingMethod, ShippingZone,
    StoreSettings, TaxRate,
};
use nanoshop_domain::{Currency, ValidationErrors};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::CatalogState;
use nanoshop_api::bodies::MoneyHttpBody;

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaxRateHttpBody {
    /// Two upper-case letters, as `CountryCode` parses them.
    #[schemars(extend("pattern" = "^[A-Z]{2}$"))]
    pub country: String,
    #[serde(default)]
    pub region: Option<String>,
    /// A decimal string, `"0.19"` for 19 %: never a float.
    pub rate: String,
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShippingMethodHttpBody {
    pub id: String,
    pub name: String,
    pub prices: Vec<MoneyHttpBody>,
    #[serde(default)]
    pub free_over: Vec<MoneyHttpBody>,
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShippingZoneHttpBody {
    pub name: String,
    #[schemars(length(min = 1), extend("items" = {"type": "string", "pattern": "^[A-Z]{2}$"}))]
    pub countries: Vec<String>,
    #[schemars(length(min = 1, max = 20))]
    pub methods: Vec<ShippingMethodHttpBody>,
}

/// One line with no control character (`store_name`): what the domain's check admits.
const ONE_LINE: &str = "^[^\\x00-\\x1f\\x7f-\\x9f]*$";
/// At most six lines (`MAX_STORE_ADDRESS_LINES`) separated by line feeds, no other control
/// character but tab (`store_address`).
const SIX_LINES: &str = "^[^\\n\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*(\\n[^\\n\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*){0,5}$";
/// Empty (not set), or an address the domain's `Email` accepts, kept to printable ASCII (a
/// reply-to goes in a mail header) so the schema's character count is its byte count
/// (`MAX_EMAIL_LEN` is in bytes): no `@` before the first, a dot after it.
const EMAIL: &str = "^$|^[!-?A-~]+@[!-~]*\\.[!-~]*$";

/// The body of `PUT /settings`, and (with `version` and `countries`) what admins read.
#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsHttpBody {
    #[schemars(length(min = 1, max = 20), with = "Vec<nanoshop_domain::Currency>", extend("uniqueItems" = true))]
    pub currencies: Vec<String>,
    pub prices_include_tax: bool,
    #[serde(default)]
    pub tax_rates: Vec<TaxRateHttpBody>,
    #[serde(default)]
    pub shipping_zones: Vec<ShippingZoneHttpBody>,
    /// The store's name in its mails (sender name and heading). Absent, null or blank: not set, and
    /// the notifications function's `STORE_NAME` is used.
    #[serde(default)]
    #[schemars(length(max = 100), extend("pattern" = ONE_LINE))]
    pub store_name: Option<String>,
    /// The postal address in the mails' footer: up to 6 lines separated by `\n`, 300 characters.
    /// Absent, null or blank: `STORE_ADDRESS`.
    #[serde(default)]
    #[schemars(length(max = 300), extend("pattern" = SIX_LINES))]
    pub store_address: Option<String>,
    /// Where shoppers' replies to the mails go, in printable ASCII. Absent, null or `""`:
    /// `MAIL_REPLY_TO`.
    #[serde(default)]
    #[schemars(length(max = 254), extend("pattern" = EMAIL))]
    pub reply_to: Option<String>,
    /// How the mails write money and dates. Absent or null: `en-US`.
    #[serde(default)]
    #[schemars(with = "Option<Locale>")]
    pub locale: Option<String>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct PublicSettingsHttpResponse {
    pub currencies: Vec<String>,
    pub default_currency: String,
    pub countries: Vec<String>,
    pub prices_include_tax: bool,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct SettingsHttpResponse {
    #[serde(flatten)]
    pub settings: SettingsHttpBody,
    pub countries: Vec<String>,
    pub version: u64,
}

impl SettingsHttpBody {
    fn into_domain(self, version: u64) -> Result<StoreSettings, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let currencies = self
            .currencies
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                c.parse::<Currency>().map_err(|e| errors.add(format!("currencies[{i}]"), e.to_string())).ok()
            })
            .collect();
        let mut country =
            |field: String, code: &str| code.parse::<CountryCode>().map_err(|e| errors.add(field, e.to_string())).ok();
        let mut tax_rates = Vec::new();
        let mut bad_rates = Vec::new();
        for (i, t) in self.tax_rates.into_iter().enumerate() {
            let c = country(format!("tax_rates[{i}].country"), &t.country);
            match (c, t.rate.trim().parse::<Decimal>()) {
                (Some(country), Ok(rate)) => tax_rates.push(TaxRate { country, region: t.region, rate }),
                (_, Err(_)) => bad_rates.push(i),
                (None, Ok(_)) => {}
            }
        }
        let mut zones = Vec::new();
        for (z, zone) in self.shipping_zones.into_iter().enumerate() {
            let countries = zone
                .countries
                .iter()
                .enumerate()
                .filter_map(|(c, code)| country(format!("shipping_zones[{z}].countries[{c}]"), code))
                .collect();
            zones.push((z, zone.name, countries, zone.methods));
        }
        for i in bad_rates {
            errors.add(format!("tax_rates[{i}].rate"), "must be a decimal string such as \"0.19\"");
        }
        let shipping_zones = zones
            .into_iter()
            .map(|(z, name, countries, methods)| ShippingZone {
                name,
                countries,
                methods: methods
                    .into_iter()
                    .enumerate()
                    .map(|(m, method)| {
                        let at = format!("shipping_zones[{z}].methods[{m}]");
                        let money = |list: Vec<MoneyHttpBody>, field: &str, errors: &mut ValidationErrors| {
                            list.iter()
                                .enumerate()
                                .filter_map(|(i, p)| p.parse(&format!("{at}.{field}[{i}]"), errors))
                                .collect()
                        };
                        let prices = money(method.prices, "prices", &mut errors);
                        let free_over = money(method.free_over, "free_over", &mut errors);
                        ShippingMethod { id: method.id, name: method.name, prices, free_over }
                    })
                    .collect(),
            })
            .collect();
        // What the schema says, checked on the value as sent (before trimming), so nothing the
        // document refuses is accepted: length, line count, control characters.
        as_sent(&mut errors, "store_name", self.store_name.as_deref(), MAX_STORE_NAME, 1, &[]);
        as_sent(
            &mut errors,
            "store_address",
            self.store_address.as_deref(),
            MAX_STORE_ADDRESS,
            MAX_STORE_ADDRESS_LINES,
            &['\n', '\t'],
        );
        // A form sends its empty fields as "": that is "not set", like null.
        let filled = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let reply_to = match self.reply_to.as_deref() {
            None | Some("") => None,
            Some(r) if !r.bytes().all(|b| b.is_ascii_graphic()) => {
                errors.add("reply_to", "must be an e-mail address in printable ASCII, without spaces");
                None
            }
            Some(r) => r.parse::<Email>().map_err(|e| errors.add("reply_to", e.to_string())).ok(),
        };
        let locale = match self.locale {
            Some(l) => l.parse::<Locale>().map_err(|e| errors.add("locale", e.to_string())).unwrap_or_default(),
            None => Locale::default(),
        };
        let settings = StoreSettings {
            currencies,
            prices_include_tax: self.prices_include_tax,
            tax_rates,
            shipping_zones,
            store_name: filled(self.store_name),
            // Stored as its lines, trimmed, blank ones dropped: what the mails print.
            store_address: filled(self.store_address)
                .map(|a| a.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("\n")),
            reply_to,
            locale,
            version,
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        settings.validate()
    }

    fn of(s: &StoreSettings) -> Self {
        Self {
            currencies: s.currencies.iter().map(ToString::to_string).collect(),
            prices_include_tax: s.prices_include_tax,
            tax_rates: s
                .tax_rates
                .iter()
                .map(|t| TaxRateHttpBody {
                    country: t.country.to_string(),
                    region: t.region.clone(),
                    rate: t.rate.to_string(),
                })
                .collect(),
            shipping_zones: s
                .shipping_zones
                .iter()
                .map(|z| ShippingZoneHttpBody {
                    name: z.name.clone(),
                    countries: z.countries.iter().map(ToString::to_string).collect(),
                    methods: z
                        .methods
                        .iter()
                        .map(|m| ShippingMethodHttpBody {
                            id: m.id.clone(),
                            name: m.name.clone(),
                            prices: m.prices.iter().copied().map(MoneyHttpBody::from).collect(),
                            free_over: m.free_over.iter().copied().map(MoneyHttpBody::from).collect(),
                        })
                        .collect(),
                })
                .collect(),
            store_name: s.store_name.clone(),
            store_address: s.store_address.clone(),
            reply_to: s.reply_to.as_ref().map(ToString::to_string),
            locale: Some(s.locale.to_string()),
        }
    }
}

/// An optional text field as sent: at most `max` characters and `lines` lines, and no control
/// character but those `allowed`.
fn as_sent(
    errors: &mut ValidationErrors,
    field: &str,
    value: Option<&str>,
    max: usize,
    lines: usize,
    allowed: &[char],
) {
    let Some(value) = value else { return };
    if value.chars().count() > max {
        errors.add(field, format!("must be at most {max} characters"));
    } else if value.chars().any(|c| c.is_control() && !allowed.contains(&c)) {
        errors.add(
            field,
            if lines == 1 {
                "must be one line without control characters"
            } else {
                "must not contain control characters"
            },
        );
    } else if value.split('\n').count() > lines {
        errors.add(field, format!("at most {lines} lines"));
    }
}

fn full(s: &StoreSettings) -> Response {
    let body = SettingsHttpResponse {
        settings: SettingsHttpBody::of(s),
        countries: s.countries().iter().map(ToString::to_string).collect(),
        version: s.version,
    };
    ([etag(s.version)], Json(body)).into_response()
}

/// `GET /settings`: what a storefront needs; admins get the whole document.
pub async fn get(State(state): State<CatalogState>, caller: Caller) -> Result<Response> {
    let settings = state.repo.settings().await?;
    if caller.is_admin() {
        return Ok(full(&settings));
    }
    let body = PublicSettingsHttpResponse {
        currencies: settings.currencies.iter().map(ToString::to_string).collect(),
        default_currency: settings.currencies.first().map(ToString::to_string).unwrap_or_default(),
        countries: settings.countries().iter().map(ToString::to_string).collect(),
        prices_include_tax: settings.prices_include_tax,
    };
    Ok(Json(body).into_response())
}

/// `PUT /settings`: replaces the whole document.
pub async fn put(
    State(state): State<CatalogState>,
    _admin: Admin,
    if_match: IfMatch,
    Json(body): Json<SettingsHttpBody>,
) -> Result<Response> {
    let current = state.repo.settings().await?;
    if_match.check(current.version)?;
    let settings = body.into_domain(current.version + 1)?;
    state.repo.put_settings(&settings, current.version).await?;
    Ok(full(&settings))
}
