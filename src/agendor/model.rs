//! Typed Agendor records built by hand from `serde_json::Value`.
//!
//! The conversions never use serde derive on number-bearing types: with serde_json's
//! `arbitrary_precision` feature, `untagged` and `flatten` buffer numbers wrongly, so
//! each field is read through the lenient accessors instead.

mod custom_fields;
mod customer;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;

use super::lenient::{self, Object, field};

pub use custom_fields::CustomFields;
pub use customer::{Address, Contact, DocumentValue, Organization, Person, PostalCodeValue};

/// `dealStatus.id` of a won deal (1 is ongoing, 3 is lost).
pub const WON_STATUS_ID: i64 = 2;

/// Deal page in the Agendor web app, used when a deal carries no `_webUrl`.
const DEAL_WEB_URL_PREFIX: &str = "https://web.agendor.com.br/sistema/negocios/historico.php?id=";

/// An `{id, name}` reference to another Agendor record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub id: i64,
    pub name: Option<String>,
}

/// A deal (negócio) as listed by `/deals/stream` or returned by `/deals/{id}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Deal {
    pub id: i64,
    pub title: Option<String>,
    pub description: Option<String>,
    /// `dealStatus.id` (1 ongoing, 2 won, 3 lost), or `None` when absent.
    pub status_id: Option<i64>,
    pub won_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub organization: Option<Reference>,
    pub person: Option<Reference>,
    /// Lines of `products_entities`, in the order Agendor sent them.
    pub products: Vec<ProductLine>,
    pub custom_fields: CustomFields,
    /// `_webUrl` exactly as Agendor sent it.
    pub web_url: Option<String>,
}

/// One product line of a deal.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductLine {
    pub product_id: Option<i64>,
    pub name: Option<String>,
    pub code: Option<String>,
    pub quantity: Decimal,
    pub unit_value: Decimal,
    /// Discount as Agendor sent it, 0 when absent.
    pub discount: Decimal,
    /// `totalValue` as sent, or `quantity * unit_value - discount` when absent.
    ///
    /// NOTE: that fallback assumes `discount` is an amount. Whether Agendor sends an
    /// amount or a percentage is unverified.
    pub total_value: Decimal,
}

/// A deal that cannot be read, with the reason. The other deals of its page are unaffected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {reason}", describe_deal(*.id))]
pub struct MalformedDeal {
    pub id: Option<i64>,
    pub reason: String,
}

fn describe_deal(id: Option<i64>) -> String {
    id.map_or_else(
        || "Agendor deal without a valid id".to_string(),
        |id| format!("Agendor deal {id}"),
    )
}

impl Deal {
    /// Builds a deal from one item of a deals response.
    ///
    /// Fails when the item is not an object, has no valid `id`, has an unparseable
    /// `wonAt`, or has product lines that cannot be read.
    pub fn from_json(value: &Value) -> Result<Deal, MalformedDeal> {
        let Some(object) = value.as_object() else {
            return Err(MalformedDeal {
                id: None,
                reason: format!("the deal is not a JSON object: {}", lenient::quote(value)),
            });
        };

        let Some(id) = lenient::id(object.get("id")) else {
            return Err(MalformedDeal {
                id: None,
                reason: format!("invalid `id`: {}", lenient::quote_field(object.get("id"))),
            });
        };
        let malformed = |reason: String| MalformedDeal {
            id: Some(id),
            reason,
        };

        let won_at = lenient::datetime(field(object, &["wonAt", "won_at"]), "wonAt");
        let products = product_lines(object);

        Ok(Deal {
            id,
            title: lenient::text(field(object, &["title"])),
            description: lenient::text(field(object, &["description"])),
            status_id: status_id(object),
            won_at: won_at.map_err(malformed)?,
            updated_at: updated_at(object),
            organization: reference(field(object, &["organization"])),
            person: reference(field(object, &["person"])),
            products: products.map_err(malformed)?,
            custom_fields: CustomFields::from_record(object),
            web_url: lenient::text(field(object, &["_webUrl", "webUrl", "web_url"])),
        })
    }

