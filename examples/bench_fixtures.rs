//! Fixture generator for the benchmark (`bench/run`).
//!
//! Usage: `bench_fixtures N DIR`. Writes into DIR the files `examples/fake_agendor.rs`
//! serves: `deals.json` with N won deals (ids from 70000001), `organizations.json`,
//! `people.json` (empty), `products.json`, `users_me.json` and `custom_fields.json`.
//!
//! Every deal is meant to be created by a sync against the registries of
//! `sandbox/registries.sql` with no warning:
//! - deal i belongs to organization i mod M, where M = ceil(N / 10), so each organization
//!   has about 10 deals spread over the whole stream. Each organization has its own
//!   valid CNPJ, a state registration, an e-mail, a landline and an address in a city
//!   of the IBGE list;
//! - every deal has 2 product lines whose codes are manufacturer references of active
//!   products of company 1. In 1 deal of 20 the second line has no code, and its
//!   product id is one of the catalogue products of `products.json`;
//! - the custom fields `hospital`, `convenio`, `medico`, `vendedor`,
//!   `procedimento_cirurgico` and `paciente` name rows of company 1.
//!
//! Stdout gets one line with the counts that decide how many requests a sync needs:
//! `deals=N organizations=M lines_without_code=K products_without_code=P`, where P is the
//! number of distinct catalogue products behind the K lines without a code.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use agendor_sync::documents::validate_cnpj;
use anyhow::{Context, bail};
use serde_json::{Value, json};

const FIRST_DEAL_ID: i64 = 70_000_001;
const FIRST_ORGANIZATION_ID: i64 = 80_000_001;
const DEALS_PER_ORGANIZATION: usize = 10;
/// One deal in this many has a product line without a code.
const LINE_WITHOUT_CODE_EVERY: usize = 20;
/// Upper bound on N, so that generated CNPJs, phones and state registrations stay
/// distinct and well formed.
const MAX_DEALS: usize = 1_000_000;
/// The Agendor account id that the sandbox fixtures use.
const ACCOUNT_ID: i64 = 301_122;

/// A catalogue product: Agendor id, name, code (a manufacturer reference of an active
/// product of company 1 in `sandbox/registries.sql`) and unit price in cents.
struct CatalogueProduct {
    id: i64,
    name: &'static str,
    code: &'static str,
    unit_cents: i64,
}

/// Only references that match exactly one active product of company 1, so no line gets
/// an "ambiguous product" note. `FIO-KIR-1.5` is left out for that reason.
const PRODUCTS: [CatalogueProduct; 8] = [
    product(
        1_411_801,
        "Placa bloqueada de compressão 3,5 mm 8 furos",
        "PLC-3.5-08",
        48_010,
    ),
    product(
        1_411_802,
        "Parafuso cortical 3,5 x 24 mm",
        "PAR-CORT-3.5x24",
        6_235,
    ),
    product(
        1_411_803,
        "Parafuso bloqueado 3,5 x 20 mm",
        "PAR-BLQ-3.5x20",
        9_550,
    ),
    product(
        1_411_804,
        "Haste intramedular femoral 10 x 380 mm",
        "HST-FEM-10x380",
        689_000,
    ),
    product(1_411_805, "Componente acetabular 52 mm", "ACT-52", 435_000),
    product(1_411_806, "Cimento ósseo 40 g", "CIM-OSS-40", 31_000),
    product(
        1_411_807,
        "Parafuso pedicular 6,0 x 45 mm",
        "PED-6.0x45",
        125_000,
    ),
    product(
        1_411_808,
        "Barra de titânio 5,5 x 400 mm",
        "BAR-TI-5.5x400",
        89_000,
    ),
];

const fn product(
    id: i64,
    name: &'static str,
    code: &'static str,
    unit_cents: i64,
) -> CatalogueProduct {
    CatalogueProduct {
        id,
        name,
        code,
        unit_cents,
    }
}

