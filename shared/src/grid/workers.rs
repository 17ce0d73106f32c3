//! The grid workers (网格员) on duty per cell: who patrols a cell and how to reach them.
//! Their names and phone numbers are personal data: a public answer shows them masked
//! (`陈**`, `138****8000`); only an operator sees them whole.

use serde::Serialize;
use serde_json::Value as Json;

use crate::http::problem::FieldError;
use crate::mask::{mask_name, mask_phone};
use crate::{Database, StoreError};

/// A worker's id: what the roster of their organisation calls them.
pub const ID_MAX: usize = 32;
pub const NAME_MAX: usize = 50;

/// One grid worker of one cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct GridWorker {
    pub id: String,
    pub name: String,
    pub phone: String,
}

impl GridWorker {
    /// The same worker as a public answer shows them.
    pub fn masked(&self) -> GridWorker {
        GridWorker {
            id: self.id.clone(),
            name: mask_name(&self.name),
            phone: mask_phone(&self.phone),
        }
    }
}

/// Reads `properties.workers` of a cell: `[{"id", "name", "phone"}, …]`. `at` names the
/// feature (`features[12]`), so that every error says where it is.
pub fn parse_list(value: &Json, at: &str, errors: &mut Vec<FieldError>) -> Option<Vec<GridWorker>> {
    let field = format!("{at}.properties.workers");
    let Some(list) = value.as_array() else {
        errors.push(FieldError::new(
            &field,
            "an array of {id, name, phone} is expected",
        ));
        return None;
    };
    let before = errors.len();
    let mut out: Vec<GridWorker> = Vec::with_capacity(list.len());
    for (k, w) in list.iter().enumerate() {
        let text = |name: &str| {
            w.get(name)
                .and_then(Json::as_str)
                .map(str::trim)
                .unwrap_or("")
        };
        let (id, name, phone) = (text("id"), text("name"), text("phone"));
        let here = |part: &str| format!("{field}[{k}].{part}");
        let id_ok = !id.is_empty()
            && id.len() <= ID_MAX
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !id_ok {
            errors.push(FieldError::new(
                &here("id"),
                format!("1 to {ID_MAX} letters, digits, - or _"),
            ));
        } else if out.iter().any(|o| o.id == id) {
            errors.push(FieldError::new(
                &here("id"),
                format!("{id:?} is listed twice in this cell"),
            ));
        }
        if name.is_empty() || name.chars().count() > NAME_MAX {
            errors.push(FieldError::new(
                &here("name"),
                format!("1 to {NAME_MAX} characters"),
            ));
        }
        let digits = phone.strip_prefix('+').unwrap_or(phone);
        if !(7..=20).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            errors.push(FieldError::new(
                &here("phone"),
                "7 to 20 digits, optionally starting with +",
            ));
        }
        out.push(GridWorker {
            id: id.into(),
            name: name.into(),
            phone: phone.into(),
        });
    }
    (errors.len() == before).then_some(out)
}

pub(crate) const DELETE_CELL: &str = "DELETE FROM grid_workers WHERE cell = ?";
pub(crate) const INSERT: &str =
    "INSERT INTO grid_workers (id, cell, name, phone, on_duty) VALUES (?, ?, ?, ?, 1)";
const ON_DUTY: &str =
    "SELECT id, name, phone FROM grid_workers WHERE cell = ? AND on_duty = 1 ORDER BY id";

/// The workers on duty in a cell (index `grid_workers_by_cell`), unmasked.
pub async fn on_duty<D: Database>(db: &D, cell: &str) -> Result<Vec<GridWorker>, StoreError> {
    let rows = db.execute(ON_DUTY, &[cell.into()]).await?;
    rows.iter()
        .map(|r| {
            Ok(GridWorker {
                id: r.text("id")?,
                name: r.text("name")?,
                phone: r.text("phone")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_keep_the_surname_and_phones_their_ends() {
        assert_eq!(mask_name("陈志强"), "陈**");
        assert_eq!(mask_name("林芳"), "林*");
        assert_eq!(mask_name(""), "");
        assert_eq!(mask_phone("13812348000"), "138****8000");
        assert_eq!(mask_phone("+8613812348000"), "+86*******8000");
        assert_eq!(mask_phone("5551234"), "*****34");
    }

    #[test]
    fn a_worker_list_is_checked_entry_by_entry() {
        let mut errors = Vec::new();
        let good = json!([{"id": "gw00001", "name": "陈志强", "phone": "13812348000"}]);
        let parsed = parse_list(&good, "features[3]", &mut errors).unwrap();
        assert_eq!(parsed[0].name, "陈志强");
        let bad = json!([
            {"id": "a/b", "name": "", "phone": "call me"},
            {"id": "x", "name": "林芳", "phone": "13900001111"},
            {"id": "x", "name": "林芳", "phone": "13900001111"},
        ]);
        assert_eq!(parse_list(&bad, "features[3]", &mut errors), None);
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "features[3].properties.workers[0].id",
                "features[3].properties.workers[0].name",
                "features[3].properties.workers[0].phone",
                "features[3].properties.workers[2].id",
            ]
        );
        let mut errors = Vec::new();
        assert_eq!(parse_list(&json!({}), "features[0]", &mut errors), None);
        assert_eq!(errors[0].field, "features[0].properties.workers");
    }
}
