//! Every query against V2 tables. Mapping onto a V2 installation whose table or column
//! names differ from the reference schema is a change to this file alone.

use rust_decimal::Decimal;
use secrecy::SecretString;
use sqlx::{PgConnection, PgPool, Row};

use crate::mapping::{BudgetItem, ClientKind, NewClient, NewSurgery, Registries};

/// The surgery stage and status the sync writes.
pub const STAGE_PRE_QUOTE: &str = "ORCAMENTO_PRE";
pub const STATUS_APPROVED: &str = "APROVADA";
pub const BUDGET_TYPE_PRE: &str = "PRE";

/// Tables and columns the sync reads or writes; checked before any deal is processed.
pub const REQUIRED_COLUMNS: &[(&str, &[&str])] = &[
    ("cidades", &["id", "nome", "uf", "codigo_ibge"]),
    (
        "empresas",
        &[
            "id",
            "nome",
            "agendor_modulo_contratado",
            "agendor_integracao_ativa",
            "agendor_usuario_id",
            "agendor_token",
        ],
    ),
    ("usuarios", &["id", "empresa_id", "nome", "ativo"]),
    (
        "clientes",
        &[
            "id",
            "empresa_id",
            "tipo_pessoa",
            "nome",
            "razao_social",
            "cpf",
            "cnpj",
            "inscricao_estadual",
            "email",
            "telefone",
            "cep",
            "logradouro",
            "numero",
            "complemento",
            "bairro",
            "cidade_id",
            "ativo",
            "criado_por_id",
            "criado_em",
        ],
    ),
    (
        "produtos",
        &["id", "empresa_id", "referencia_fabricante", "ativo"],
    ),
    ("hospitais", &["id", "empresa_id", "nome", "ativo"]),
    ("convenios", &["id", "empresa_id", "nome", "ativo"]),
    (
        "vendedores",
        &["id", "empresa_id", "nome", "email", "ativo"],
    ),
    (
        "medicos",
        &["id", "empresa_id", "nome", "crm", "crm_uf", "ativo"],
    ),
    (
        "procedimentos",
        &["id", "empresa_id", "descricao", "ativo", "criado_em"],
    ),
    (
        "cirurgias",
        &[
            "id",
            "empresa_id",
            "codigo_legado",
            "cliente_id",
            "hospital_id",
            "convenio_id",
            "medico_id",
            "procedimento_id",
            "vendedor_id",
            "usuario_id",
            "paciente",
            "data_cirurgia",
            "observacao",
            "observacao_agendamento",
            "etapa",
            "status",
            "data_cadastro",
        ],
    ),
    (
        "cirurgia_orcamentos",
        &["id", "cirurgia_id", "tipo", "observacao"],
    ),
    (
        "cirurgia_orcamento_itens",
        &[
            "id",
            "orcamento_id",
            "sequencia",
            "produto_id",
            "quantidade",
            "valor_unitario",
            "desconto",
            "valor_total",
        ],
    ),
];

/// A value that does not fit its V2 column; the deal fails with this message instead of
/// a raw database error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FitError {
    #[error("{table}.{column} holds at most {limit} characters, but the value has {length}")]
    TooLong {
        table: &'static str,
        column: &'static str,
        limit: usize,
        length: usize,
    },
    #[error("{table}.{column} is numeric({precision},{scale}), which cannot store {value} exactly")]
    NumericOutOfRange {
        table: &'static str,
        column: &'static str,
        precision: u32,
        scale: u32,
        value: Decimal,
    },
}

/// A company's integration settings, from its record in `empresas`.
#[derive(Debug, Clone)]
pub struct Company {
    pub id: i64,
    pub name: String,
    pub module_contracted: bool,
    pub integration_enabled: bool,
    pub user_id: Option<i64>,
    pub token: Option<SecretString>,
}

/// The integration user recorded as author of what the sync writes.
#[derive(Debug, Clone)]
pub struct User {
    pub company_id: i64,
    pub active: bool,
}

/// The tables and columns of [`REQUIRED_COLUMNS`] missing from a database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MissingSchema {
    /// Tables absent altogether.
    pub tables: Vec<String>,
    /// `table.column` pairs missing from tables that exist.
    pub columns: Vec<String>,
}

impl MissingSchema {
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty() && self.columns.is_empty()
    }
}

impl std::fmt::Display for MissingSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if !self.tables.is_empty() {
            parts.push(format!("tables {}", self.tables.join(", ")));
        }
        if !self.columns.is_empty() {
            parts.push(format!("columns {}", self.columns.join(", ")));
        }
        write!(f, "{}", parts.join(" and "))
    }
}

