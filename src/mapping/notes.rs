//! Integration notes: what the sync could not fill in, written into V2 in Portuguese and
//! reported to the operator in English.

use std::fmt;

/// A V2 field filled from an Agendor custom field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Hospital,
    HealthPlan,
    Patient,
    Doctor,
    SchedulingNote,
    Procedure,
    Seller,
}

impl Field {
    fn portuguese(self) -> &'static str {
        match self {
            Field::Hospital => "Hospital",
            Field::HealthPlan => "Convênio",
            Field::Patient => "Paciente",
            Field::Doctor => "Médico",
            Field::SchedulingNote => "Grade da cirurgia",
            Field::Procedure => "Procedimento",
            Field::Seller => "Vendedor",
        }
    }

    /// Gives a Portuguese participle the gender of the field's name: "Grade" is
    /// feminine, every other field name is masculine.
    fn agree(self, masculine: &str) -> String {
        match self {
            Field::SchedulingNote => format!("{}a", masculine.trim_end_matches('o')),
            _ => masculine.to_owned(),
        }
    }

    fn english(self) -> &'static str {
        match self {
            Field::Hospital => "hospital",
            Field::HealthPlan => "health plan",
            Field::Patient => "patient",
            Field::Doctor => "doctor",
            Field::SchedulingNote => "surgery schedule",
            Field::Procedure => "procedure",
            Field::Seller => "seller",
        }
    }
}

/// A deal product line, named for a note by its name and Agendor id when it has them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductRef {
    pub name: Option<String>,
    pub agendor_id: Option<i64>,
}

impl ProductRef {
    fn portuguese(&self) -> String {
        match (&self.name, self.agendor_id) {
            (Some(name), Some(id)) => format!("\"{name}\" (id Agendor {id})"),
            (Some(name), None) => format!("\"{name}\""),
            (None, Some(id)) => format!("id Agendor {id}"),
            (None, None) => "sem identificação".to_owned(),
        }
    }
}

impl fmt::Display for ProductRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.name, self.agendor_id) {
            (Some(name), Some(id)) => write!(f, "`{name}` (Agendor id {id})"),
            (Some(name), None) => write!(f, "`{name}`"),
            (None, Some(id)) => write!(f, "with Agendor id {id}"),
            (None, None) => write!(f, "without name or id"),
        }
    }
}

/// Something the sync left empty, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// The custom field is absent, null or blank.
    FieldMissing {
        field: Field,
        key: String,
    },
    FieldNotFound {
        field: Field,
        key: String,
        value: String,
    },
    FieldAmbiguous {
        field: Field,
        key: String,
        value: String,
        matches: usize,
    },
    WonAtMissing,
    /// The deal has no product lines, so its budget has no items.
    NoProducts,
    ProductWithoutCode {
        product: ProductRef,
    },
    ProductNotFound {
        product: ProductRef,
        code: String,
    },
    ProductAmbiguous {
        product: ProductRef,
        code: String,
        matches: usize,
    },
}

impl Note {
    /// Renders the note as written into V2, for V2's users.
    pub fn portuguese(&self) -> String {
        match self {
            Note::FieldMissing { field, key } => format!(
                "{} não {} no Agendor (campo personalizado \"{key}\").",
                field.portuguese(),
                field.agree("informado")
            ),
            Note::FieldNotFound { field, key, value } => format!(
                "{} \"{value}\" não encontrado no V2 (campo personalizado \"{key}\").",
                field.portuguese()
            ),
            Note::FieldAmbiguous {
                field,
                key,
                value,
                matches,
            } => format!(
                "{} \"{value}\" corresponde a {matches} cadastros no V2; nenhum foi vinculado \
                 (campo personalizado \"{key}\").",
                field.portuguese()
            ),
            Note::WonAtMissing => {
                "Data da cirurgia não preenchida: o negócio não tem data de ganho no Agendor."
                    .into()
            }
            Note::NoProducts => "Nenhum produto informado no negócio do Agendor.".into(),
            Note::ProductWithoutCode { product } => format!(
                "Produto {} não localizado: o item não tem código no Agendor.",
                product.portuguese()
            ),
            Note::ProductNotFound { product, code } => format!(
                "Produto {} não localizado: nenhum produto ativo com a referência do \
                 fabricante \"{code}\".",
                product.portuguese()
            ),
            Note::ProductAmbiguous {
                product,
                code,
                matches,
            } => format!(
                "Produto {} não localizado: {matches} produtos ativos têm a referência do \
                 fabricante \"{code}\".",
                product.portuguese()
            ),
        }
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::FieldMissing { field, key } => write!(
                f,
                "{} left empty: custom field `{key}` has no value",
                field.english()
            ),
            Note::FieldNotFound { field, key, value } => write!(
                f,
                "{} `{value}` (custom field `{key}`) not found in V2",
                field.english()
            ),
            Note::FieldAmbiguous {
                field,
                key,
                value,
                matches,
            } => write!(
                f,
                "{} `{value}` (custom field `{key}`) matches {matches} V2 records; none linked",
                field.english()
            ),
            Note::WonAtMissing => write!(f, "surgery date left empty: the deal has no wonAt"),
            Note::NoProducts => write!(f, "budget left without items: the deal has no products"),
            Note::ProductWithoutCode { product } => {
                write!(f, "product {product} skipped: the line has no code")
            }
            Note::ProductNotFound { product, code } => write!(
                f,
                "product {product} skipped: no active product with manufacturer reference `{code}`"
            ),
            Note::ProductAmbiguous {
                product,
                code,
                matches,
            } => write!(
                f,
                "product {product} skipped: {matches} active products have manufacturer \
                 reference `{code}`"
            ),
        }
    }
}
