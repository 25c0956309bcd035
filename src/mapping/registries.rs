//! In-memory indexes of the V2 registries, read once per company and run.

use std::collections::HashMap;

use crate::documents::normalize_document;
use crate::mapping::client::ClientKind;
use crate::text::name_key;

/// The result of looking a name up in a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Found(i64),
    NotFound,
    /// More than one row matches; none is chosen.
    Ambiguous(Vec<i64>),
}

/// Rows indexed by a normalised key; equality only, never a substring or fuzzy match.
#[derive(Debug, Default, Clone)]
pub struct KeyIndex {
    ids_by_key: HashMap<String, Vec<i64>>,
}

impl KeyIndex {
    fn insert(&mut self, key: String, id: i64) {
        let ids = self.ids_by_key.entry(key).or_default();
        if !ids.contains(&id) {
            ids.push(id);
        }
    }

    fn get(&self, key: &str) -> Lookup {
        match self.ids_by_key.get(key).map(Vec::as_slice) {
            None | Some([]) => Lookup::NotFound,
            Some([id]) => Lookup::Found(*id),
            Some(ids) => Lookup::Ambiguous(ids.to_vec()),
        }
    }
}

/// Rows indexed by [`name_key`] of their name.
#[derive(Debug, Default, Clone)]
pub struct NameIndex(KeyIndex);

impl NameIndex {
    pub fn add(&mut self, id: i64, name: &str) {
        self.0.insert(name_key(name), id);
    }

    pub fn find(&self, name: &str) -> Lookup {
        self.0.get(&name_key(name))
    }
}

/// Every registry the mapping of one deal consults.
#[derive(Debug, Default, Clone)]
pub struct Registries {
    cities: KeyIndex,
    products: KeyIndex,
    pub hospitals: NameIndex,
    pub health_plans: NameIndex,
    pub procedures: NameIndex,
    sellers_by_name: NameIndex,
    sellers_by_email: KeyIndex,
    doctors_by_name: NameIndex,
    doctors_by_crm: KeyIndex,
    clients: HashMap<(ClientKind, String), i64>,
}

impl Registries {
    /// Indexes a client by its normalised document; the first client added for a
    /// document keeps it, so callers add the preferred one (active, oldest) first.
    pub fn add_client(&mut self, id: i64, kind: ClientKind, document: &str) {
        let document = normalize_document(document);
        if !document.is_empty() {
            self.clients.entry((kind, document)).or_insert(id);
        }
    }

    /// Finds a client by its normalised CNPJ (company) or CPF (individual).
    pub fn client(&self, kind: ClientKind, document: &str) -> Option<i64> {
        self.clients
            .get(&(kind, normalize_document(document)))
            .copied()
    }

    pub fn add_city(&mut self, id: i64, name: String, uf: String) {
        self.cities.insert(city_key(&name, &uf), id);
    }

    /// Finds a city by name within a UF (a two-letter code).
    pub fn city(&self, name: &str, uf: &str) -> Lookup {
        self.cities.get(&city_key(name, uf))
    }

    /// Indexes an active product by its manufacturer reference.
    pub fn add_product(&mut self, id: i64, manufacturer_reference: String) {
        let key = product_key(&manufacturer_reference);
        if !key.is_empty() {
            self.products.insert(key, id);
        }
    }

    /// Finds the active product whose manufacturer reference equals `code`, trimmed and
    /// ignoring case; the whole value only.
    pub fn product(&self, code: &str) -> Lookup {
        self.products.get(&product_key(code))
    }

    pub fn add_seller(&mut self, id: i64, name: String, email: Option<String>) {
        self.sellers_by_name.add(id, &name);
        if let Some(email) = email.filter(|email| !email.trim().is_empty()) {
            self.sellers_by_email
                .insert(email.trim().to_lowercase(), id);
        }
    }

    /// Finds a seller by e-mail when the value is one, otherwise by name.
    pub fn seller(&self, value: &str) -> Lookup {
        if value.contains('@') {
            self.sellers_by_email.get(&value.trim().to_lowercase())
        } else {
            self.sellers_by_name.find(value)
        }
    }

    pub fn add_doctor(&mut self, id: i64, name: String, crm: Option<String>, uf: Option<String>) {
        self.doctors_by_name.add(id, strip_title(&name));
        if let Some(number) = crm.as_deref().and_then(crm_number) {
            self.doctors_by_crm.insert(number.clone(), id);
            match uf.as_deref().and_then(crate::contact::normalize_uf) {
                Some(uf) => self.doctors_by_crm.insert(format!("{number}/{uf}"), id),
                None => self.doctors_by_crm.insert(format!("{number}/?"), id),
            }
        }
    }

    /// Finds a doctor by CRM number when the text contains one (with its UF when given),
    /// otherwise by name, a leading "Dr."/"Dra." ignored.
    pub fn doctor(&self, value: &str) -> Lookup {
        match parse_crm(value) {
            Some((number, Some(uf))) => match self.doctors_by_crm.get(&format!("{number}/{uf}")) {
                // A doctor registered without a UF matches the number alone.
                Lookup::NotFound => self.doctors_by_crm.get(&format!("{number}/?")),
                found => found,
            },
            Some((number, None)) => self.doctors_by_crm.get(&number),
            None => self.doctors_by_name.find(strip_title(value)),
        }
    }
}

fn city_key(name: &str, uf: &str) -> String {
    format!("{}|{}", uf.trim().to_uppercase(), name_key(name))
}

fn product_key(code: &str) -> String {
    code.trim().to_uppercase()
}