    /// Tells whether Agendor reports this deal as won (`dealStatus.id` 2).
    pub fn is_won(&self) -> bool {
        self.status_id == Some(WON_STATUS_ID)
    }

    /// Returns `_webUrl`, or the deal's page in the Agendor web app when it is absent.
    pub fn web_url_or_default(&self) -> String {
        match &self.web_url {
            Some(url) => url.clone(),
            None => format!("{DEAL_WEB_URL_PREFIX}{}", self.id),
        }
    }
}

/// Reads `dealStatus.id`, also accepting a bare status id or the older `dealStatusId` key.
fn status_id(object: &Object) -> Option<i64> {
    match field(object, &["dealStatus", "deal_status"]) {
        Some(Value::Object(status)) => lenient::id(status.get("id")),
        Some(bare) => lenient::id(Some(bare)),
        None => lenient::id(field(object, &["dealStatusId", "deal_status_id"])),
    }
}

/// Reads `updatedAt`. An unreadable value is logged and treated as absent.
fn updated_at(object: &Object) -> Option<DateTime<Utc>> {
    let value = field(object, &["updatedAt", "updated_at"]);
    lenient::datetime(value, "updatedAt").unwrap_or_else(|reason| {
        tracing::debug!(%reason, "ignoring unreadable updatedAt of an Agendor deal");
        None
    })
}

/// Reads an `{id, name}` reference or a bare id. Anything without a valid id is `None`.
fn reference(value: Option<&Value>) -> Option<Reference> {
    match value? {
        Value::Object(object) => Some(Reference {
            id: lenient::id(object.get("id"))?,
            name: lenient::text(field(object, &["name"])),
        }),
        bare => Some(Reference {
            id: lenient::id(Some(bare))?,
            name: None,
        }),
    }
}

fn product_lines(object: &Object) -> Result<Vec<ProductLine>, String> {
    let lines = match field(object, &["products_entities", "productsEntities"]) {
        None => return Ok(Vec::new()),
        Some(Value::Array(lines)) => lines,
        Some(other) => {
            return Err(format!(
                "`products_entities` is not an array: {}",
                lenient::quote(other)
            ));
        }
    };

    lines
        .iter()
        .enumerate()
        .map(|(index, line)| {
            ProductLine::from_json(line)
                .map_err(|reason| format!("product line {}: {reason}", index + 1))
        })
        .collect()
}

impl ProductLine {
    /// Builds a product line from one item of `products_entities`.
    ///
    /// `quantity` and `unitValue` are required. The product id is taken from
    /// `productId`, then a nested `product.id`, then the line's own `id`.
    pub fn from_json(value: &Value) -> Result<ProductLine, String> {
        let Some(object) = value.as_object() else {
            return Err(format!("not a JSON object: {}", lenient::quote(value)));
        };
        let product = field(object, &["product"]).and_then(Value::as_object);

        let quantity = required_decimal(object, &["quantity"], "quantity")?;
        let unit_value = required_decimal(object, &["unitValue", "unit_value"], "unitValue")?;
        let discount =
            lenient::decimal(field(object, &["discount"]), "discount")?.unwrap_or_default();
        let total_value =
            lenient::decimal(field(object, &["totalValue", "total_value"]), "totalValue")?;

        let total_value = match total_value {
            Some(total_value) => total_value,
            None => quantity
                .checked_mul(unit_value)
                .and_then(|gross| gross.checked_sub(discount))
                .ok_or_else(|| {
                    format!(
                        "`totalValue` is missing and quantity {quantity} × unitValue \
                         {unit_value} − discount {discount} overflows"
                    )
                })?,
        };

        Ok(ProductLine {
            product_id: product_id(object, product),
            name: text_here_or_in(object, product, "name"),
            code: text_here_or_in(object, product, "code"),
            quantity,
            unit_value,
            discount,
            total_value,
        })
    }
}

fn required_decimal(object: &Object, keys: &[&str], key: &str) -> Result<Decimal, String> {
    lenient::decimal(field(object, keys), key)?.ok_or_else(|| format!("`{key}` is missing"))
}

