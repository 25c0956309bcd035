//! Matching deal product lines to V2 products by manufacturer reference.

use rust_decimal::Decimal;

use crate::agendor::ProductLine;
use crate::mapping::notes::{Note, ProductRef};
use crate::mapping::registries::{Lookup, Registries};

/// One budget item, with the amounts exactly as Agendor sent them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetItem {
    pub product_id: i64,
    pub quantity: Decimal,
    pub unit_value: Decimal,
    pub discount: Decimal,
    pub total_value: Decimal,
}

/// The budget items found, and a note for each line that has no V2 product.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatchedProducts {
    pub items: Vec<BudgetItem>,
    pub notes: Vec<Note>,
}

/// Matches each line, whose code is the line's own or the one resolved from the Agendor
/// product catalogue. Lines are never created as V2 products.
pub fn match_products(
    lines: &[(ProductLine, Option<String>)],
    registries: &Registries,
) -> MatchedProducts {
    let mut matched = MatchedProducts::default();
    for (line, code) in lines {
        let product = ProductRef {
            name: line.name.clone(),
            agendor_id: line.product_id,
        };
        let Some(code) = code
            .as_deref()
            .map(str::trim)
            .filter(|code| !code.is_empty())
        else {
            matched.notes.push(Note::ProductWithoutCode { product });
            continue;
        };
        match registries.product(code) {
            Lookup::Found(product_id) => matched.items.push(BudgetItem {
                product_id,
                quantity: line.quantity,
                unit_value: line.unit_value,
                discount: line.discount,
                total_value: line.total_value,
            }),
            Lookup::NotFound => matched.notes.push(Note::ProductNotFound {
                product,
                code: code.to_owned(),
            }),
            Lookup::Ambiguous(ids) => matched.notes.push(Note::ProductAmbiguous {
                product,
                code: code.to_owned(),
                matches: ids.len(),
            }),
        }
    }
    matched
}

/// Returns the budget's `observacao`: one line per product that was not located.
pub fn budget_observation(notes: &[Note]) -> Option<String> {
    let lines: Vec<String> = notes.iter().map(Note::portuguese).collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}
