//! Text normalisation shared by every name stored in or looked up from V2.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Apostrophe variants that people and keyboards type in place of `'`.
const APOSTROPHES: [char; 6] = [
    '\u{2019}', '\u{2018}', '`', '\u{00B4}', '\u{02BC}', '\u{2032}',
];

/// Hyphen and dash variants that word processors type in place of `-`.
const DASHES: [char; 6] = [
    '\u{2010}', '\u{2011}', '\u{2012}', '\u{2013}', '\u{2014}', '\u{2212}',
];

/// Cleans text before it is stored: Unicode NFC, trimmed, and every run of
/// whitespace (any Unicode whitespace, NBSP included) replaced by one ASCII space.
pub fn clean_text(raw: &str) -> String {
    // PostgreSQL cannot store NUL in text, so it never reaches V2.
    let composed: String = raw.nfc().filter(|character| *character != '\0').collect();
    collapse_whitespace(&composed)
}

/// Builds the key that decides whether two names are equal.
///
/// The key is the cleaned text, lower-cased, without accents, with every
/// apostrophe variant turned into `'`, every dash variant turned into `-` and no
/// spaces around a hyphen. Only equal keys match. Abbreviations, substrings and
/// near misses ("S. Paulo" against "São Paulo") never do.
pub fn name_key(raw: &str) -> String {
    let folded: String = clean_text(raw)
        .to_lowercase()
        .nfd()
        .filter(|character| !is_combining_mark(*character))
        .map(unify_punctuation)
        .collect();

    // Dropping a combining mark that stood alone between spaces leaves two
    // spaces, so the whitespace is collapsed again.
    let collapsed = collapse_whitespace(&folded);

    join_hyphens(&collapsed)
}

/// Returns whether the character is a hyphen or dash, ASCII '-' included.
pub fn is_dash(character: char) -> bool {
    character == '-' || DASHES.contains(&character)
}

/// Returns whether the text is empty or contains only Unicode whitespace.
pub fn is_blank(raw: &str) -> bool {
    raw.chars().all(char::is_whitespace)
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn unify_punctuation(character: char) -> char {
    if APOSTROPHES.contains(&character) {
        '\''
    } else if DASHES.contains(&character) {
        '-'
    } else {
        character
    }
}

/// Removes the spaces around each hyphen, so "embu - guacu" becomes "embu-guacu".
fn join_hyphens(text: &str) -> String {
    text.split('-').map(str::trim).collect::<Vec<_>>().join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_text_cases() {
        for (input, expected) in [
            ("São Paulo", "São Paulo"),
            ("  São   Paulo ", "São Paulo"),
            ("\tSão\nPaulo\r\n", "São Paulo"),
            ("São\u{00A0}Paulo", "São Paulo"),
            ("\u{00A0}São \u{00A0} Paulo\u{00A0}", "São Paulo"),
            ("São\u{2003}Paulo", "São Paulo"),
            ("São\u{202F}Paulo", "São Paulo"),
            // Decomposed "a" + combining tilde is composed to U+00E3.
            ("Sa\u{0303}o Paulo", "S\u{00E3}o Paulo"),
            (
                "Artroplastia  Total de Joelho",
                "Artroplastia Total de Joelho",
            ),
            ("Embu - Guaçu", "Embu - Guaçu"),
            ("OLHO D’AGUA", "OLHO D’AGUA"),
            ("", ""),
            ("   ", ""),
            ("\u{00A0}\u{00A0}", ""),
        ] {
            assert_eq!(clean_text(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn name_key_cases() {
        for (input, expected) in [
            ("São Paulo", "sao paulo"),
            ("  SÃO   PAULO ", "sao paulo"),
            ("Sa\u{0303}o Paulo", "sao paulo"),
            ("Olho d'Água das Flores", "olho d'agua das flores"),
            ("OLHO D’AGUA DAS FLORES", "olho d'agua das flores"),
            ("Santa Barbara D`Oeste", "santa barbara d'oeste"),
            ("d‘x", "d'x"),
            ("d´x", "d'x"),
            ("dʼx", "d'x"),
            ("d′x", "d'x"),
            ("Embu - Guaçu", "embu-guacu"),
            ("Embu -Guaçu", "embu-guacu"),
            ("Embu- Guaçu", "embu-guacu"),
            ("Embu‐Guaçu", "embu-guacu"),
            ("Embu‑Guaçu", "embu-guacu"),
            ("Embu‒Guaçu", "embu-guacu"),
            ("Embu – Guaçu", "embu-guacu"),
            ("Embu — Guaçu", "embu-guacu"),
            ("Embu−Guaçu", "embu-guacu"),
            ("Embu\u{00A0}-\u{00A0}Guaçu", "embu-guacu"),
            ("Hospital Sírio-Libanês", "hospital sirio-libanes"),
            ("Conceição do Araguaia", "conceicao do araguaia"),
            ("Dr. João Müller", "dr. joao muller"),
            ("Ñandú", "nandu"),
            // A combining mark standing alone must not leave a double space.
            ("a \u{0301} b", "a b"),
            ("", ""),
            ("  ", ""),
        ] {
            assert_eq!(name_key(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn name_key_equal_names() {
        for (left, right) in [
            ("Olho d'Água das Flores", "OLHO D’AGUA DAS FLORES"),
            ("  São   Paulo ", "sao paulo"),
            ("Santa Bárbara d'Oeste", "Santa Barbara D`Oeste"),
            ("Embu - Guaçu", "Embu-Guaçu"),
            ("Embu – Guaçu", "EMBU-GUACU"),
            ("São\u{00A0}Paulo", "São Paulo"),
            ("Sa\u{0303}o Paulo", "São Paulo"),
            ("Unimed Rio", "UNIMED  RIO"),
        ] {
            assert_eq!(name_key(left), name_key(right), "{left:?} vs {right:?}");
        }
    }

    #[test]
    fn name_key_different_names() {
        for (left, right) in [
            ("S. Paulo", "São Paulo"),
            ("Paulo", "São Paulo"),
            ("Sao", "São Paulo"),
            ("Mato Grosso", "Mato Grosso do Sul"),
            ("Pará", "Paraná"),
            ("Santa Barbara dOeste", "Santa Barbara d'Oeste"),
            ("Embu Guaçu", "Embu-Guaçu"),
            ("SaoPaulo", "São Paulo"),
        ] {
            assert_ne!(name_key(left), name_key(right), "{left:?} vs {right:?}");
        }
    }

    #[test]
    fn is_dash_cases() {
        for (input, expected) in [
            ('-', true),
            ('\u{2010}', true),
            ('\u{2011}', true),
            ('\u{2012}', true),
            ('\u{2013}', true),
            ('\u{2014}', true),
            ('\u{2212}', true),
            ('_', false),
            ('.', false),
            ('a', false),
        ] {
            assert_eq!(is_dash(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn is_blank_cases() {
        for (input, expected) in [
            ("", true),
            (" ", true),
            ("\t\n\r ", true),
            ("\u{00A0}", true),
            (" \u{00A0} \u{2003}", true),
            ("a", false),
            ("  a  ", false),
            ("\u{00A0}-", false),
        ] {
            assert_eq!(is_blank(input), expected, "input {input:?}");
        }
    }
}