/// Compares the database with [`REQUIRED_COLUMNS`].
pub async fn missing_schema(pool: &PgPool) -> Result<MissingSchema, sqlx::Error> {
    let rows = sqlx::query(
        "select table_name::text, column_name::text from information_schema.columns
         where table_schema = any(current_schemas(false))",
    )
    .fetch_all(pool)
    .await?;
    let present: std::collections::HashSet<(String, String)> =
        rows.iter().map(|row| (row.get(0), row.get(1))).collect();

    let mut missing = MissingSchema::default();
    for (table, columns) in REQUIRED_COLUMNS {
        if !present.iter().any(|(name, _)| name == table) {
            missing.tables.push(table.to_string());
            continue;
        }
        for column in *columns {
            if !present.contains(&(table.to_string(), column.to_string())) {
                missing.columns.push(format!("{table}.{column}"));
            }
        }
    }
    Ok(missing)
}

/// Lists the companies to process: the given ids, or every company with the module
/// contracted and the integration enabled.
pub async fn companies(pool: &PgPool, ids: &[i64]) -> Result<Vec<Company>, sqlx::Error> {
    let rows = sqlx::query(
        "select id, nome, coalesce(agendor_modulo_contratado, false),
                coalesce(agendor_integracao_ativa, false), agendor_usuario_id, agendor_token
         from empresas
         where case when cardinality($1::bigint[]) = 0
                    then agendor_modulo_contratado and agendor_integracao_ativa
                    else id = any($1) end
         order by id",
    )
    .bind(ids)
    .fetch_all(pool)
    .await?;

    Ok(rows
        .into_iter()
        .map(|row| Company {
            id: row.get(0),
            name: row.get(1),
            module_contracted: row.get(2),
            integration_enabled: row.get(3),
            user_id: row.get(4),
            token: row
                .get::<Option<String>, _>(5)
                .filter(|token| !token.trim().is_empty())
                .map(|token| SecretString::from(token.trim().to_owned())),
        })
        .collect())
}

pub async fn user(pool: &PgPool, user_id: i64) -> Result<Option<User>, sqlx::Error> {
    let row = sqlx::query("select empresa_id, coalesce(ativo, false) from usuarios where id = $1")
        .bind(user_id)
        .fetch_optional(pool)
        .await?;
    Ok(row.map(|row| User {
        company_id: row.get(0),
        active: row.get(1),
    }))
}

/// Reads every registry the mapping looks names up in, once per company and run.
pub async fn load_registries(pool: &PgPool, company_id: i64) -> Result<Registries, sqlx::Error> {
    let mut registries = Registries::default();

    let cities = sqlx::query("select id, nome, uf from cidades")
        .fetch_all(pool)
        .await?;
    for row in &cities {
        registries.add_city(row.get(0), row.get(1), row.get(2));
    }

    let products = sqlx::query(
        "select id, referencia_fabricante from produtos
         where empresa_id = $1 and ativo and referencia_fabricante is not null",
    )
    .bind(company_id)
    .fetch_all(pool)
    .await?;
    for row in &products {
        registries.add_product(row.get(0), row.get(1));
    }

    for (table, registry) in [
        ("hospitais", &mut registries.hospitals),
        ("convenios", &mut registries.health_plans),
    ] {
        let sql = format!("select id, nome from {table} where empresa_id = $1 and ativo");
        for row in sqlx::query(&sql).bind(company_id).fetch_all(pool).await? {
            registry.add(row.get(0), row.get::<String, _>(1).as_str());
        }
    }

    let sellers =
        sqlx::query("select id, nome, email from vendedores where empresa_id = $1 and ativo")
            .bind(company_id)
            .fetch_all(pool)
            .await?;
    for row in &sellers {
        registries.add_seller(row.get(0), row.get(1), row.get(2));
    }

    let doctors =
        sqlx::query("select id, nome, crm, crm_uf from medicos where empresa_id = $1 and ativo")
            .bind(company_id)
            .fetch_all(pool)
            .await?;
    for row in &doctors {
        registries.add_doctor(row.get(0), row.get(1), row.get(2), row.get(3));
    }

    let procedures =
        sqlx::query("select id, descricao from procedimentos where empresa_id = $1 and ativo")
            .bind(company_id)
            .fetch_all(pool)
            .await?;
    for row in &procedures {
        registries
            .procedures
            .add(row.get(0), row.get::<String, _>(1).as_str());
    }

    // Documents may be stored masked, which no index serves, so they are normalised
    // here once rather than scanned for every deal.
    let clients = sqlx::query(
        "select id, cpf, cnpj from clientes where empresa_id = $1 order by ativo desc, id",
    )
    .bind(company_id)
    .fetch_all(pool)
    .await?;
    for row in &clients {
        if let Some(cpf) = row.get::<Option<String>, _>(1) {
            registries.add_client(row.get(0), ClientKind::Individual, &cpf);
        }
        if let Some(cnpj) = row.get::<Option<String>, _>(2) {
            registries.add_client(row.get(0), ClientKind::Company, &cnpj);
        }
    }

    Ok(registries)
}