/// Registry values of company 1, as the deals' custom fields spell them.
const HOSPITALS: [&str; 4] = [
    "Hospital São Lucas",
    "Hospital Santa Helena",
    "Hospital Bela Vista",
    "Hospital Ortopédico do ABC",
];
const HEALTH_PLANS: [&str; 5] = [
    "Unimed",
    "Bradesco Saúde",
    "SulAmérica Saúde",
    "Amil",
    "Particular",
];
/// Doctors by name (with the title the sync drops) or by CRM.
const DOCTORS: [&str; 4] = [
    "Dr. Ricardo Almeida Prado",
    "Dra. Beatriz Nogueira Campos",
    "CRM 41235/MG",
    "Dra. Ana Luíza Ferraz",
];
/// Sellers by name or by e-mail.
const SELLERS: [&str; 3] = [
    "Carla Menezes",
    "rafael.tavares@distribuidora-opme.example.com",
    "Juliana Castro",
];
const PROCEDURES: [&str; 5] = [
    "Osteossíntese de rádio distal",
    "Osteossíntese de fêmur",
    "Artroscopia de joelho",
    "Artroplastia total de quadril",
    "Osteossíntese de tornozelo",
];

/// Option ids of the select custom fields, as in `sandbox/agendor/custom_fields.json`.
const HOSPITAL_FIRST_OPTION_ID: i64 = 71_001;
const HEALTH_PLAN_FIRST_OPTION_ID: i64 = 71_101;
const PROCEDURE_FIRST_OPTION_ID: i64 = 71_301;

/// An organization's address: city, UF, area code, CEP, street and district.
struct Place {
    city: &'static str,
    uf: &'static str,
    area_code: &'static str,
    cep: &'static str,
    street: &'static str,
    district: &'static str,
}

const PLACES: [Place; 5] = [
    place(
        "Santo André",
        "SP",
        "11",
        "09030-010",
        "Avenida Portugal",
        "Jardim",
    ),
    place(
        "São Paulo",
        "SP",
        "11",
        "01310-100",
        "Avenida Paulista",
        "Bela Vista",
    ),
    place(
        "Rio de Janeiro",
        "RJ",
        "21",
        "22041-001",
        "Rua Barata Ribeiro",
        "Copacabana",
    ),
    place(
        "Belo Horizonte",
        "MG",
        "31",
        "30130-010",
        "Avenida Afonso Pena",
        "Centro",
    ),
    place(
        "Curitiba",
        "PR",
        "41",
        "80010-000",
        "Rua XV de Novembro",
        "Centro",
    ),
];

const fn place(
    city: &'static str,
    uf: &'static str,
    area_code: &'static str,
    cep: &'static str,
    street: &'static str,
    district: &'static str,
) -> Place {
    Place {
        city,
        uf,
        area_code,
        cep,
        street,
        district,
    }
}

/// The Agendor users who own the deals.
const OWNERS: [(i64, &str); 3] = [
    (960_122, "Carla Menezes"),
    (960_119, "Rafael Tavares"),
    (960_125, "Juliana Castro"),
];

fn main() -> anyhow::Result<()> {
    let (deal_count, dir) = parse_args()?;
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("failed to create the fixture directory {}", dir.display()))?;

    let organization_count = deal_count.div_ceil(DEALS_PER_ORGANIZATION);
    let organizations: Vec<Value> = (0..organization_count).map(organization).collect();
    let deals: Vec<Value> = (0..deal_count)
        .map(|index| deal(index, organization_count))
        .collect();

    write_json(&dir, "deals.json", &Value::Array(deals))?;
    write_json(&dir, "organizations.json", &Value::Array(organizations))?;
    write_json(&dir, "people.json", &json!([]))?;
    write_json(&dir, "products.json", &catalogue())?;
    write_json(&dir, "users_me.json", &users_me())?;
    write_json(&dir, "custom_fields.json", &custom_fields())?;

    let codeless: Vec<usize> = (0..deal_count).filter(|&i| lacks_code(i)).collect();
    let codeless_products: BTreeSet<i64> = codeless
        .iter()
        .map(|&index| line_products(index).1.id)
        .collect();
    println!(
        "deals={deal_count} organizations={organization_count} lines_without_code={} \
         products_without_code={}",
        codeless.len(),
        codeless_products.len()
    );
    Ok(())
}

