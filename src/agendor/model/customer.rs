//! Customer records: organizations (PJ, with a CNPJ) and people (PF, with a CPF).

use serde_json::Value;

use super::CustomFields;
use crate::agendor::lenient::{self, Object, field};

/// A CPF or CNPJ as Agendor sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentValue {
    /// Null, absent, or blank text.
    Missing,
    /// Text, trimmed but otherwise as sent (masked or digits only).
    Text(String),
    /// Any other JSON value, as raw JSON. A number keeps its digits and is never
    /// zero-padded, because leading zeros it lost cannot be known.
    NotText(String),
}

/// A postal code (CEP) as Agendor sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostalCodeValue {
    /// Text, trimmed.
    Text(String),
    /// A JSON number, with its digits as received (leading zeros already lost).
    Number(String),
}

/// Contact channels of a customer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contact {
    pub email: Option<String>,
    pub work: Option<String>,
    pub mobile: Option<String>,
    pub whatsapp: Option<String>,
}

/// Postal address of a customer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Address {
    pub postal_code: Option<PostalCodeValue>,
    pub street_name: Option<String>,
    pub street_number: Option<String>,
    pub additional_info: Option<String>,
    pub district: Option<String>,
    pub city: Option<String>,
    /// State (UF), as sent.
    pub state: Option<String>,
}

/// An organization (empresa) from `/organizations/{id}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Organization {
    pub id: i64,
    /// Trade name (nome fantasia).
    pub name: Option<String>,
    /// Legal name (razão social).
    pub legal_name: Option<String>,
    pub cnpj: DocumentValue,
    pub contact: Contact,
    pub address: Address,
    pub custom_fields: CustomFields,
}

/// A person (pessoa) from `/people/{id}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub id: i64,
    pub name: Option<String>,
    pub cpf: DocumentValue,
    pub contact: Contact,
    pub address: Address,
    pub custom_fields: CustomFields,
}

impl Organization {
    /// Builds an organization from the `data` object of `/organizations/{id}`.
    pub fn from_json(value: &Value) -> Result<Organization, String> {
        let (object, id) = record(value, "organization")?;

        Ok(Organization {
            id,
            name: lenient::text(field(object, &["name"])),
            legal_name: lenient::text(field(object, &["legalName", "legal_name"])),
            cnpj: DocumentValue::from_json(field(object, &["cnpj"])),
            contact: Contact::from_record(object),
            address: Address::from_record(object),
            custom_fields: CustomFields::from_record(object),
        })
    }
}

impl Person {
    /// Builds a person from the `data` object of `/people/{id}`.
    pub fn from_json(value: &Value) -> Result<Person, String> {
        let (object, id) = record(value, "person")?;

        Ok(Person {
            id,
            name: lenient::text(field(object, &["name"])),
            cpf: DocumentValue::from_json(field(object, &["cpf"])),
            contact: Contact::from_record(object),
            address: Address::from_record(object),
            custom_fields: CustomFields::from_record(object),
        })
    }
}

fn record<'a>(value: &'a Value, kind: &str) -> Result<(&'a Object, i64), String> {
    let Some(object) = value.as_object() else {
        return Err(format!(
            "the {kind} is not a JSON object: {}",
            lenient::quote(value)
        ));
    };

    match lenient::id(object.get("id")) {
        Some(id) => Ok((object, id)),
        None => Err(format!(
            "the {kind} has an invalid `id`: {}",
            lenient::quote_field(object.get("id"))
        )),
    }
}

impl DocumentValue {
    fn from_json(value: Option<&Value>) -> DocumentValue {
        match value {
            None => DocumentValue::Missing,
            Some(Value::String(text)) => DocumentValue::Text(text.trim().to_string()),
            Some(other) => DocumentValue::NotText(other.to_string()),
        }
    }
}

impl PostalCodeValue {
    fn from_json(value: Option<&Value>) -> Option<PostalCodeValue> {
        match value? {
            Value::String(text) => Some(PostalCodeValue::Text(text.trim().to_string())),
            Value::Number(number) => Some(PostalCodeValue::Number(number.to_string())),
            _ => None,
        }
    }
}

impl Contact {
    fn from_record(record: &Object) -> Contact {
        let Some(contact) = field(record, &["contact"]).and_then(Value::as_object) else {
            return Contact::default();
        };
        let read = |key: &str| lenient::text(field(contact, &[key]));

        Contact {
            email: read("email"),
            work: read("work"),
            mobile: read("mobile"),
            whatsapp: read("whatsapp"),
        }
    }
}