/// Returns the surgery of this company with this legacy code, if any.
pub async fn surgery_by_legacy_code(
    conn: &mut PgConnection,
    company_id: i64,
    legacy_code: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("select id from cirurgias where empresa_id = $1 and codigo_legado = $2")
        .bind(company_id)
        .bind(legacy_code)
        .fetch_optional(conn)
        .await
}

/// Finds a client by its normalised document: V2 may hold the document masked
/// (`47.285.163/0001-21`) or not, so both sides are compared in normal form.
pub async fn client_by_document(
    conn: &mut PgConnection,
    company_id: i64,
    kind: ClientKind,
    document: &str,
) -> Result<Option<i64>, sqlx::Error> {
    let column = match kind {
        ClientKind::Company => "cnpj",
        ClientKind::Individual => "cpf",
    };
    let sql = format!(
        "select id from clientes
         where empresa_id = $1
           and regexp_replace(upper({column}), '[^0-9A-Z]', '', 'g') = $2
         order by ativo desc, id
         limit 1"
    );
    sqlx::query_scalar(&sql)
        .bind(company_id)
        .bind(document)
        .fetch_optional(conn)
        .await
}

pub async fn insert_client(
    conn: &mut PgConnection,
    company_id: i64,
    author_id: i64,
    client: &NewClient,
) -> Result<i64, WriteError> {
    check_lengths(
        "clientes",
        &[
            ("nome", Some(&client.name), 150),
            ("razao_social", client.legal_name.as_ref(), 150),
            ("cpf", client.cpf.as_ref(), 14),
            ("cnpj", client.cnpj.as_ref(), 18),
            ("inscricao_estadual", client.state_registration.as_ref(), 20),
            ("email", Some(&client.email), 254),
            ("telefone", Some(&client.phone), 20),
            ("cep", Some(&client.cep), 9),
            ("logradouro", Some(&client.street), 150),
            ("numero", Some(&client.number), 20),
            ("complemento", client.complement.as_ref(), 100),
            ("bairro", Some(&client.district), 100),
        ],
    )?;

    let id = sqlx::query_scalar(
        "insert into clientes (empresa_id, tipo_pessoa, nome, razao_social, cpf, cnpj,
             inscricao_estadual, email, telefone, cep, logradouro, numero, complemento,
             bairro, cidade_id, ativo, criado_por_id, criado_em)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, true,
             $16, now())
         returning id",
    )
    .bind(company_id)
    .bind(client.kind.code())
    .bind(&client.name)
    .bind(&client.legal_name)
    .bind(&client.cpf)
    .bind(&client.cnpj)
    .bind(&client.state_registration)
    .bind(&client.email)
    .bind(&client.phone)
    .bind(&client.cep)
    .bind(&client.street)
    .bind(&client.number)
    .bind(&client.complement)
    .bind(&client.district)
    .bind(client.city_id)
    .bind(author_id)
    .fetch_one(conn)
    .await?;
    Ok(id)
}

pub async fn insert_procedure(
    conn: &mut PgConnection,
    company_id: i64,
    description: &str,
) -> Result<i64, WriteError> {
    check_lengths(
        "procedimentos",
        &[("descricao", Some(&description.to_owned()), 200)],
    )?;
    let id = sqlx::query_scalar(
        "insert into procedimentos (empresa_id, descricao, ativo, criado_em)
         values ($1, $2, true, now()) returning id",
    )
    .bind(company_id)
    .bind(description)
    .fetch_one(conn)
    .await?;
    Ok(id)
}