fn parse_args() -> anyhow::Result<(usize, PathBuf)> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [count, dir] = args.as_slice() else {
        bail!("usage: bench_fixtures N DIR (N won deals, written as JSON fixtures into DIR)");
    };

    let deal_count: usize = count
        .parse()
        .ok()
        .filter(|count| (1..=MAX_DEALS).contains(count))
        .with_context(|| {
            format!("invalid deal count `{count}`: expected an integer from 1 to {MAX_DEALS}")
        })?;
    Ok((deal_count, PathBuf::from(dir)))
}

fn write_json(dir: &Path, file_name: &str, value: &Value) -> anyhow::Result<()> {
    let file_path = dir.join(file_name);
    let file = File::create(&file_path)
        .with_context(|| format!("failed to create {}", file_path.display()))?;

    let mut writer = BufWriter::new(file);
    serde_json::to_writer(&mut writer, value)
        .and_then(|()| writer.flush().map_err(serde_json::Error::io))
        .with_context(|| format!("failed to write {}", file_path.display()))
}

fn organization(index: usize) -> Value {
    let id = FIRST_ORGANIZATION_ID + index as i64;
    let place = &PLACES[index % PLACES.len()];
    let number = index + 1;
    let name = format!("Clínica Ortopédica Benchmark {number}");

    json!({
        "id": id,
        "name": name,
        "legalName": format!("{name} Ltda"),
        "cnpj": masked_cnpj(index),
        "description": null,
        "website": null,
        "ranking": 3,
        "category": {"id": 4_077_793, "name": "Cliente efetivo"},
        "sector": {"id": 5_849_181, "name": "Saúde"},
        "ownerUser": {"id": OWNERS[0].0, "name": OWNERS[0].1},
        "contact": {
            "email": format!("compras{number}@clinica-benchmark.example.com"),
            "work": format!("({}) 3{:03}-{:04}", place.area_code, index / 10_000, index % 10_000),
            "mobile": null,
            "whatsapp": null,
            "fax": null,
            "facebook": null,
            "twitter": null,
            "instagram": null,
            "linkedIn": null,
            "skype": null
        },
        "address": {
            "postalCode": place.cep,
            "country": "Brasil",
            "state": place.uf,
            "city": place.city,
            "district": place.district,
            "streetName": place.street,
            "streetNumber": (100 + index % 900).to_string(),
            "additionalInfo": format!("Sala {}", 1 + index % 20)
        },
        "people": [],
        "products": [],
        "allowedUsers": [],
        "createdAt": "2025-06-02T14:00:00.000Z",
        "updatedAt": "2026-10-20T10:00:00.000Z",
        "customFields": {"inscricao_estadual": state_registration(index)},
        "_webUrl": format!("https://web.agendor.com.br/sistema/empresas/historico.php?id={id}")
    })
}

/// Returns the CNPJ `2XXXXXXX/0001-DV` of organization `index`, masked, with the check
/// digits found by trying the 100 pairs.
fn masked_cnpj(index: usize) -> String {
    let root = 20_000_000 + index;
    let base = format!("{root:08}0001");
    let check_digits = (0..100)
        .map(|pair| format!("{pair:02}"))
        .find(|pair| validate_cnpj(&format!("{base}{pair}")).is_ok())
        .expect("exactly one pair of check digits makes a CNPJ valid");

    let digits = format!("{base}{check_digits}");
    format!(
        "{}.{}.{}/{}-{}",
        &digits[0..2],
        &digits[2..5],
        &digits[5..8],
        &digits[8..12],
        &digits[12..14]
    )
}

