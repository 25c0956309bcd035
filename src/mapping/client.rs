//! Turning an Agendor organization or person into a V2 client, with every rule V2
//! requires of a client record.

use crate::agendor::{Address, Contact, DocumentValue, Organization, Person, PostalCodeValue};
use crate::contact::{PostalCode, format_phone, normalize_cep, normalize_uf};
use crate::documents::{normalize_state_registration, validate_cnpj, validate_cpf};
use crate::mapping::registries::{Lookup, Registries};
use crate::text::clean_text;

/// PJ (a company, with a CNPJ) or PF (an individual, with a CPF).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientKind {
    Company,
    Individual,
}

impl ClientKind {
    /// Returns the `tipo_pessoa` code V2 stores.
    pub fn code(self) -> &'static str {
        match self {
            ClientKind::Company => "J",
            ClientKind::Individual => "F",
        }
    }
}

/// The Agendor record a client comes from.
#[derive(Debug, Clone, Copy)]
pub enum ClientSource<'a> {
    Organization(&'a Organization),
    Person(&'a Person),
}

/// A validated client, ready to insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewClient {
    pub kind: ClientKind,
    pub name: String,
    pub legal_name: Option<String>,
    pub cpf: Option<String>,
    pub cnpj: Option<String>,
    pub state_registration: Option<String>,
    pub email: String,
    pub phone: String,
    pub cep: String,
    pub street: String,
    pub number: String,
    pub complement: Option<String>,
    pub district: String,
    pub city_id: i64,
}

impl ClientSource<'_> {
    pub fn kind(&self) -> ClientKind {
        match self {
            ClientSource::Organization(_) => ClientKind::Company,
            ClientSource::Person(_) => ClientKind::Individual,
        }
    }

    /// Returns the normalised CNPJ (organization) or CPF (person), or why it is invalid.
    pub fn document(&self) -> Result<String, String> {
        match self {
            ClientSource::Organization(organization) => {
                check_document("CNPJ", &organization.cnpj, validate_cnpj)
            }
            ClientSource::Person(person) => check_document("CPF", &person.cpf, validate_cpf),
        }
    }

    fn contact(&self) -> &Contact {
        match self {
            ClientSource::Organization(organization) => &organization.contact,
            ClientSource::Person(person) => &person.contact,
        }
    }

    fn address(&self) -> &Address {
        match self {
            ClientSource::Organization(organization) => &organization.address,
            ClientSource::Person(person) => &person.address,
        }
    }
}

fn check_document<E: std::fmt::Display>(
    label: &str,
    value: &DocumentValue,
    validate: impl Fn(&str) -> Result<String, E>,
) -> Result<String, String> {
    match value {
        DocumentValue::Missing => Err(format!("{label} is missing")),
        DocumentValue::NotText(raw) => Err(format!(
            "{label} `{raw}` is not text (a JSON number loses leading zeros): store it as \
             text in Agendor"
        )),
        DocumentValue::Text(raw) => {
            validate(raw).map_err(|reason| format!("{label} `{raw}` is invalid: {reason}"))
        }
    }
}

/// Validates every field V2 requires of a new client and returns the client, or every
/// problem found (never just the first).
pub fn new_client(
    source: ClientSource<'_>,
    registries: &Registries,
    state_registration_key: &str,
) -> Result<NewClient, Vec<String>> {
    let mut problems = Vec::new();

    let document = source
        .document()
        .map_err(|problem| problems.push(problem))
        .ok();
    let (name, legal_name, state_registration) = match source {
        ClientSource::Organization(organization) => {
            let legal_name = required(&organization.legal_name, "legal name", &mut problems);
            let raw_registration = organization.custom_fields.text(state_registration_key);
            let registration = normalize_state_registration(raw_registration.as_deref())
                .map_err(|reason| {
                    problems.push(format!(
                        "state registration `{}` is invalid: {reason}",
                        raw_registration.as_deref().unwrap_or_default()
                    ))
                })
                .ok();
            (
                required(&organization.name, "name", &mut problems),
                legal_name,
                registration,
            )
        }
        ClientSource::Person(person) => (required(&person.name, "name", &mut problems), None, None),
    };

    let email = email(source.contact(), &mut problems);
    let phone = phone(source.contact(), &mut problems);
    let address = address(source.address(), registries, &mut problems);

    match (name, email, phone, address, document) {
        (Some(name), Some(email), Some(phone), Some(address), Some(document))
            if problems.is_empty() =>
        {
            let kind = source.kind();
            Ok(NewClient {
                kind,
                name,
                legal_name,
                cpf: (kind == ClientKind::Individual).then(|| document.clone()),
                cnpj: (kind == ClientKind::Company).then_some(document),
                state_registration,
                email,
                phone,
                cep: address.cep,
                street: address.street,
                number: address.number,
                complement: address.complement,
                district: address.district,
                city_id: address.city_id,
            })
        }
        _ => Err(problems),
    }
}