/// Inserts the surgery, its pre-budget and the budget items; returns the surgery id.
pub async fn insert_surgery(
    conn: &mut PgConnection,
    surgery: &NewSurgery,
    procedure_id: Option<i64>,
    budget_note: Option<&str>,
    items: &[BudgetItem],
) -> Result<i64, WriteError> {
    check_lengths(
        "cirurgias",
        &[
            ("codigo_legado", Some(&surgery.legacy_code), 64),
            ("paciente", surgery.patient.as_ref(), 150),
        ],
    )?;
    for item in items {
        check_numeric("quantidade", item.quantity, 12, 3)?;
        check_numeric("valor_unitario", item.unit_value, 14, 2)?;
        check_numeric("desconto", item.discount, 14, 2)?;
        check_numeric("valor_total", item.total_value, 16, 2)?;
    }

    let surgery_id: i64 = sqlx::query_scalar(
        "insert into cirurgias (empresa_id, codigo_legado, cliente_id, hospital_id,
             convenio_id, medico_id, procedimento_id, vendedor_id, usuario_id, paciente,
             data_cirurgia, observacao, observacao_agendamento, etapa, status, data_cadastro)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, now())
         returning id",
    )
    .bind(surgery.company_id)
    .bind(&surgery.legacy_code)
    .bind(surgery.client_id)
    .bind(surgery.hospital_id)
    .bind(surgery.health_plan_id)
    .bind(surgery.doctor_id)
    .bind(procedure_id)
    .bind(surgery.seller_id)
    .bind(surgery.user_id)
    .bind(&surgery.patient)
    .bind(surgery.surgery_date)
    .bind(&surgery.note)
    .bind(&surgery.scheduling_note)
    .bind(STAGE_PRE_QUOTE)
    .bind(STATUS_APPROVED)
    .fetch_one(&mut *conn)
    .await?;

    let budget_id: i64 = sqlx::query_scalar(
        "insert into cirurgia_orcamentos (cirurgia_id, tipo, observacao)
         values ($1, $2, $3) returning id",
    )
    .bind(surgery_id)
    .bind(BUDGET_TYPE_PRE)
    .bind(budget_note)
    .fetch_one(&mut *conn)
    .await?;

    for (index, item) in items.iter().enumerate() {
        let sequence = i16::try_from(index + 1).map_err(|_| FitError::TooLong {
            table: "cirurgia_orcamento_itens",
            column: "sequencia",
            limit: i16::MAX as usize,
            length: index + 1,
        })?;
        sqlx::query(
            "insert into cirurgia_orcamento_itens (orcamento_id, sequencia, produto_id,
                 quantidade, valor_unitario, desconto, valor_total)
             values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(budget_id)
        .bind(sequence)
        .bind(item.product_id)
        .bind(item.quantity)
        .bind(item.unit_value)
        .bind(item.discount)
        .bind(item.total_value)
        .execute(&mut *conn)
        .await?;
    }

    Ok(surgery_id)
}

/// A failed write: a value that does not fit, or a database error.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Fit(#[from] FitError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

fn check_lengths(
    table: &'static str,
    columns: &[(&'static str, Option<&String>, usize)],
) -> Result<(), FitError> {
    for (column, value, limit) in columns {
        let length = value.map_or(0, |value| value.chars().count());
        if length > *limit {
            return Err(FitError::TooLong {
                table,
                column,
                limit: *limit,
                length,
            });
        }
    }
    Ok(())
}

/// Checks that `value` fits `numeric(precision, scale)` without rounding, so V2 stores
/// exactly the digits Agendor sent.
fn check_numeric(
    column: &'static str,
    value: Decimal,
    precision: u32,
    scale: u32,
) -> Result<(), FitError> {
    let normalized = value.normalize();
    let integer_digits = normalized
        .trunc()
        .abs()
        .to_string()
        .trim_start_matches('0')
        .len();
    let fits = normalized.scale() <= scale && integer_digits as u32 <= precision - scale;
    if fits {
        Ok(())
    } else {
        Err(FitError::NumericOutOfRange {
            table: "cirurgia_orcamento_itens",
            column,
            precision,
            scale,
            value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn numeric_check_rejects_rounding_and_overflow() {
        let cases = [
            ("1.5", 12, 3, true),
            ("1.500000", 12, 3, true),
            ("1.2345", 12, 3, false),
            ("999999999.999", 12, 3, true),
            ("1000000000", 12, 3, false),
            ("480.10", 14, 2, true),
            ("480.105", 14, 2, false),
            ("-3.25", 14, 2, true),
            ("0", 14, 2, true),
        ];
        for (raw, precision, scale, fits) in cases {
            let value = Decimal::from_str(raw).unwrap();
            assert_eq!(
                check_numeric("quantidade", value, precision, scale).is_ok(),
                fits,
                "{raw} in numeric({precision},{scale})"
            );
        }
    }

    #[test]
    fn length_check_counts_characters_not_bytes() {
        let name = "É".repeat(150);
        assert!(check_lengths("clientes", &[("nome", Some(&name), 150)]).is_ok());

        let longer = "É".repeat(151);
        let error = check_lengths("clientes", &[("nome", Some(&longer), 150)]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "clientes.nome holds at most 150 characters, but the value has 151"
        );
    }
}