/// Returns a 12-digit state registration, masked as São Paulo's (`123.456.789.110`).
fn state_registration(index: usize) -> String {
    let digits = format!("{:012}", 110_000_000_000 + index as u64);
    format!(
        "{}.{}.{}.{}",
        &digits[0..3],
        &digits[3..6],
        &digits[6..9],
        &digits[9..12]
    )
}

fn lacks_code(index: usize) -> bool {
    index % LINE_WITHOUT_CODE_EVERY == LINE_WITHOUT_CODE_EVERY - 1
}

/// Returns the products of a deal's two lines. The lines without a code (deal `20k + 19`)
/// cycle through the whole catalogue with `k`, so that P grows to the catalogue's size and
/// the sync's cache of product codes shows.
fn line_products(index: usize) -> (&'static CatalogueProduct, &'static CatalogueProduct) {
    let count = PRODUCTS.len();
    match lacks_code(index) {
        true => {
            let cycle = index / LINE_WITHOUT_CODE_EVERY;
            (&PRODUCTS[(cycle + 1) % count], &PRODUCTS[cycle % count])
        }
        false => (&PRODUCTS[index % count], &PRODUCTS[(index + 3) % count]),
    }
}

fn deal(index: usize, organization_count: usize) -> Value {
    let id = FIRST_DEAL_ID + index as i64;
    let organization_index = index % organization_count;
    let organization_id = FIRST_ORGANIZATION_ID + organization_index as i64;
    let organization_name = format!("Clínica Ortopédica Benchmark {}", organization_index + 1);
    let procedure = PROCEDURES[index % PROCEDURES.len()];
    let (owner_id, owner_name) = OWNERS[index % OWNERS.len()];

    let (first_product, second_product) = line_products(index);
    let first = product_line(first_product, 1 + index % 3, 0, true);
    let discount_cents = if index % 7 == 0 { 1_000 } else { 0 };
    let second = product_line(
        second_product,
        2 + index % 5,
        discount_cents,
        !lacks_code(index),
    );
    let value = first.total_cents + second.total_cents;

    let day = 2 + index % 27;
    let hour = 10 + index % 8;
    let won_at = format!("2026-11-{day:02}T{hour:02}:20:11.000Z");
    json!({
        "id": id,
        "accountId": ACCOUNT_ID,
        "title": format!("{procedure} - {organization_name}"),
        "description": null,
        "value": money(value),
        "ranking": 4,
        "dealStatus": {"id": 2, "name": "Ganho"},
        "dealStage": {
            "id": 2_835_671,
            "name": "Fechamento",
            "sequence": 5,
            "funnel": {"id": 696_449, "name": "Funil OPME"}
        },
        "owner": {"id": owner_id, "name": owner_name},
        "author": {"id": owner_id, "name": owner_name},
        "organization": {"id": organization_id, "name": organization_name},
        "person": null,
        "startTime": "2026-10-27T00:00:00.000Z",
        "endTime": format!("2026-11-{day:02}T00:00:00.000Z"),
        "wonAt": won_at,
        "lostAt": null,
        "lossReason": null,
        "createdAt": "2026-10-27T12:30:00.000Z",
        "updatedAt": won_at,
        "products": [first.reference, second.reference],
        "products_entities": [first.line, second.line],
        "allowedUsers": [],
        "customFields": custom_field_values(index),
        "_webUrl": format!("https://web.agendor.com.br/sistema/negocios/historico.php?id={id}")
    })
}

/// One item of a deal's `products_entities`, its `products` reference and its total.
struct GeneratedLine {
    line: Value,
    reference: Value,
    total_cents: i64,
}

fn product_line(
    product: &CatalogueProduct,
    quantity: usize,
    discount_cents: i64,
    with_code: bool,
) -> GeneratedLine {
    let total_cents = product.unit_cents * quantity as i64 - discount_cents;
    // As in the sandbox fixtures, the line's `id` is the catalogue product id.
    let mut line = json!({
        "id": product.id,
        "createdAt": "2026-10-28T13:00:00.000Z",
        "quantity": quantity,
        "unitValue": money(product.unit_cents),
        "discount": money(discount_cents),
        "totalValue": money(total_cents),
    });
    if with_code {
        line["name"] = json!(product.name);
        line["code"] = json!(product.code);
    }

    GeneratedLine {
        line,
        reference: json!({"id": product.id, "name": product.name}),
        total_cents,
    }
}

