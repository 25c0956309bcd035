//! Validation of Brazilian tax documents: CPF, CNPJ and state registration.

use unicode_normalization::UnicodeNormalization;

/// Normal form stored for a company that has no state registration.
pub const EXEMPT_STATE_REGISTRATION: &str = "ISENTO";

const CPF_LENGTH: usize = 11;
const CNPJ_LENGTH: usize = 14;

/// Positions of the CNPJ that may hold letters. The two check digits are always digits.
const CNPJ_BASE_LENGTH: usize = 12;

const CPF_FIRST_WEIGHTS: [u32; 9] = [10, 9, 8, 7, 6, 5, 4, 3, 2];
const CPF_SECOND_WEIGHTS: [u32; 10] = [11, 10, 9, 8, 7, 6, 5, 4, 3, 2];
const CNPJ_FIRST_WEIGHTS: [u32; 12] = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];
const CNPJ_SECOND_WEIGHTS: [u32; 13] = [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];

/// Reason why a document number is invalid. The caller adds the field name and
/// the raw value to the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("expected {expected} characters without punctuation, found {found}")]
    WrongLength { expected: usize, found: usize },

    #[error("invalid character '{character}': {rule}")]
    InvalidCharacter { character: char, rule: &'static str },

    #[error("all characters are the same, which is never a valid number")]
    RepeatedDigits,

    #[error("check digits do not match")]
    CheckDigitMismatch,

    #[error("expected digits (optionally with '.', '-', '/' or spaces) or ISENTO")]
    InvalidStateRegistration,
}

/// Normalises a CPF or CNPJ for comparison and storage: keeps ASCII digits and
/// ASCII letters (upper-cased) and drops everything else. Compatibility forms such as
/// fullwidth digits are read as the ASCII characters they stand for (Unicode NFKC).
pub fn normalize_document(raw: &str) -> String {
    raw.nfkc()
        .filter(char::is_ascii_alphanumeric)
        .map(|character| character.to_ascii_uppercase())
        .collect()
}

/// Validates a CPF and returns its 11-digit normal form, leading zeros kept.
pub fn validate_cpf(raw: &str) -> Result<String, DocumentError> {
    let cpf = normalize_document(raw);

    if let Some(letter) = cpf.chars().find(|character| !character.is_ascii_digit()) {
        return Err(DocumentError::InvalidCharacter {
            character: letter,
            rule: "a CPF contains digits only",
        });
    }

    check_length(&cpf, CPF_LENGTH)?;
    check_not_repeated(&cpf)?;

    let values = character_values(&cpf);
    let first = mod11_check_digit(&values[..9], &CPF_FIRST_WEIGHTS);
    let second = mod11_check_digit(&values[..10], &CPF_SECOND_WEIGHTS);
    if values[9..] != [first, second] {
        return Err(DocumentError::CheckDigitMismatch);
    }

    Ok(cpf)
}

/// Validates a numeric or alphanumeric CNPJ and returns its 14-character normal form.
///
/// From July 2026 the Receita Federal issues alphanumeric CNPJs (Instrução
/// Normativa RFB 2.229 of 15 October 2024). The first 12 characters are digits
/// or letters A-Z and the last two are check digits. Each character counts as
/// its ASCII code minus 48, so '0'..'9' are 0..9 and 'A'..'Z' are 17..42, and
/// numeric CNPJs keep their usual check digits.
pub fn validate_cnpj(raw: &str) -> Result<String, DocumentError> {
    let cnpj = normalize_document(raw);

    check_length(&cnpj, CNPJ_LENGTH)?;

    // normalize_document keeps only digits and upper-case letters, so only the
    // check-digit positions can hold an invalid character.
    let check_digits = &cnpj[CNPJ_BASE_LENGTH..];
    if let Some(letter) = check_digits.chars().find(|c| !c.is_ascii_digit()) {
        return Err(DocumentError::InvalidCharacter {
            character: letter,
            rule: "the last two characters of a CNPJ are digits",
        });
    }

    check_not_repeated(&cnpj)?;

    let values = character_values(&cnpj);
    let first = mod11_check_digit(&values[..12], &CNPJ_FIRST_WEIGHTS);
    let second = mod11_check_digit(&values[..13], &CNPJ_SECOND_WEIGHTS);
    if values[12..] != [first, second] {
        return Err(DocumentError::CheckDigitMismatch);
    }

    Ok(cnpj)
}

