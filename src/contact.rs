//! Validation of Brazilian contact data: phone numbers, CEP and UF.

use crate::text::{is_dash, name_key};

const BRAZIL_COUNTRY_CODE: &str = "55";
const CEP_LENGTH: usize = 8;

/// The 27 federative units (26 states and the Federal District) with their names.
const FEDERATIVE_UNITS: [(&str, &str); 27] = [
    ("AC", "Acre"),
    ("AL", "Alagoas"),
    ("AP", "Amapá"),
    ("AM", "Amazonas"),
    ("BA", "Bahia"),
    ("CE", "Ceará"),
    ("DF", "Distrito Federal"),
    ("ES", "Espírito Santo"),
    ("GO", "Goiás"),
    ("MA", "Maranhão"),
    ("MT", "Mato Grosso"),
    ("MS", "Mato Grosso do Sul"),
    ("MG", "Minas Gerais"),
    ("PA", "Pará"),
    ("PB", "Paraíba"),
    ("PR", "Paraná"),
    ("PE", "Pernambuco"),
    ("PI", "Piauí"),
    ("RJ", "Rio de Janeiro"),
    ("RN", "Rio Grande do Norte"),
    ("RS", "Rio Grande do Sul"),
    ("RO", "Rondônia"),
    ("RR", "Roraima"),
    ("SC", "Santa Catarina"),
    ("SP", "São Paulo"),
    ("SE", "Sergipe"),
    ("TO", "Tocantins"),
];

/// Reason why a phone number or CEP is invalid. The caller adds the field name
/// and the raw value to the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContactError {
    #[error("expected 10 or 11 digits including the area code, found {found}")]
    PhoneWrongLength { found: usize },

    #[error(
        "area code {area_code} is invalid because Brazilian area codes are two digits from 1 to 9"
    )]
    InvalidAreaCode { area_code: String },

    #[error("the country code is not +55, and only Brazilian numbers are accepted")]
    ForeignPhoneNumber,

    #[error(
        "an 11-digit number is a mobile number, which starts with 9 after the area code \
         (an extension typed after the number adds digits)"
    )]
    MobileWithoutNine,

    #[error("expected 8 digits, found {found}")]
    CepWrongLength { found: usize },

    #[error("invalid character '{character}': a CEP contains digits only")]
    CepInvalidCharacter { character: char },

    #[error("a CEP cannot be negative")]
    CepNegative,

    #[error("a CEP given as a number must be a whole number without fraction or exponent")]
    CepNotWholeNumber,
}