/// Removes a leading "Dr.", "Dra.", "Dr" or "Dra" title from a doctor's name.
fn strip_title(name: &str) -> &str {
    let trimmed = name.trim_start();
    for title in ["dra.", "dr.", "dra ", "dr "] {
        if trimmed.len() >= title.len()
            && trimmed.is_char_boundary(title.len())
            && trimmed[..title.len()].eq_ignore_ascii_case(title)
        {
            return trimmed[title.len()..].trim_start();
        }
    }
    trimmed
}

/// Digits of a CRM registration without leading zeros.
fn crm_number(raw: &str) -> Option<String> {
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    let number = digits.trim_start_matches('0');
    (!number.is_empty()).then(|| number.to_owned())
}

/// Reads a CRM number, and its UF when present, from free text such as
/// "Dr. Ana Lima - CRM 123456/SP", "CRM/SP 123456" or "123456".
fn parse_crm(text: &str) -> Option<(String, Option<&'static str>)> {
    let digits: String = text
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect();
    if digits.len() < 4 {
        return None;
    }
    let number = crm_number(&digits)?;

    let uf = text
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|word| word.len() == 2 && !word.eq_ignore_ascii_case("dr"))
        .find_map(crate::contact::normalize_uf);
    Some((number, uf))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registries() -> Registries {
        let mut registries = Registries::default();
        registries.add_city(1, "São Paulo".into(), "SP".into());
        registries.add_city(2, "Olho d'Água das Flores".into(), "AL".into());
        registries.add_city(3, "Bom Jesus".into(), "PI".into());
        registries.add_city(4, "Bom Jesus".into(), "RS".into());
        registries.add_product(10, "PLC-3.5-08".into());
        registries.add_product(11, "DUP-01".into());
        registries.add_product(12, " dup-01 ".into());
        registries.add_doctor(
            20,
            "Dra. Ana Lima".into(),
            Some("123456".into()),
            Some("SP".into()),
        );
        registries.add_doctor(
            21,
            "Carlos Souza".into(),
            Some("0654321".into()),
            Some("RJ".into()),
        );
        registries.add_doctor(22, "Beatriz Reis".into(), Some("555555".into()), None);
        registries.add_seller(30, "Carla Menezes".into(), Some("Carla@Example.com".into()));
        registries
    }

    #[test]
    fn city_matches_by_normalised_name_within_its_uf() {
        let registries = registries();
        let cases = [
            ("São Paulo", "SP", Lookup::Found(1)),
            ("  sao   paulo ", "sp", Lookup::Found(1)),
            ("OLHO D’AGUA DAS FLORES", "AL", Lookup::Found(2)),
            ("S. Paulo", "SP", Lookup::NotFound),
            ("Paulo", "SP", Lookup::NotFound),
            ("São Paulo", "RJ", Lookup::NotFound),
            ("Bom Jesus", "RS", Lookup::Found(4)),
        ];
        for (name, uf, expected) in cases {
            assert_eq!(registries.city(name, uf), expected, "{name}/{uf}");
        }
    }

    #[test]
    fn product_matches_whole_reference_ignoring_case() {
        let registries = registries();
        let cases = [
            ("PLC-3.5-08", Lookup::Found(10)),
            (" plc-3.5-08 ", Lookup::Found(10)),
            ("PLC-3.5", Lookup::NotFound),
            ("PLC-3.5-08X", Lookup::NotFound),
            ("DUP-01", Lookup::Ambiguous(vec![11, 12])),
        ];
        for (code, expected) in cases {
            assert_eq!(registries.product(code), expected, "{code}");
        }
    }

    #[test]
    fn doctor_matches_by_crm_or_name() {
        let registries = registries();
        let cases = [
            ("Dra. Ana Lima", Lookup::Found(20)),
            ("ana lima", Lookup::Found(20)),
            ("Dr. Carlos Souza", Lookup::Found(21)),
            ("CRM 123456/SP", Lookup::Found(20)),
            ("Dr. Fulano - CRM/RJ 654321", Lookup::Found(21)),
            ("654321", Lookup::Found(21)),
            ("CRM 123456/RJ", Lookup::NotFound),
            ("CRM 555555/SP", Lookup::Found(22)),
            ("555555", Lookup::Found(22)),
            ("Ana", Lookup::NotFound),
        ];
        for (text, expected) in cases {
            assert_eq!(registries.doctor(text), expected, "{text}");
        }
    }

    #[test]
    fn client_matches_by_normalised_document_and_kind() {
        let mut registries = Registries::default();
        registries.add_client(1, ClientKind::Company, "47.285.163/0001-21");
        registries.add_client(2, ClientKind::Company, "47285163000121");
        registries.add_client(3, ClientKind::Individual, "705.318.246-08");

        assert_eq!(
            registries.client(ClientKind::Company, "47285163000121"),
            Some(1)
        );
        assert_eq!(
            registries.client(ClientKind::Individual, "70531824608"),
            Some(3)
        );
        assert_eq!(
            registries.client(ClientKind::Individual, "47285163000121"),
            None
        );
        assert_eq!(
            registries.client(ClientKind::Company, "11222333000181"),
            None
        );
    }

    #[test]
    fn seller_matches_by_email_or_name() {
        let registries = registries();
        assert_eq!(registries.seller("carla@example.com"), Lookup::Found(30));
        assert_eq!(registries.seller("CARLA MENEZES"), Lookup::Found(30));
        assert_eq!(registries.seller("outra@example.com"), Lookup::NotFound);
    }
}
