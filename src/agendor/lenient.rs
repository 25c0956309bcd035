//! Defensive readers that turn loosely typed Agendor JSON into plain Rust values.
//!
//! Agendor sends the same field under camelCase or snake_case keys, numbers as
//! strings and the reverse, and uses null, an absent key and `""` alike for "no
//! value". Every reader here accepts all of those forms.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value};

pub(crate) type Object = Map<String, Value>;

/// Maximum characters of a raw JSON value quoted in an error message.
const MAX_QUOTED_CHARS: usize = 80;

/// Returns the first of `keys` whose value is neither null nor blank text.
pub(crate) fn field<'a>(object: &'a Object, keys: &[&str]) -> Option<&'a Value> {
    keys.iter()
        .filter_map(|key| object.get(*key))
        .find(|value| !is_blank(value))
}

/// Tells whether `value` means "no value": null, or text that is empty or whitespace.
pub(crate) fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(text) => text.trim().is_empty(),
        _ => false,
    }
}

/// Reads text: a string is trimmed, a number gives its digits as received.
pub(crate) fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(text) => non_empty(text.trim()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// Reads a name that is either text or an object carrying it under one of `keys`.
///
/// A bare number is not a name (Agendor sends city ids as numbers in requests).
pub(crate) fn name(value: Option<&Value>, keys: &[&str]) -> Option<String> {
    match value? {
        Value::String(text) => non_empty(text.trim()),
        Value::Object(object) => text(field(object, keys)),
        _ => None,
    }
}

/// Reads a positive record id from a JSON integer or a string of digits.
pub(crate) fn id(value: Option<&Value>) -> Option<i64> {
    let id = match value? {
        Value::Number(number) => number.as_i64().or_else(|| whole_number(number)),
        Value::String(text) => text.trim().parse::<i64>().ok(),
        _ => None,
    }?;

    (id > 0).then_some(id)
}

/// Reads a number such as `2.0` as the integer it equals; other fractions are not ids.
fn whole_number(number: &serde_json::Number) -> Option<i64> {
    let value = parse_decimal(&number.to_string())?;
    if value.fract().is_zero() {
        i64::try_from(value).ok()
    } else {
        None
    }
}

/// Reads an exact decimal from a JSON number or a numeric string, keeping the digits sent.
///
/// Returns `Ok(None)` for null, absent or blank values and an error naming `key`
/// for anything else that is not a decimal number.
pub(crate) fn decimal(value: Option<&Value>, key: &str) -> Result<Option<Decimal>, String> {
    let digits = match value {
        None => return Ok(None),
        Some(value) if is_blank(value) => return Ok(None),
        Some(Value::Number(number)) => number.to_string(),
        Some(Value::String(text)) => text.trim().to_string(),
        Some(other) => return Err(format!("`{key}` is not a decimal number: {}", quote(other))),
    };

    parse_decimal(&digits)
        .map(Some)
        .ok_or_else(|| format!("`{key}` is not a decimal number: `{digits}`"))
}

/// Parses plain (`480.10`) or scientific (`4.801e2`) notation without rounding.
pub(crate) fn parse_decimal(digits: &str) -> Option<Decimal> {
    let allowed = |c: char| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E');
    if digits.is_empty() || !digits.chars().all(allowed) {
        return None;
    }

    if digits.contains(['e', 'E']) {
        Decimal::from_scientific(digits).ok()
    } else {
        Decimal::from_str_exact(digits).ok()
    }
}

/// Reads an ISO 8601 instant, treating a value without an offset as UTC.
///
/// Returns `Ok(None)` for null, absent or blank values and an error naming `key`
/// for a value that does not parse.
pub(crate) fn datetime(value: Option<&Value>, key: &str) -> Result<Option<DateTime<Utc>>, String> {
    match value {
        None => Ok(None),
        Some(value) if is_blank(value) => Ok(None),
        Some(Value::String(text)) => parse_datetime(text.trim())
            .map(Some)
            .ok_or_else(|| format!("`{key}` is not an ISO 8601 date-time: `{text}`")),
        Some(other) => Err(format!(
            "`{key}` is not an ISO 8601 date-time: {}",
            quote(other)
        )),
    }
}

/// Parses RFC 3339, then the same without an offset (UTC), then a bare date (midnight UTC).
pub(crate) fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
        return Some(instant.with_timezone(&Utc));
    }

    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            return Some(naive.and_utc());
        }
    }

    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(date.and_time(NaiveTime::MIN).and_utc())
}

/// Renders a raw JSON value for an error message, shortened to a readable length.
pub(crate) fn quote(value: &Value) -> String {
    let raw = value.to_string();
    if raw.chars().count() <= MAX_QUOTED_CHARS {
        return raw;
    }

    let head: String = raw.chars().take(MAX_QUOTED_CHARS).collect();
    format!("{head}…")
}

/// Renders an optional raw JSON value for an error message.
pub(crate) fn quote_field(value: Option<&Value>) -> String {
    value.map_or_else(|| "absent".to_string(), quote)
}

