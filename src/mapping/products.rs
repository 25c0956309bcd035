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
/// product catalogue. Lines are never created as V2 products. A line with a quantity
/// that is not positive, or a negative amount, fails the whole deal.
pub fn match_products(
    lines: &[(ProductLine, Option<String>)],
    registries: &Registries,
) -> Result<MatchedProducts, String> {
    let mut matched = MatchedProducts::default();
    if lines.is_empty() {
        matched.notes.push(Note::NoProducts);
    }
    for (line, code) in lines {
        let product = ProductRef {
            name: line.name.clone(),
            agendor_id: line.product_id,
        };
        check_amounts(line).map_err(|reason| format!("product {product}: {reason}"))?;
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
    Ok(matched)
}

fn check_amounts(line: &ProductLine) -> Result<(), String> {
    if line.quantity <= Decimal::ZERO {
        return Err(format!("quantity {} is not positive", line.quantity));
    }
    let amounts = [
        ("unitValue", line.unit_value),
        ("discount", line.discount),
        ("totalValue", line.total_value),
    ];
    match amounts.iter().find(|(_, amount)| *amount < Decimal::ZERO) {
        Some((key, amount)) => Err(format!("{key} {amount} is negative")),
        None => Ok(()),
    }
}

/// Returns the budget's `observacao`: one line per product that was not located.
pub fn budget_observation(notes: &[Note]) -> Option<String> {
    let lines: Vec<String> = notes.iter().map(Note::portuguese).collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn line(quantity: &str, unit_value: &str, discount: &str, total_value: &str) -> ProductLine {
        let decimal = |raw: &str| Decimal::from_str(raw).unwrap();
        ProductLine {
            product_id: Some(1411781),
            name: Some("Placa".into()),
            code: Some("PLC-3.5-08".into()),
            quantity: decimal(quantity),
            unit_value: decimal(unit_value),
            discount: decimal(discount),
            total_value: decimal(total_value),
        }
    }

    fn registries() -> Registries {
        let mut registries = Registries::default();
        registries.add_product(100, "PLC-3.5-08".into());
        registries
    }

    #[test]
    fn amounts_that_make_no_sense_fail_the_deal() {
        let cases = [
            (line("0", "10", "0", "0"), "quantity 0 is not positive"),
            (
                line("-3", "480.10", "0", "-1440.30"),
                "quantity -3 is not positive",
            ),
            (line("1", "-10", "0", "-10"), "unitValue -10 is negative"),
            (line("1", "10", "-1", "11"), "discount -1 is negative"),
            (line("2", "10", "30", "-10"), "totalValue -10 is negative"),
        ];
        for (line, expected) in cases {
            let code = line.code.clone();
            let error = match_products(&[(line, code)], &registries()).unwrap_err();
            assert!(error.contains(expected), "{error}");
        }
    }

    #[test]
    fn valid_line_becomes_an_item() {
        let line = line("1.5", "480.10", "0", "720.15");
        let code = line.code.clone();

        let matched = match_products(&[(line, code)], &registries()).unwrap();

        assert_eq!(matched.items.len(), 1);
        assert_eq!(matched.items[0].product_id, 100);
        assert!(matched.notes.is_empty());
    }

    #[test]
    fn deal_without_products_gets_a_budget_note() {
        let matched = match_products(&[], &registries()).unwrap();

        assert!(matched.items.is_empty());
        assert_eq!(matched.notes, vec![Note::NoProducts]);
        assert_eq!(
            budget_observation(&matched.notes).unwrap(),
            "Nenhum produto informado no negócio do Agendor."
        );
    }
}
