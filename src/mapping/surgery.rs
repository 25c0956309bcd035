//! Turning a won deal into the V2 surgery: custom-field lookups, the surgery date and the
//! text of the surgery's observation.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::agendor::Deal;
use crate::config::CustomFieldKeys;
use crate::mapping::notes::{Field, Note};
use crate::mapping::registries::{Lookup, NameIndex, Registries};
use crate::text::clean_text;

/// Prefix of the legacy code that ties a surgery to its Agendor deal.
pub const LEGACY_CODE_PREFIX: &str = "agendor-";

/// Returns `agendor-<deal id>`: the integer id, no padding.
pub fn legacy_code(deal_id: i64) -> String {
    format!("{LEGACY_CODE_PREFIX}{deal_id}")
}

/// Returns the local date of the win, in the configured time zone.
pub fn surgery_date(won_at: DateTime<Utc>, timezone: Tz) -> NaiveDate {
    won_at.with_timezone(&timezone).date_naive()
}

/// The procedure of a surgery: an existing row, one to create, or none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcedureChoice {
    None,
    Existing(i64),
    /// The cleaned original text (NFC, trimmed, inner spaces collapsed).
    Create(String),
}

/// The surgery fields that come from the deal alone, before the client and procedure ids
/// are known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurgeryFields {
    pub hospital_id: Option<i64>,
    pub health_plan_id: Option<i64>,
    pub doctor_id: Option<i64>,
    pub seller_id: Option<i64>,
    pub procedure: ProcedureChoice,
    pub patient: Option<String>,
    pub scheduling_note: Option<String>,
    pub surgery_date: Option<NaiveDate>,
    pub notes: Vec<Note>,
}

/// Reads the deal's custom fields and looks each one up in its registry. A lookup that
/// finds nothing, or more than one row, leaves the field empty with a note.
pub fn surgery_fields(
    deal: &Deal,
    registries: &Registries,
    keys: &CustomFieldKeys,
    timezone: Tz,
) -> SurgeryFields {
    let mut notes = Vec::new();
    let mut lookup = |field: Field, key: &str, find: &dyn Fn(&str) -> Lookup| {
        resolve(deal, field, key, find, &mut notes)
    };

    let hospital_id = lookup(Field::Hospital, &keys.hospital, &|v| {
        registries.hospitals.find(v)
    });
    let health_plan_id = lookup(Field::HealthPlan, &keys.convenio, &|v| {
        registries.health_plans.find(v)
    });
    let doctor_id = lookup(Field::Doctor, &keys.medico, &|v| registries.doctor(v));
    let seller_id = lookup(Field::Seller, &keys.vendedor, &|v| registries.seller(v));
    let procedure = procedure(deal, &registries.procedures, keys, &mut notes);
    let patient = text_field(deal, Field::Patient, &keys.paciente, &mut notes);
    let scheduling_note = text_field(
        deal,
        Field::SchedulingNote,
        &keys.grade_da_cirurgia,
        &mut notes,
    );

    let surgery_date = deal.won_at.map(|won_at| surgery_date(won_at, timezone));
    if surgery_date.is_none() {
        notes.push(Note::WonAtMissing);
    }

    SurgeryFields {
        hospital_id,
        health_plan_id,
        doctor_id,
        seller_id,
        procedure,
        patient,
        scheduling_note,
        surgery_date,
        notes,
    }
}

fn resolve(
    deal: &Deal,
    field: Field,
    key: &str,
    find: &dyn Fn(&str) -> Lookup,
    notes: &mut Vec<Note>,
) -> Option<i64> {
    let value = text_field(deal, field, key, notes)?;
    match find(&value) {
        Lookup::Found(id) => Some(id),
        Lookup::NotFound => {
            notes.push(Note::FieldNotFound {
                field,
                key: key.to_owned(),
                value,
            });
            None
        }
        Lookup::Ambiguous(ids) => {
            notes.push(Note::FieldAmbiguous {
                field,
                key: key.to_owned(),
                value,
                matches: ids.len(),
            });
            None
        }
    }
}

fn text_field(deal: &Deal, field: Field, key: &str, notes: &mut Vec<Note>) -> Option<String> {
    let value = deal.custom_fields.text(key);
    if value.is_none() {
        notes.push(Note::FieldMissing {
            field,
            key: key.to_owned(),
        });
    }
    value
}

fn procedure(
    deal: &Deal,
    procedures: &NameIndex,
    keys: &CustomFieldKeys,
    notes: &mut Vec<Note>,
) -> ProcedureChoice {
    let key = &keys.procedimento_cirurgico;
    let Some(value) = text_field(deal, Field::Procedure, key, notes) else {
        return ProcedureChoice::None;
    };
    match procedures.find(&value) {
        Lookup::Found(id) => ProcedureChoice::Existing(id),
        Lookup::NotFound => ProcedureChoice::Create(clean_text(&value)),
        Lookup::Ambiguous(ids) => {
            notes.push(Note::FieldAmbiguous {
                field: Field::Procedure,
                key: key.clone(),
                value,
                matches: ids.len(),
            });
            ProcedureChoice::None
        }
    }
}

/// Composes the surgery's `observacao`: the deal description, then the integration notes,
/// then the link back to the deal, separated by blank lines.
pub fn surgery_observation(description: Option<&str>, notes: &[Note], deal_url: &str) -> String {
    let mut parts = Vec::new();
    if let Some(description) = description.map(str::trim).filter(|d| !d.is_empty()) {
        parts.push(description.to_owned());
    }
    if !notes.is_empty() {
        let lines: Vec<String> = notes.iter().map(Note::portuguese).collect();
        parts.push(lines.join("\n"));
    }
    parts.push(format!("Criada a partir do Agendor: {deal_url}"));
    parts.join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_code_has_no_padding() {
        assert_eq!(legacy_code(48210377), "agendor-48210377");
        assert_eq!(legacy_code(7), "agendor-7");
    }

    #[test]
    fn surgery_date_is_local_win_date() {
        let tz = chrono_tz::America::Sao_Paulo;
        let cases = [
            ("2026-11-20T01:30:00Z", "2026-11-19"),
            ("2026-11-20T03:00:00Z", "2026-11-20"),
            ("2026-03-04T17:42:08Z", "2026-03-04"),
        ];
        for (won_at, expected) in cases {
            let won_at = DateTime::parse_from_rfc3339(won_at).unwrap().to_utc();
            assert_eq!(surgery_date(won_at, tz).to_string(), expected, "{won_at}");
        }
    }

    #[test]
    fn observation_joins_its_parts_with_blank_lines() {
        let notes = [Note::WonAtMissing];
        let text = surgery_observation(Some(" Fechado. "), &notes, "https://x/1");

        assert_eq!(
            text,
            "Fechado.\n\nData da cirurgia não preenchida: o negócio não tem data de ganho no \
             Agendor.\n\nCriada a partir do Agendor: https://x/1"
        );
    }

    #[test]
    fn observation_without_description_or_notes_is_the_link() {
        let text = surgery_observation(Some("  "), &[], "https://x/1");

        assert_eq!(text, "Criada a partir do Agendor: https://x/1");
    }
}