/// Normalises a state registration (inscrição estadual) to its digits, or to
/// "ISENTO" when it is missing, blank or "isento"/"isenta" in any case.
///
/// NOTE: letters are rejected, so the "P-" prefix of São Paulo rural-producer
/// registrations is invalid here.
pub fn normalize_state_registration(raw: Option<&str>) -> Result<String, DocumentError> {
    let trimmed = raw.unwrap_or_default().trim();

    if trimmed.is_empty()
        || trimmed.eq_ignore_ascii_case("isento")
        || trimmed.eq_ignore_ascii_case("isenta")
    {
        return Ok(EXEMPT_STATE_REGISTRATION.to_owned());
    }

    let only_digits_and_separators = trimmed
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '/') || c.is_whitespace());
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    if !only_digits_and_separators || digits.is_empty() {
        return Err(DocumentError::InvalidStateRegistration);
    }

    Ok(digits)
}

fn check_length(document: &str, expected: usize) -> Result<(), DocumentError> {
    let found = document.len();
    if found != expected {
        return Err(DocumentError::WrongLength { expected, found });
    }
    Ok(())
}

fn check_not_repeated(document: &str) -> Result<(), DocumentError> {
    let mut characters = document.chars();
    let first = characters.next();
    if characters.all(|character| Some(character) == first) {
        return Err(DocumentError::RepeatedDigits);
    }
    Ok(())
}

/// Maps each ASCII digit or upper-case letter to its ASCII code minus 48.
fn character_values(document: &str) -> Vec<u32> {
    document
        .bytes()
        .map(|byte| u32::from(byte - b'0'))
        .collect()
}