/// Converts cents to a JSON number. Dividing an integer below 2^53 by 100 gives the
/// double nearest the decimal, which serde_json prints as that decimal (480.1, 374.1).
fn money(cents: i64) -> Value {
    json!(cents as f64 / 100.0)
}

/// Custom fields as Agendor sends them: select fields alternate between a plain string
/// and an option object `{"id", "value"}`, since the sync reads both.
fn custom_field_values(index: usize) -> Value {
    let hospital = index % HOSPITALS.len();
    let health_plan = index % HEALTH_PLANS.len();
    let procedure = index % PROCEDURES.len();
    let as_option = index % 2 == 1;

    json!({
        "hospital": select_value(as_option, HOSPITAL_FIRST_OPTION_ID, hospital, HOSPITALS[hospital]),
        "convenio": select_value(
            as_option,
            HEALTH_PLAN_FIRST_OPTION_ID,
            health_plan,
            HEALTH_PLANS[health_plan],
        ),
        "paciente": format!("Paciente Benchmark {}", index + 1),
        "medico": DOCTORS[index % DOCTORS.len()],
        "grade_da_cirurgia": format!("Sala {} - 07:30", 1 + index % 4),
        "procedimento_cirurgico": select_value(
            as_option,
            PROCEDURE_FIRST_OPTION_ID,
            procedure,
            PROCEDURES[procedure],
        ),
        "vendedor": SELLERS[index % SELLERS.len()]
    })
}

fn select_value(as_option: bool, first_option_id: i64, position: usize, value: &str) -> Value {
    match as_option {
        true => json!({"id": first_option_id + position as i64, "value": value}),
        false => json!(value),
    }
}

fn catalogue() -> Value {
    let products: Vec<Value> = PRODUCTS
        .iter()
        .map(|product| {
            json!({
                "id": product.id,
                "name": product.name,
                "code": product.code,
                "description": null,
                "price": money(product.unit_cents),
                "active": true
            })
        })
        .collect();
    Value::Array(products)
}

fn users_me() -> Value {
    json!({
        "id": 960_100,
        "accountId": ACCOUNT_ID,
        "name": "Integração Agendor",
        "contact": {"email": "integracao.agendor@distribuidora-opme.example.com"}
    })
}

fn custom_fields() -> Value {
    json!({
        "deals": [
            select_field(8101, "hospital", "Hospital", HOSPITAL_FIRST_OPTION_ID, &HOSPITALS),
            select_field(8102, "convenio", "Convênio", HEALTH_PLAN_FIRST_OPTION_ID, &HEALTH_PLANS),
            {"id": 8103, "key": "paciente", "name": "Paciente", "type": "text"},
            {"id": 8104, "key": "medico", "name": "Médico", "type": "text"},
            {"id": 8105, "key": "grade_da_cirurgia", "name": "Grade da cirurgia", "type": "text"},
            select_field(
                8106,
                "procedimento_cirurgico",
                "Procedimento cirúrgico",
                PROCEDURE_FIRST_OPTION_ID,
                &PROCEDURES,
            ),
            {"id": 8107, "key": "vendedor", "name": "Vendedor", "type": "text"}
        ],
        "organizations": [
            {"id": 8201, "key": "inscricao_estadual", "name": "Inscrição estadual", "type": "text"}
        ],
        "people": []
    })
}

fn select_field(id: i64, key: &str, name: &str, first_option_id: i64, values: &[&str]) -> Value {
    let options: Vec<Value> = values
        .iter()
        .zip(first_option_id..)
        .map(|(value, option_id)| json!({"id": option_id, "value": value}))
        .collect();
    json!({"id": id, "key": key, "name": name, "type": "select", "options": options})
}
