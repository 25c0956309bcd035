//! Custom field values of an Agendor record (`customFields`).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::agendor::lenient::{Object, field};
use crate::text::clean_text;

/// Keys under which an option object carries its label, in order of preference.
const LABEL_KEYS: [&str; 4] = ["value", "label", "name", "text"];

/// Custom field values keyed by the field key (e.g. `origem_do_negocio`), as Agendor sent them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomFields(BTreeMap<String, Value>);

impl CustomFields {
    /// Reads `customFields` (or `custom_fields`) of a record.
    ///
    /// An absent or null member gives no fields. So does an empty array, which some
    /// APIs send for an empty object. Any other non-object shape is logged and ignored.
    pub(crate) fn from_record(record: &Object) -> CustomFields {
        match field(record, &["customFields", "custom_fields"]) {
            None => CustomFields::default(),
            Some(Value::Object(values)) => CustomFields(values.clone().into_iter().collect()),
            Some(Value::Array(items)) if items.is_empty() => CustomFields::default(),
            Some(other) => {
                tracing::warn!(
                    shape = json_kind(other),
                    "ignoring Agendor customFields that is not an object"
                );
                CustomFields::default()
            }
        }
    }

    /// Returns the field's value as clean text (Unicode NFC, trimmed, inner whitespace collapsed).
    ///
    /// A string gives itself, an option object its label (`value`, else `label`, `name`
    /// or `text`), an array the labels of its items joined with ", ", a number its
    /// digits and a boolean "Sim" or "Não". Null, absent and blank values give `None`.
    pub fn text(&self, key: &str) -> Option<String> {
        value_text(self.0.get(key)?)
    }

    /// Returns the raw JSON value of a field.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    /// Iterates over the field keys and raw values, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.0.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<BTreeMap<String, Value>> for CustomFields {
    fn from(values: BTreeMap<String, Value>) -> Self {
        CustomFields(values)
    }
}

fn value_text(value: &Value) -> Option<String> {
    let text = match value {
        Value::Null => return None,
        Value::String(text) => clean_text(text),
        Value::Number(number) => number.to_string(),
        Value::Bool(true) => "Sim".to_string(),
        Value::Bool(false) => "Não".to_string(),
        Value::Object(option) => return value_text(field(option, &LABEL_KEYS)?),
        Value::Array(items) => items
            .iter()
            .filter_map(value_text)
            .collect::<Vec<_>>()
            .join(", "),
    };

    (!text.is_empty()).then_some(text)
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(raw: &str) -> CustomFields {
        let record: Value = serde_json::from_str(raw).expect("test JSON is valid");
        CustomFields::from_record(record.as_object().expect("object"))
    }

    #[test]
    fn text_flattens_every_value_shape() {
        let custom = fields(
            r#"{"customFields": {
                "string": "  30/60/90   dias ",
                "option": {"id": 59538, "value": "Indicação"},
                "label": {"id": 1, "label": "Site"},
                "name": {"id": 1, "name": "Feira"},
                "array": [{"id": 1, "value": "A"}, "B", null, {"id": 3}],
                "number": 12.50,
                "yes": true,
                "no": false,
                "null": null,
                "blank": "   ",
                "empty": "",
                "empty_array": [],
                "option_without_label": {"id": 4},
                "decomposed": "Sa\u0303o Paulo"
            }}"#,
        );
        let cases = [
            ("string", Some("30/60/90 dias")),
            ("option", Some("Indicação")),
            ("label", Some("Site")),
            ("name", Some("Feira")),
            ("array", Some("A, B")),
            ("number", Some("12.50")),
            ("yes", Some("Sim")),
            ("no", Some("Não")),
            ("null", None),
            ("blank", None),
            ("empty", None),
            ("empty_array", None),
            ("option_without_label", None),
            ("absent", None),
            ("decomposed", Some("S\u{e3}o Paulo")),
        ];

        for (key, expected) in cases {
            assert_eq!(custom.text(key).as_deref(), expected, "key {key}");
        }
    }

    #[test]
    fn from_record_accepts_key_spellings_and_empty_shapes() {
        let cases = [
            (r#"{"customFields": {"a": "1"}}"#, Some("1")),
            (r#"{"custom_fields": {"a": "1"}}"#, Some("1")),
            (
                r#"{"customFields": null, "custom_fields": {"a": "1"}}"#,
                Some("1"),
            ),
            (r#"{"customFields": []}"#, None),
            (r#"{"customFields": "x"}"#, None),
            (r#"{}"#, None),
        ];

        for (raw, expected) in cases {
            assert_eq!(fields(raw).text("a").as_deref(), expected, "input {raw}");
        }
    }
}