/// Computes a mod-11 check digit: the weighted sum's remainder below 2 gives 0,
/// any other remainder r gives 11 - r.
fn mod11_check_digit(values: &[u32], weights: &[u32]) -> u32 {
    debug_assert_eq!(values.len(), weights.len());

    let sum: u32 = values.iter().zip(weights).map(|(v, w)| v * w).sum();
    let remainder = sum % 11;
    if remainder < 2 { 0 } else { 11 - remainder }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_document_cases() {
        for (input, expected) in [
            ("123.456.789-09", "12345678909"),
            ("12345678909", "12345678909"),
            (" 123 456 789 09 ", "12345678909"),
            ("11.222.333/0001-81", "11222333000181"),
            ("12.abc.345/01de-35", "12ABC34501DE35"),
            ("12.ABC.345/01DE-35", "12ABC34501DE35"),
            ("\u{00A0}47.285.163/0001-21\u{00A0}", "47285163000121"),
            // Fullwidth digits count as digits; other non-ASCII letters are dropped.
            ("1é2\u{FF13}", "123"),
            ("\u{FF14}\u{FF17}.285.163/0001-21", "47285163000121"),
            ("", ""),
            ("./- ", ""),
        ] {
            assert_eq!(normalize_document(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn validate_cpf_valid() {
        for (input, expected) in [
            ("529.982.247-25", "52998224725"),
            ("52998224725", "52998224725"),
            (" 529 982 247 25 ", "52998224725"),
            ("111.444.777-35", "11144477735"),
            // Leading zeros are kept.
            ("012.345.678-90", "01234567890"),
            ("01234567890", "01234567890"),
            ("000.000.001-91", "00000000191"),
            ("001.234.567-97", "00123456797"),
            // First remainder 0 and second remainder 1, so both check digits are 0.
            ("987.654.321-00", "98765432100"),
            ("\u{00A0}529.982.247-25\t", "52998224725"),
        ] {
            assert_eq!(
                validate_cpf(input),
                Ok(expected.to_owned()),
                "input {input:?}"
            );
        }
    }

    #[test]
    fn validate_cpf_invalid() {
        let letter = |character| DocumentError::InvalidCharacter {
            character,
            rule: "a CPF contains digits only",
        };
        let length = |found| DocumentError::WrongLength {
            expected: 11,
            found,
        };

        for (input, expected) in [
            ("529.982.247-24", DocumentError::CheckDigitMismatch),
            ("529.982.247-15", DocumentError::CheckDigitMismatch),
            ("529.982.274-25", DocumentError::CheckDigitMismatch),
            ("12345678901", DocumentError::CheckDigitMismatch),
            ("000.000.000-00", DocumentError::RepeatedDigits),
            ("111.111.111-11", DocumentError::RepeatedDigits),
            ("99999999999", DocumentError::RepeatedDigits),
            ("1234567890", length(10)),
            ("5299822472", length(10)),
            ("529.982.247-255", length(12)),
            ("11.222.333/0001-81", length(14)),
            ("", length(0)),
            ("---", length(0)),
            ("529.982.247-2A", letter('A')),
            ("ISENTO", letter('I')),
            ("abc", letter('A')),
        ] {
            assert_eq!(validate_cpf(input), Err(expected), "input {input:?}");
        }
    }

    // Hand check of the alphanumeric CNPJs, with each character worth its ASCII
    // code minus 48 (A=17, B=18, C=19, D=20, E=21, F=22, Z=42):
    //
    // 12.ABC.345/01DE-35:
    //   First: 1*5 + 2*4 + 17*3 + 18*2 + 19*9 + 3*8 + 4*7 + 5*6 + 0*5 + 1*4
    //          + 20*3 + 21*2 = 459, 459 mod 11 = 8, 11 - 8 = 3.
    //   Second: 1*6 + 2*5 + 17*4 + 18*3 + 19*2 + 3*9 + 4*8 + 5*7 + 0*6 + 1*5
    //          + 20*4 + 21*3 + 3*2 = 424, 424 mod 11 = 6, 11 - 6 = 5.
    //
    // A1.B2C.3D4/E5F6-68:
    //   First: 17*5 + 1*4 + 18*3 + 2*2 + 19*9 + 3*8 + 20*7 + 4*6 + 21*5 + 5*4
    //          + 22*3 + 6*2 = 709, 709 mod 11 = 5, 11 - 5 = 6.
    //   Second: 17*6 + 1*5 + 18*4 + 2*3 + 19*2 + 3*9 + 20*8 + 4*7 + 21*6 + 5*5
    //          + 22*4 + 6*3 + 6*2 = 707, 707 mod 11 = 3, 11 - 3 = 8.
    //
    // ZZ.ZZZ.ZZZ/0001-91:
    //   First: 42 * (5+4+3+2+9+8+7+6) + 1*2 = 1848 + 2 = 1850, 1850 mod 11 = 2,
    //          11 - 2 = 9.
    //   Second: 42 * (6+5+4+3+2+9+8+7) + 1*3 + 9*2 = 1848 + 21 = 1869,
    //          1869 mod 11 = 10, 11 - 10 = 1.
    //
    // The same sums, computed separately in Python, agree.
    #[test]
    fn validate_cnpj_valid() {
        for (input, expected) in [
            ("11.222.333/0001-81", "11222333000181"),
            ("11222333000181", "11222333000181"),
            ("47.285.163/0001-21", "47285163000121"),
            (" 47 285 163 0001 21 ", "47285163000121"),
            // Leading zeros are kept.
            ("00.000.000/0001-91", "00000000000191"),
            // The first remainder is 0, so the first check digit is 0.
            ("11.222.333/0005-05", "11222333000505"),
            ("12.ABC.345/01DE-35", "12ABC34501DE35"),
            ("12.abc.345/01de-35", "12ABC34501DE35"),
            ("12ABC34501DE35", "12ABC34501DE35"),
            ("A1.B2C.3D4/E5F6-68", "A1B2C3D4E5F668"),
            ("ZZ.ZZZ.ZZZ/0001-91", "ZZZZZZZZ000191"),
            ("00.ABC.DEF/0001-57", "00ABCDEF000157"),
            ("\u{00A0}12.ABC.345/01DE-35\u{00A0}", "12ABC34501DE35"),
        ] {
            assert_eq!(
                validate_cnpj(input),
                Ok(expected.to_owned()),
                "input {input:?}"
            );
        }
    }

    #[test]
    fn validate_cnpj_invalid() {
        let letter = |character| DocumentError::InvalidCharacter {
            character,
            rule: "the last two characters of a CNPJ are digits",
        };
        let length = |found| DocumentError::WrongLength {
            expected: 14,
            found,
        };

        for (input, expected) in [
            ("11.222.333/0001-82", DocumentError::CheckDigitMismatch),
            ("11.222.333/0001-71", DocumentError::CheckDigitMismatch),
            ("47.285.163/0001-12", DocumentError::CheckDigitMismatch),
            ("12.ABC.345/01DE-34", DocumentError::CheckDigitMismatch),
            ("12.ABC.345/01DF-35", DocumentError::CheckDigitMismatch),
            // Letter O in place of digit 0 changes the value from 0 to 31.
            ("12.ABC.345/O1DE-35", DocumentError::CheckDigitMismatch),
            ("A1.B2C.3D4/E5F6-86", DocumentError::CheckDigitMismatch),
            ("00.000.000/0000-00", DocumentError::RepeatedDigits),
            ("11.111.111/1111-11", DocumentError::RepeatedDigits),
            ("12.ABC.345/01DE-3A", letter('A')),
            ("12.ABC.345/01DE-AB", letter('A')),
            ("ZZ.ZZZ.ZZZ/ZZZZ-ZZ", letter('Z')),
            ("11.222.333/0001-8", length(13)),
            ("11.222.333/0001-811", length(15)),
            ("529.982.247-25", length(11)),
            ("", length(0)),
            ("ISENTO", length(6)),
        ] {
            assert_eq!(validate_cnpj(input), Err(expected), "input {input:?}");
        }
    }

    #[test]
    fn state_registration_valid() {
        for (input, expected) in [
            (None, "ISENTO"),
            (Some(""), "ISENTO"),
            (Some("   "), "ISENTO"),
            (Some("\u{00A0}\t"), "ISENTO"),
            (Some("ISENTO"), "ISENTO"),
            (Some("isento"), "ISENTO"),
            (Some("Isento"), "ISENTO"),
            (Some("  IsEnTo  "), "ISENTO"),
            (Some("ISENTA"), "ISENTO"),
            (Some("isenta"), "ISENTO"),
            (Some("110.042.490.114"), "110042490114"),
            (Some("110042490114"), "110042490114"),
            (Some("  110 042 490 114 "), "110042490114"),
            (Some("062.307.904/0081"), "0623079040081"),
            (Some("12.345.678-9"), "123456789"),
            (Some("0012345-67"), "001234567"),
            (Some("1\u{00A0}2"), "12"),
            (Some("7"), "7"),
        ] {
            assert_eq!(
                normalize_state_registration(input),
                Ok(expected.to_owned()),
                "input {input:?}"
            );
        }
    }

    #[test]
    fn state_registration_invalid() {
        for input in [
            "P-01100424.3/002",
            "123A456",
            "ISENTOS",
            "isento 123",
            "não contribuinte",
            "N/A",
            "123#456",
            "123_456",
            "123,456",
            "./-",
            "-",
            "١٢٣",
        ] {
            assert_eq!(
                normalize_state_registration(Some(input)),
                Err(DocumentError::InvalidStateRegistration),
                "input {input:?}"
            );
        }
    }

    #[test]
    fn error_messages() {
        for (error, expected) in [
            (
                DocumentError::WrongLength {
                    expected: 11,
                    found: 10,
                },
                "expected 11 characters without punctuation, found 10",
            ),
            (
                DocumentError::InvalidCharacter {
                    character: 'A',
                    rule: "a CPF contains digits only",
                },
                "invalid character 'A': a CPF contains digits only",
            ),
            (
                DocumentError::RepeatedDigits,
                "all characters are the same, which is never a valid number",
            ),
            (
                DocumentError::CheckDigitMismatch,
                "check digits do not match",
            ),
        ] {
            assert_eq!(error.to_string(), expected);
        }
    }
}