fn required(value: &Option<String>, label: &str, problems: &mut Vec<String>) -> Option<String> {
    let cleaned = value
        .as_deref()
        .map(clean_text)
        .filter(|value| !value.is_empty());
    if cleaned.is_none() {
        problems.push(format!("{label} is missing"));
    }
    cleaned
}

fn optional(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(clean_text)
        .filter(|value| !value.is_empty())
}

fn email(contact: &Contact, problems: &mut Vec<String>) -> Option<String> {
    let email = required(&contact.email, "e-mail", problems)?;
    if is_plausible_email(&email) {
        Some(email)
    } else {
        problems.push(format!("e-mail `{email}` is invalid"));
        None
    }
}

/// Checks the syntax only: one `@`, a non-empty local part, a dotted domain, no spaces.
fn is_plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && !email.chars().any(char::is_whitespace)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
}

/// Takes the first valid number of work, mobile and WhatsApp, in that order.
fn phone(contact: &Contact, problems: &mut Vec<String>) -> Option<String> {
    let candidates: Vec<&str> = [&contact.work, &contact.mobile, &contact.whatsapp]
        .into_iter()
        .filter_map(|value| value.as_deref())
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .collect();
    if candidates.is_empty() {
        problems.push("phone is missing (work, mobile and WhatsApp are all empty)".into());
        return None;
    }

    let mut reasons = Vec::new();
    for candidate in &candidates {
        match format_phone(candidate) {
            Ok(phone) => return Some(phone),
            Err(reason) => reasons.push(format!("`{candidate}` ({reason})")),
        }
    }
    problems.push(format!("phone is invalid: {}", reasons.join(", ")));
    None
}

struct ValidAddress {
    cep: String,
    street: String,
    number: String,
    complement: Option<String>,
    district: String,
    city_id: i64,
}

fn address(
    address: &Address,
    registries: &Registries,
    problems: &mut Vec<String>,
) -> Option<ValidAddress> {
    let street = required(&address.street_name, "street", problems);
    let number = required(&address.street_number, "street number", problems);
    let district = required(&address.district, "district", problems);
    let cep = cep(address.postal_code.as_ref(), problems);
    let uf = uf(&address.state, problems);
    let city = required(&address.city, "city", problems);

    let city_id = match (&city, uf) {
        (Some(city), Some(uf)) => match registries.city(city, uf) {
            Lookup::Found(id) => Some(id),
            Lookup::NotFound => {
                problems.push(format!(
                    "city `{city}`/{uf} not found in table cidades: register it in V2 or \
                     correct the address in Agendor"
                ));
                None
            }
            Lookup::Ambiguous(ids) => {
                problems.push(format!(
                    "city `{city}`/{uf} matches {} rows of table cidades: remove the duplicate \
                     in V2",
                    ids.len()
                ));
                None
            }
        },
        _ => None,
    };

    Some(ValidAddress {
        cep: cep?,
        street: street?,
        number: number?,
        complement: optional(&address.additional_info),
        district: district?,
        city_id: city_id?,
    })
}

fn cep(value: Option<&PostalCodeValue>, problems: &mut Vec<String>) -> Option<String> {
    let (input, raw) = match value {
        None => {
            problems.push("CEP is missing".into());
            return None;
        }
        Some(PostalCodeValue::Text(text)) => (PostalCode::Text(text), text),
        Some(PostalCodeValue::Number(digits)) => (PostalCode::Number(digits), digits),
    };
    normalize_cep(input)
        .map_err(|reason| problems.push(format!("CEP `{raw}` is invalid: {reason}")))
        .ok()
}

fn uf(state: &Option<String>, problems: &mut Vec<String>) -> Option<&'static str> {
    let state = required(state, "UF (state)", problems)?;
    let uf = normalize_uf(&state);
    if uf.is_none() {
        problems.push(format!(
            "UF `{state}` is not one of the 27 Brazilian state codes or names"
        ));
    }
    uf
}