// NOTE: whether a line's own `id` is the catalogue product id or a line id is unverified,
// so the line `id` is only the last resort.
fn product_id(object: &Object, product: Option<&Object>) -> Option<i64> {
    lenient::id(field(object, &["productId", "product_id"]))
        .or_else(|| product.and_then(|product| lenient::id(product.get("id"))))
        .or_else(|| lenient::id(object.get("id")))
}

fn text_here_or_in(object: &Object, product: Option<&Object>, key: &str) -> Option<String> {
    lenient::text(field(object, &[key]))
        .or_else(|| product.and_then(|product| lenient::text(field(product, &[key]))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn parse(raw: &str) -> Value {
        serde_json::from_str(raw).expect("test JSON is valid")
    }

    fn decimal(text: &str) -> Decimal {
        Decimal::from_str(text).expect("test decimal is valid")
    }

    const WON_DEAL: &str = r#"{
        "id": 48210377,
        "title": " Pedido 2026/031 ",
        "description": "Fechado após visita técnica.",
        "dealStatus": {"id": 2, "name": "Ganho"},
        "organization": {"id": 23517322, "name": "Metalúrgica Horizonte Azul"},
        "person": null,
        "wonAt": "2026-03-04T17:42:08.000Z",
        "updatedAt": "2026-03-04T17:42:09.000Z",
        "products_entities": [
            {"id": 1411781, "quantity": 30, "unitValue": 480.10, "discount": 0, "totalValue": 14403.00},
            {"id": 1411785, "quantity": "1.5", "unit_value": "450"}
        ],
        "customFields": {"origem_do_negocio": {"id": 59538, "value": "Indicação"}},
        "_webUrl": "https://web.agendor.com.br/sistema/negocios/historico.php?id=48210377"
    }"#;

    #[test]
    fn deal_reads_example_fields() {
        let deal = Deal::from_json(&parse(WON_DEAL)).expect("valid deal");

        assert_eq!(deal.id, 48210377);
        assert_eq!(deal.title.as_deref(), Some("Pedido 2026/031"));
        assert!(deal.is_won());
        assert_eq!(
            deal.won_at.map(|at| at.to_rfc3339()),
            Some("2026-03-04T17:42:08+00:00".into())
        );
        assert!(deal.updated_at.is_some());
        assert_eq!(deal.organization.as_ref().map(|org| org.id), Some(23517322));
        assert_eq!(deal.person, None);
        assert_eq!(
            deal.custom_fields.text("origem_do_negocio").as_deref(),
            Some("Indicação")
        );
        assert_eq!(
            deal.web_url_or_default(),
            deal.web_url.clone().expect("web url")
        );
    }

    #[test]
    fn deal_product_lines_keep_exact_decimals() {
        let deal = Deal::from_json(&parse(WON_DEAL)).expect("valid deal");
        let [first, second] = deal.products.as_slice() else {
            panic!("expected two product lines, got {:?}", deal.products);
        };

        assert_eq!(first.product_id, Some(1411781));
        assert_eq!(first.unit_value.to_string(), "480.10");
        assert_eq!(first.total_value.to_string(), "14403.00");
        assert_eq!(second.quantity, decimal("1.5"));
        assert_eq!(second.unit_value, decimal("450"));
        assert_eq!(second.discount, Decimal::ZERO);
        assert_eq!(second.total_value, decimal("675.0"));
    }

    #[test]
    fn product_line_total_subtracts_discount() {
        let line = ProductLine::from_json(&parse(
            r#"{"quantity": 2, "unitValue": "10.50", "discount": 1}"#,
        ))
        .expect("valid line");

        assert_eq!(line.total_value, decimal("20.00"));
    }

    #[test]
    fn product_line_total_that_overflows_is_an_error() {
        let line = ProductLine::from_json(&parse(
            r#"{"quantity": "79228162514264337593543950335", "unitValue": 2}"#,
        ));

        let error = line.expect_err("the product overflows a decimal");
        assert!(error.contains("overflows"), "{error}");
    }

    #[test]
    fn product_line_reads_nested_product() {
        let raw = r#"{"id": 9, "quantity": 1, "unitValue": 1, "product": {"id": 77, "name": "Placa", "code": " PL-1 "}}"#;
        let line = ProductLine::from_json(&parse(raw)).expect("valid line");

        assert_eq!(line.product_id, Some(77));
        assert_eq!(line.name.as_deref(), Some("Placa"));
        assert_eq!(line.code.as_deref(), Some("PL-1"));
    }

    #[test]
    fn malformed_deals_name_reason() {
        let cases = [
            ("[]", None, "not a JSON object"),
            (r#"{"title": "x"}"#, None, "invalid `id`"),
            (r#"{"id": "abc"}"#, None, "invalid `id`"),
            (r#"{"id": 7, "wonAt": "ontem"}"#, Some(7), "`wonAt`"),
            (
                r#"{"id": 7, "products_entities": {}}"#,
                Some(7),
                "not an array",
            ),
            (
                r#"{"id": 7, "products_entities": [{"unitValue": 1}]}"#,
                Some(7),
                "`quantity` is missing",
            ),
            (
                r#"{"id": 7, "products_entities": [{"quantity": 1, "unitValue": "x"}]}"#,
                Some(7),
                "`unitValue`",
            ),
            (
                r#"{"id": 7, "products_entities": [{"quantity": 1, "unitValue": 1, "discount": "?"}]}"#,
                Some(7),
                "`discount`",
            ),
            (
                r#"{"id": 7, "products_entities": [3]}"#,
                Some(7),
                "product line 1",
            ),
        ];

        for (raw, id, reason) in cases {
            let error = Deal::from_json(&parse(raw)).expect_err(raw);
            assert_eq!(error.id, id, "id for {raw}");
            assert!(
                error.reason.contains(reason),
                "reason `{}` for {raw}",
                error.reason
            );
        }
    }

    #[test]
    fn deal_tolerates_missing_optional_fields() {
        let deal = Deal::from_json(&parse(r#"{"id": "15", "wonAt": "", "dealStatus": null}"#))
            .expect("valid deal");

        assert_eq!(deal.id, 15);
        assert_eq!(deal.status_id, None);
        assert!(!deal.is_won());
        assert_eq!(deal.won_at, None);
        assert!(deal.products.is_empty());
        assert_eq!(
            deal.web_url_or_default(),
            "https://web.agendor.com.br/sistema/negocios/historico.php?id=15"
        );
    }

    #[test]
    fn deal_status_accepts_other_shapes() {
        let cases = [
            (r#"{"id": 1, "dealStatus": {"id": "2"}}"#, Some(2)),
            (r#"{"id": 1, "deal_status": {"id": 3}}"#, Some(3)),
            (r#"{"id": 1, "dealStatus": 2}"#, Some(2)),
            (r#"{"id": 1, "dealStatusId": 1}"#, Some(1)),
            (r#"{"id": 1}"#, None),
        ];

        for (raw, expected) in cases {
            let deal = Deal::from_json(&parse(raw)).expect(raw);
            assert_eq!(deal.status_id, expected, "input {raw}");
        }
    }

    #[test]
    fn references_accept_objects_and_bare_ids() {
        let cases = [
            (r#"{"id": 5, "name": "Acme"}"#, Some((5, Some("Acme")))),
            (r#"{"id": "5"}"#, Some((5, None))),
            ("5", Some((5, None))),
            (r#"{"name": "Acme"}"#, None),
            ("null", None),
        ];

        for (raw, expected) in cases {
            let found = reference(Some(&parse(raw)));
            let found = found
                .as_ref()
                .map(|found| (found.id, found.name.as_deref()));
            assert_eq!(found, expected, "input {raw}");
        }
    }

    #[test]
    fn malformed_deal_display_names_id() {
        let with_id = MalformedDeal {
            id: Some(7),
            reason: "`quantity` is missing".into(),
        };
        let without_id = MalformedDeal {
            id: None,
            reason: "invalid `id`: absent".into(),
        };

        assert_eq!(with_id.to_string(), "Agendor deal 7: `quantity` is missing");
        assert_eq!(
            without_id.to_string(),
            "Agendor deal without a valid id: invalid `id`: absent"
        );
    }
}