/// Returns the text unless it is empty. NUL characters are dropped, because PostgreSQL
/// cannot store them in a text column.
fn non_empty(text: &str) -> Option<String> {
    let text = text.replace('\0', "");
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(raw: &str) -> Value {
        serde_json::from_str(raw).expect("test JSON is valid")
    }

    #[test]
    fn field_prefers_first_key_with_a_value() {
        let cases = [
            (r#"{"postalCode": "01000-000"}"#, Some("\"01000-000\"")),
            (r#"{"postal_code": "01000-000"}"#, Some("\"01000-000\"")),
            (r#"{"postalCode": null, "postal_code": "2"}"#, Some("\"2\"")),
            (r#"{"postalCode": "  ", "postal_code": "3"}"#, Some("\"3\"")),
            (r#"{"postalCode": "1", "postal_code": "2"}"#, Some("\"1\"")),
            (r#"{"postalCode": ""}"#, None),
            (r#"{}"#, None),
        ];

        for (raw, expected) in cases {
            let object = parse(raw).as_object().cloned().expect("object");
            let found = field(&object, &["postalCode", "postal_code"]).map(Value::to_string);
            assert_eq!(found.as_deref(), expected, "input {raw}");
        }
    }

    #[test]
    fn text_trims_and_keeps_number_digits() {
        let cases = [
            (r#""  Rua A  ""#, Some("Rua A")),
            (r#""   ""#, None),
            (r#""""#, None),
            ("null", None),
            ("45", Some("45")),
            ("7.50", Some("7.50")),
            ("true", None),
            (r#"{"name": "x"}"#, None),
        ];

        for (raw, expected) in cases {
            assert_eq!(text(Some(&parse(raw))).as_deref(), expected, "input {raw}");
        }
        assert_eq!(text(None), None);
    }

    #[test]
    fn name_reads_text_or_object_but_not_number() {
        let cases = [
            (r#""Santo André""#, Some("Santo André")),
            (
                r#"{"id": 3550308, "name": " São Paulo "}"#,
                Some("São Paulo"),
            ),
            (r#"{"id": 3550308}"#, None),
            ("3550308", None),
            ("null", None),
        ];

        for (raw, expected) in cases {
            let found = name(Some(&parse(raw)), &["name"]);
            assert_eq!(found.as_deref(), expected, "input {raw}");
        }
    }

    #[test]
    fn id_accepts_integers_and_digit_strings() {
        let cases = [
            ("48210377", Some(48210377)),
            (r#"" 48210377 ""#, Some(48210377)),
            ("0", None),
            ("-5", None),
            ("12.5", None),
            ("2.0", Some(2)),
            ("2e1", Some(20)),
            (r#""abc""#, None),
            ("null", None),
            ("true", None),
        ];

        for (raw, expected) in cases {
            assert_eq!(id(Some(&parse(raw))), expected, "input {raw}");
        }
    }

    #[test]
    fn decimal_keeps_exact_digits_and_scale() {
        let cases = [
            ("480.10", "480.10", 2),
            (r#""1.5""#, "1.5", 1),
            ("30", "30", 0),
            ("0.1", "0.1", 1),
            ("12345678901234567.89", "12345678901234567.89", 2),
            ("1.5e2", "150", 0),
            ("-2.50", "-2.50", 2),
        ];

        for (raw, expected, scale) in cases {
            let value = decimal(Some(&parse(raw)), "unitValue")
                .expect("valid decimal")
                .expect("present decimal");
            assert_eq!(value.to_string(), expected, "input {raw}");
            assert_eq!(value.scale(), scale, "scale of {raw}");
        }
    }

    #[test]
    fn decimal_treats_blank_as_missing() {
        for raw in ["null", r#""""#, r#"" ""#] {
            assert_eq!(
                decimal(Some(&parse(raw)), "discount"),
                Ok(None),
                "input {raw}"
            );
        }
        assert_eq!(decimal(None, "discount"), Ok(None));
    }

    #[test]
    fn decimal_rejects_non_numbers_naming_key() {
        for raw in [
            r#""abc""#,
            r#""1.234,56""#,
            r#""1_000""#,
            "true",
            "[1]",
            r#"{"v": 1}"#,
        ] {
            let error = decimal(Some(&parse(raw)), "unitValue").expect_err(raw);
            assert!(error.contains("`unitValue`"), "error {error} for {raw}");
        }
    }

    #[test]
    fn datetime_accepts_common_iso_forms() {
        let cases = [
            ("2026-03-04T17:42:08.000Z", "2026-03-04T17:42:08Z"),
            ("2026-03-04T17:42:08Z", "2026-03-04T17:42:08Z"),
            ("2026-03-04T17:42:08.250", "2026-03-04T17:42:08.250Z"),
            ("2026-03-04T17:42:08", "2026-03-04T17:42:08Z"),
            ("2026-03-04 17:42:08", "2026-03-04T17:42:08Z"),
            ("2026-03-04T14:42:08-03:00", "2026-03-04T17:42:08Z"),
            ("2026-03-04", "2026-03-04T00:00:00Z"),
        ];

        for (input, expected) in cases {
            let parsed = datetime(Some(&json!(input)), "wonAt")
                .expect("valid date-time")
                .expect("present date-time");
            assert_eq!(
                parsed.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                expected,
                "input {input}"
            );
        }
    }

    #[test]
    fn datetime_blank_is_missing_and_garbage_is_error() {
        assert_eq!(datetime(Some(&json!(null)), "wonAt"), Ok(None));
        assert_eq!(datetime(Some(&json!("")), "wonAt"), Ok(None));
        assert_eq!(datetime(None, "wonAt"), Ok(None));

        for bad in [
            json!("yesterday"),
            json!("04/03/2026"),
            json!(1_772_000_000),
        ] {
            let error = datetime(Some(&bad), "wonAt").expect_err("invalid date-time");
            assert!(error.contains("`wonAt`"), "error {error}");
        }
    }

    #[test]
    fn quote_shortens_long_values() {
        let long = json!("x".repeat(200));
        assert!(quote(&long).chars().count() <= MAX_QUOTED_CHARS + 1);
        assert_eq!(quote(&json!(12)), "12");
        assert_eq!(quote_field(None), "absent");
    }
}