impl Address {
    fn from_record(record: &Object) -> Address {
        let Some(address) = field(record, &["address"]).and_then(Value::as_object) else {
            return Address::default();
        };
        let read = |keys: &[&str]| lenient::text(field(address, keys));

        Address {
            postal_code: PostalCodeValue::from_json(field(address, &["postalCode", "postal_code"])),
            street_name: read(&["streetName", "street_name"]),
            street_number: read(&["streetNumber", "street_number"]),
            additional_info: read(&["additionalInfo", "additional_info"]),
            district: read(&["district"]),
            city: lenient::name(field(address, &["city"]), &["name"]),
            state: lenient::name(field(address, &["state"]), &["abbr", "uf", "name"]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Value {
        serde_json::from_str(raw).expect("test JSON is valid")
    }

    #[test]
    fn organization_reads_example_record() {
        let raw = r#"{
            "id": 23517322, "name": "Metalúrgica Horizonte Azul",
            "legalName": "Horizonte Azul Indústria Metalúrgica Ltda", "cnpj": "47285163000121",
            "contact": {"email": "compras@example.com", "work": "(11) 3000-0101", "mobile": null, "whatsapp": 5511900000101},
            "address": {"postalCode": "09000-000", "state": "SP", "city": "Santo André", "district": "Centro",
                        "streetName": "Rua das Oficinas", "streetNumber": "1200", "additionalInfo": "Galpão 3"},
            "customFields": {"inscricao_estadual": "123.456.789.110"}
        }"#;
        let organization = Organization::from_json(&parse(raw)).expect("valid organization");

        assert_eq!(organization.id, 23517322);
        assert_eq!(
            organization.legal_name.as_deref(),
            Some("Horizonte Azul Indústria Metalúrgica Ltda")
        );
        assert_eq!(
            organization.cnpj,
            DocumentValue::Text("47285163000121".into())
        );
        assert_eq!(
            organization.contact.email.as_deref(),
            Some("compras@example.com")
        );
        assert_eq!(organization.contact.mobile, None);
        assert_eq!(
            organization.contact.whatsapp.as_deref(),
            Some("5511900000101")
        );
        assert_eq!(
            organization.address.postal_code,
            Some(PostalCodeValue::Text("09000-000".into()))
        );
        assert_eq!(organization.address.street_number.as_deref(), Some("1200"));
        assert_eq!(
            organization.address.additional_info.as_deref(),
            Some("Galpão 3")
        );
        assert_eq!(
            organization
                .custom_fields
                .text("inscricao_estadual")
                .as_deref(),
            Some("123.456.789.110")
        );
    }

    #[test]
    fn documents_keep_shape_as_sent() {
        let cases = [
            (
                r#"{"id": 1, "cpf": " 705.318.246-08 "}"#,
                DocumentValue::Text("705.318.246-08".into()),
            ),
            (
                r#"{"id": 1, "cpf": 7053182460}"#,
                DocumentValue::NotText("7053182460".into()),
            ),
            (
                r#"{"id": 1, "cpf": {"number": "1"}}"#,
                DocumentValue::NotText(r#"{"number":"1"}"#.into()),
            ),
            (r#"{"id": 1, "cpf": null}"#, DocumentValue::Missing),
            (r#"{"id": 1, "cpf": "  "}"#, DocumentValue::Missing),
            (r#"{"id": 1}"#, DocumentValue::Missing),
        ];

        for (raw, expected) in cases {
            let person = Person::from_json(&parse(raw)).expect(raw);
            assert_eq!(person.cpf, expected, "input {raw}");
        }
    }

    #[test]
    fn address_accepts_both_key_casings() {
        let camel = r#"{"id": 1, "address": {"postalCode": "22000-000", "streetName": "Rua Exemplo",
            "streetNumber": 45, "additionalInfo": "apto 302", "district": "Botafogo",
            "city": "Rio de Janeiro", "state": "RJ"}}"#;
        let snake = r#"{"id": 1, "address": {"postal_code": "22000-000", "street_name": "Rua Exemplo",
            "street_number": "45", "additional_info": "apto 302", "district": "Botafogo",
            "city": {"id": 3304557, "name": "Rio de Janeiro"}, "state": {"abbr": "RJ"}}}"#;
        let expected = Address {
            postal_code: Some(PostalCodeValue::Text("22000-000".into())),
            street_name: Some("Rua Exemplo".into()),
            street_number: Some("45".into()),
            additional_info: Some("apto 302".into()),
            district: Some("Botafogo".into()),
            city: Some("Rio de Janeiro".into()),
            state: Some("RJ".into()),
        };

        for raw in [camel, snake] {
            let person = Person::from_json(&parse(raw)).expect(raw);
            assert_eq!(person.address, expected, "input {raw}");
        }
    }

    #[test]
    fn address_edge_values() {
        let raw = r#"{"id": 1, "address": {"postalCode": 1310100, "city": 3550308, "streetName": "", "state": null}}"#;
        let address = Person::from_json(&parse(raw))
            .expect("valid person")
            .address;

        assert_eq!(
            address.postal_code,
            Some(PostalCodeValue::Number("1310100".into()))
        );
        assert_eq!(address.city, None);
        assert_eq!(address.street_name, None);
        assert_eq!(address.state, None);
    }

    #[test]
    fn missing_address_and_contact_are_empty() {
        for raw in [
            r#"{"id": 1}"#,
            r#"{"id": 1, "address": null, "contact": null}"#,
            r#"{"id": 1, "address": [], "contact": "x"}"#,
        ] {
            let person = Person::from_json(&parse(raw)).expect(raw);
            assert_eq!(person.address, Address::default(), "input {raw}");
            assert_eq!(person.contact, Contact::default(), "input {raw}");
        }
    }

    #[test]
    fn records_without_valid_id_are_rejected() {
        for raw in ["[]", r#"{"name": "x"}"#, r#"{"id": "x"}"#] {
            let error = Organization::from_json(&parse(raw)).expect_err(raw);
            assert!(error.contains("organization"), "error {error}");
        }
    }
}