/// A CEP as it arrives in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostalCode<'a> {
    /// A JSON string, possibly masked ("01310-100").
    Text(&'a str),
    /// The literal of a JSON number as received ("1310100"). A number has lost
    /// the CEP's leading zeros.
    Number(&'a str),
}

/// Formats a Brazilian phone number as "(DD) NNNN-NNNN" (landline) or
/// "(DD) NNNNN-NNNN" (mobile).
///
/// Only the digits count. A leading country code 55 is dropped when there are
/// 12 or 13 digits, or always after a leading '+'. Then a leading trunk prefix
/// 0 is dropped when 11 or 12 digits are left. A '+' followed by any other
/// country code is rejected.
///
/// An 11-digit number must be a mobile (its subscriber part starts with 9), which
/// rejects a landline followed by the digit of an extension ("ramal 2").
///
/// NOTE: other text is ignored, so an extension after a mobile number still makes it
/// too long, and the area code is only checked to have no zero digit, not against the
/// list of area codes in use.
pub fn format_phone(raw: &str) -> Result<String, ContactError> {
    let national = national_number(raw)?;

    let found = national.len();
    if found != 10 && found != 11 {
        return Err(ContactError::PhoneWrongLength { found });
    }

    let (area_code, subscriber) = national.split_at(2);
    if area_code.contains('0') {
        return Err(ContactError::InvalidAreaCode {
            area_code: area_code.to_owned(),
        });
    }

    // Brazilian mobile numbers have 9 digits starting with 9; landlines have 8. Other
    // 9-digit subscribers are a landline with stray digits, such as an extension.
    if subscriber.len() == 9 && !subscriber.starts_with('9') {
        return Err(ContactError::MobileWithoutNine);
    }

    let (prefix, line) = subscriber.split_at(subscriber.len() - 4);
    Ok(format!("({area_code}) {prefix}-{line}"))
}

/// Returns the digits of a phone number without country code and trunk prefix.
fn national_number(raw: &str) -> Result<String, ContactError> {
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    let mut national = digits.as_str();

    if raw.trim_start().starts_with('+') {
        national = national
            .strip_prefix(BRAZIL_COUNTRY_CODE)
            .ok_or(ContactError::ForeignPhoneNumber)?;
    } else if matches!(national.len(), 12 | 13) {
        national = national
            .strip_prefix(BRAZIL_COUNTRY_CODE)
            .unwrap_or(national);
    }

    if matches!(national.len(), 11 | 12) {
        national = national.strip_prefix('0').unwrap_or(national);
    }

    Ok(national.to_owned())
}

/// Normalises a CEP to its 8 digits without mask.
///
/// Text may contain ASCII punctuation, dashes and whitespace between or around
/// the 8 digits, but no letters. A number has lost its leading zeros, so it is left-padded to
/// 8 digits, and it must be a non-negative whole number of at most 8 digits.
pub fn normalize_cep(value: PostalCode) -> Result<String, ContactError> {
    match value {
        PostalCode::Text(text) => normalize_cep_text(text),
        PostalCode::Number(literal) => normalize_cep_number(literal),
    }
}

fn normalize_cep_text(text: &str) -> Result<String, ContactError> {
    let mut digits = String::with_capacity(CEP_LENGTH);
    for character in text.chars() {
        if character.is_ascii_digit() {
            digits.push(character);
        } else if !is_cep_separator(character) {
            return Err(ContactError::CepInvalidCharacter { character });
        }
    }

    if digits.len() != CEP_LENGTH {
        return Err(ContactError::CepWrongLength {
            found: digits.len(),
        });
    }
    Ok(digits)
}

fn is_cep_separator(character: char) -> bool {
    character.is_whitespace() || character.is_ascii_punctuation() || is_dash(character)
}

fn normalize_cep_number(literal: &str) -> Result<String, ContactError> {
    let literal = literal.trim();

    if literal.starts_with('-') {
        return Err(ContactError::CepNegative);
    }
    if literal.contains(['.', 'e', 'E']) {
        return Err(ContactError::CepNotWholeNumber);
    }
    if let Some(character) = literal.chars().find(|c| !c.is_ascii_digit()) {
        return Err(ContactError::CepInvalidCharacter { character });
    }

    let found = literal.len();
    if found == 0 || found > CEP_LENGTH {
        return Err(ContactError::CepWrongLength { found });
    }
    Ok(format!("{literal:0>CEP_LENGTH$}"))
}

/// Returns the two-letter code of a federative unit given as its code in any
/// case ("sp") or as its full name compared by `name_key` ("Sao Paulo").
pub fn normalize_uf(raw: &str) -> Option<&'static str> {
    let key = name_key(raw);

    FEDERATIVE_UNITS
        .iter()
        .find(|(code, name)| key.eq_ignore_ascii_case(code) || key == name_key(name))
        .map(|(code, _)| *code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_phone_valid() {
        for (input, expected) in [
            ("(11) 3000-0101", "(11) 3000-0101"),
            ("1130000101", "(11) 3000-0101"),
            ("11 3000 0101", "(11) 3000-0101"),
            ("11 3000.0101", "(11) 3000-0101"),
            ("(11)\u{00A0}3000-0101", "(11) 3000-0101"),
            ("  (11) 3000-0101  ", "(11) 3000-0101"),
            ("Tel: (11) 3000-0101", "(11) 3000-0101"),
            ("(11) 90000-0101", "(11) 90000-0101"),
            ("11900000101", "(11) 90000-0101"),
            // Country code 55 without '+', 12 or 13 digits in total.
            ("5511900000101", "(11) 90000-0101"),
            ("551130000101", "(11) 3000-0101"),
            ("55 11 3000-0101", "(11) 3000-0101"),
            // Country code 55 after '+'.
            ("+55 (21) 90000-0202", "(21) 90000-0202"),
            ("+55 21 3000-0202", "(21) 3000-0202"),
            ("+5521900000202", "(21) 90000-0202"),
            (" +55 21 3000-0202", "(21) 3000-0202"),
            ("+55 021 90000-0202", "(21) 90000-0202"),
            // Trunk prefix 0, 11 or 12 digits in total.
            ("011 3000-0101", "(11) 3000-0101"),
            ("(011) 3000-0101", "(11) 3000-0101"),
            ("0xx11 3000-0101", "(11) 3000-0101"),
            ("011 90000-0101", "(11) 90000-0101"),
            ("55 011 3000-0101", "(11) 3000-0101"),
            // Area code 55 (Rio Grande do Sul) is not mistaken for the country code.
            ("(55) 3222-1234", "(55) 3222-1234"),
            ("(55) 99999-1234", "(55) 99999-1234"),
            ("55 55 99999-1234", "(55) 99999-1234"),
            ("+55 55 3222-1234", "(55) 3222-1234"),
            ("(99) 3000-0101", "(99) 3000-0101"),
            ("(82) 3000-0101", "(82) 3000-0101"),
        ] {
            assert_eq!(
                format_phone(input),
                Ok(expected.to_owned()),
                "input {input:?}"
            );
        }
    }

    #[test]
    fn format_phone_invalid() {
        let length = |found| ContactError::PhoneWrongLength { found };
        let area = |code: &str| ContactError::InvalidAreaCode {
            area_code: code.to_owned(),
        };

        for (input, expected) in [
            ("3000-0101", length(8)),
            ("90000-0101", length(9)),
            ("113000010", length(9)),
            ("119000001011", length(12)),
            ("00 55 11 3000 0101", length(14)),
            ("55 011 90000-0101", length(14)),
            ("(11) 3000-0101 / (11) 3000-0102", length(20)),
            ("+55 3000-0101", length(8)),
            ("", length(0)),
            ("   ", length(0)),
            ("sem telefone", length(0)),
            ("(01) 3000-0101", area("01")),
            ("(10) 3000-0101", area("10")),
            ("(20) 3000-0101", area("20")),
            ("(90) 90000-0101", area("90")),
            ("00 11 3000 0101", area("01")),
            ("(11) 3000-0101 r. 2", ContactError::MobileWithoutNine),
            ("11 30000 1012", ContactError::MobileWithoutNine),
            ("+1 (212) 555-0100", ContactError::ForeignPhoneNumber),
            ("+351 21 000 0000", ContactError::ForeignPhoneNumber),
            ("+5", ContactError::ForeignPhoneNumber),
            ("+", ContactError::ForeignPhoneNumber),
        ] {
            assert_eq!(format_phone(input), Err(expected), "input {input:?}");
        }
    }

    #[test]
    fn normalize_cep_text_valid() {
        for (input, expected) in [
            ("01310-100", "01310100"),
            ("01310100", "01310100"),
            ("01.310-100", "01310100"),
            ("01 310 100", "01310100"),
            ("  01310-100  ", "01310100"),
            ("\u{00A0}01310-100\u{00A0}", "01310100"),
            ("01310\u{2013}100", "01310100"),
            ("90000-000", "90000000"),
            ("70040-010", "70040010"),
        ] {
            assert_eq!(
                normalize_cep(PostalCode::Text(input)),
                Ok(expected.to_owned()),
                "input {input:?}"
            );
        }
    }

    #[test]
    fn normalize_cep_text_invalid() {
        let length = |found| ContactError::CepWrongLength { found };
        let character = |character| ContactError::CepInvalidCharacter { character };

        for (input, expected) in [
            ("9000000", length(7)),
            ("1310-100", length(7)),
            ("013101000", length(9)),
            ("01310-100 / 01310-200", length(16)),
            ("", length(0)),
            ("   ", length(0)),
            ("-", length(0)),
            ("01310-10O", character('O')),
            ("CEP 01310-100", character('C')),
            ("01310-100 SP", character('S')),
            ("01310\u{00B7}100", character('\u{00B7}')),
            ("0131０100", character('０')),
        ] {
            assert_eq!(
                normalize_cep(PostalCode::Text(input)),
                Err(expected),
                "input {input:?}"
            );
        }
    }

    #[test]
    fn normalize_cep_number_valid() {
        for (input, expected) in [
            ("9000000", "09000000"),
            ("1310100", "01310100"),
            ("1000000", "01000000"),
            ("90000000", "90000000"),
            ("70040010", "70040010"),
            (" 9000000 ", "09000000"),
            ("01310100", "01310100"),
        ] {
            assert_eq!(
                normalize_cep(PostalCode::Number(input)),
                Ok(expected.to_owned()),
                "input {input:?}"
            );
        }
    }

    #[test]
    fn normalize_cep_number_invalid() {
        let length = |found| ContactError::CepWrongLength { found };

        for (input, expected) in [
            ("-9000000", ContactError::CepNegative),
            ("-0", ContactError::CepNegative),
            ("9000000.5", ContactError::CepNotWholeNumber),
            ("9000000.0", ContactError::CepNotWholeNumber),
            ("9e6", ContactError::CepNotWholeNumber),
            ("9E6", ContactError::CepNotWholeNumber),
            ("9000000e0", ContactError::CepNotWholeNumber),
            (
                "+9000000",
                ContactError::CepInvalidCharacter { character: '+' },
            ),
            (
                "9000 000",
                ContactError::CepInvalidCharacter { character: ' ' },
            ),
            ("123456789", length(9)),
            ("", length(0)),
        ] {
            assert_eq!(
                normalize_cep(PostalCode::Number(input)),
                Err(expected),
                "input {input:?}"
            );
        }
    }

    #[test]
    fn normalize_uf_every_code() {
        let codes = [
            "AC", "AL", "AP", "AM", "BA", "CE", "DF", "ES", "GO", "MA", "MT", "MS", "MG", "PA",
            "PB", "PR", "PE", "PI", "RJ", "RN", "RS", "RO", "RR", "SC", "SP", "SE", "TO",
        ];

        for code in codes {
            let lower = code.to_ascii_lowercase();
            let mixed = format!("{}{}", &code[..1], &lower[1..]);
            let padded = format!(" \u{00A0}{lower}\t");

            for input in [code, lower.as_str(), mixed.as_str(), padded.as_str()] {
                assert_eq!(normalize_uf(input), Some(code), "input {input:?}");
            }
        }
    }

    #[test]
    fn normalize_uf_every_name() {
        for (code, name) in FEDERATIVE_UNITS {
            assert_eq!(normalize_uf(name), Some(code), "name {name:?}");
        }
    }

    #[test]
    fn normalize_uf_name_variants() {
        for (input, expected) in [
            ("São Paulo", "SP"),
            ("sao paulo", "SP"),
            ("SAO PAULO", "SP"),
            ("  São   Paulo ", "SP"),
            ("Distrito Federal", "DF"),
            ("distrito federal", "DF"),
            ("Rio Grande do Norte", "RN"),
            ("RIO GRANDE DO SUL", "RS"),
            ("rio  de\u{00A0}janeiro", "RJ"),
            ("Espirito Santo", "ES"),
            ("Para", "PA"),
            ("parana", "PR"),
            ("Paraiba", "PB"),
            ("Piaui", "PI"),
            ("Goias", "GO"),
            ("Rondonia", "RO"),
            ("Amapa", "AP"),
            ("Ceara", "CE"),
            ("Maranhao", "MA"),
            ("Mato Grosso", "MT"),
            ("Mato Grosso do Sul", "MS"),
        ] {
            assert_eq!(normalize_uf(input), Some(expected), "input {input:?}");
        }
    }

    #[test]
    fn normalize_uf_unknown() {
        for input in [
            "",
            "   ",
            "XX",
            "BR",
            "S",
            "SPP",
            "S P",
            "S.P.",
            "S. Paulo",
            "Sao",
            "São Paulo - SP",
            "São Paulo/SP",
            "Rio Grande",
            "Grande do Sul",
            "Mato",
            "Brasil",
        ] {
            assert_eq!(normalize_uf(input), None, "input {input:?}");
        }
    }

    #[test]
    fn error_messages() {
        for (error, expected) in [
            (
                ContactError::PhoneWrongLength { found: 8 },
                "expected 10 or 11 digits including the area code, found 8",
            ),
            (
                ContactError::InvalidAreaCode {
                    area_code: "01".to_owned(),
                },
                "area code 01 is invalid because Brazilian area codes are two digits from 1 to 9",
            ),
            (
                ContactError::CepWrongLength { found: 7 },
                "expected 8 digits, found 7",
            ),
            (
                ContactError::CepInvalidCharacter { character: 'O' },
                "invalid character 'O': a CEP contains digits only",
            ),
        ] {
            assert_eq!(error.to_string(), expected);
        }
    }
}
