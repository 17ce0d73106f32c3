//! The registry's spreadsheets, as offices exchange them: one template per entity with Chinese
//! column headers (English ones are taken too), read from CSV (UTF-8, with or without Excel's
//! BOM) or `.xlsx` (the first sheet), each row becoming the same input a JSON batch gives. A
//! bad row is reported by its row number (the header is row 1) and its column's header, and
//! nothing of the file is stored: the rows go through the registering command as one batch.
//! The `csv` and `calamine` crates read the files.

use serde_json::{Map, Value as Json};

use crate::http::problem::FieldError;
use crate::{Problem, registry};

/// An entity a template is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    Addresses,
    Households,
    People,
}

/// How a column's text becomes its field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Number,
    /// Separated by `、`, `,`, `，`, `;` or `；`; a tag by its code or its Chinese name.
    Tags,
}

/// A template's columns: (Chinese header, field, kind). The order is the template's.
type Columns = &'static [(&'static str, &'static str, Kind)];

const ADDRESS_COLUMNS: Columns = &[
    ("地址编码", "id", Kind::Text),
    ("道路门牌", "road", Kind::Text),
    ("楼栋", "building", Kind::Text),
    ("单元", "unit", Kind::Text),
    ("房号", "room", Kind::Text),
    ("纬度", "lat", Kind::Number),
    ("经度", "lng", Kind::Number),
    ("坐标系", "crs", Kind::Text),
];
const HOUSEHOLD_COLUMNS: Columns = &[
    ("户编码", "id", Kind::Text),
    ("地址编码", "address_id", Kind::Text),
];
const PEOPLE_COLUMNS: Columns = &[
    ("人员编码", "id", Kind::Text),
    ("户编码", "household_id", Kind::Text),
    ("姓名", "name", Kind::Text),
    ("与户主关系", "relation", Kind::Text),
    ("出生年份", "birth_year", Kind::Number),
    ("证件号码", "id_number", Kind::Text),
    ("联系电话", "phone", Kind::Text),
    ("标签", "tags", Kind::Tags),
];

impl Entity {
    pub fn parse(s: &str) -> Option<Entity> {
        match s {
            "addresses" => Some(Entity::Addresses),
            "households" => Some(Entity::Households),
            "people" => Some(Entity::People),
            _ => None,
        }
    }
    fn columns(self) -> Columns {
        match self {
            Entity::Addresses => ADDRESS_COLUMNS,
            Entity::Households => HOUSEHOLD_COLUMNS,
            Entity::People => PEOPLE_COLUMNS,
        }
    }
    /// The columns a row must fill.
    fn required(self) -> &'static [&'static str] {
        match self {
            Entity::Addresses => &["id", "road", "lat", "lng"],
            Entity::Households => &["id", "address_id"],
            Entity::People => &["household_id", "name"],
        }
    }
}

/// The template of an entity: its header row as CSV, with the BOM Excel needs to read UTF-8.
pub fn template(entity: Entity) -> String {
    let headers: Vec<&str> = entity.columns().iter().map(|(zh, _, _)| *zh).collect();
    format!("\u{feff}{}\r\n", headers.join(","))
}

/// What a spreadsheet is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

pub const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The cells of a file, row by row, as text (a number as it prints: `1949`, `24.4795`).
fn cells(format: Format, bytes: &[u8]) -> Result<Vec<Vec<String>>, Problem> {
    match format {
        Format::Csv => {
            let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(bytes);
            reader
                .records()
                .map(|r| {
                    r.map(|record| record.iter().map(|c| c.trim().to_owned()).collect())
                        .map_err(|e| Problem::bad_request(format!("the CSV cannot be read: {e}")))
                })
                .collect()
        }
        Format::Xlsx => {
            use calamine::{Data, Reader};
            let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes))
                .map_err(|e| Problem::bad_request(format!("the .xlsx cannot be read: {e}")))?;
            let sheet = book
                .worksheet_range_at(0)
                .ok_or_else(|| Problem::bad_request("the .xlsx has no sheet"))?
                .map_err(|e| Problem::bad_request(format!("the .xlsx cannot be read: {e}")))?;
            Ok(sheet
                .rows()
                .map(|row| {
                    row.iter()
                        .map(|cell| match cell {
                            Data::Empty => String::new(),
                            Data::String(s) => s.trim().to_owned(),
                            Data::Int(i) => i.to_string(),
                            Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => {
                                format!("{}", *f as i64)
                            }
                            Data::Float(f) => f.to_string(),
                            other => other.to_string(),
                        })
                        .collect()
                })
                .collect())
        }
    }
}

/// One row's problem: its number in the file (the header is 1) and its column's header.
fn row_error(row: usize, column: &str, message: impl Into<String>) -> FieldError {
    FieldError::new(&format!("row {row}: {column}"), message)
}

/// The rows of a file as the JSON items of a batch, with each item's row number; refused
/// with every row's problems at once.
pub fn rows(
    entity: Entity,
    format: Format,
    bytes: &[u8],
    tags: &[registry::Tag],
) -> Result<Vec<(usize, Json)>, Problem> {
    let all = cells(format, bytes)?;
    let mut lines = all
        .into_iter()
        .enumerate()
        .filter(|(_, r)| r.iter().any(|c| !c.is_empty()));
    let Some((_, header)) = lines.next() else {
        return Err(Problem::validation(vec![FieldError::new(
            "file",
            "no header row: download the template (GET /api/registry/templates/{entity}.csv)",
        )]));
    };
    let columns = entity.columns();
    let mut errors = Vec::new();
    // Each header's column; a header that names no column of the template is an error, so that
    // a misspelt 证件号码 is not silently dropped.
    let mut at: Vec<Option<usize>> = Vec::new();
    for (i, h) in header.iter().enumerate() {
        let h = h.trim_start_matches('\u{feff}');
        let found = columns
            .iter()
            .position(|(zh, field, _)| *zh == h || field.eq_ignore_ascii_case(h));
        if found.is_none() && !h.is_empty() {
            errors.push(row_error(
                1,
                h,
                format!(
                    "not a column of the template (column {}); the columns are {}",
                    i + 1,
                    columns
                        .iter()
                        .map(|(zh, _, _)| *zh)
                        .collect::<Vec<_>>()
                        .join("、")
                ),
            ));
        }
        at.push(found);
    }
    for field in entity.required() {
        let c = columns
            .iter()
            .position(|(_, f, _)| f == field)
            .expect("a column");
        if !at.contains(&Some(c)) {
            errors.push(row_error(1, columns[c].0, "this column is missing"));
        }
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let mut items = Vec::new();
    for (index, cells) in lines {
        let row = index + 1;
        let mut item = Map::new();
        for (cell, column) in cells.iter().zip(&at) {
            let Some(c) = column else { continue };
            let (zh, field, kind) = columns[*c];
            if cell.is_empty() {
                continue;
            }
            let value = match kind {
                Kind::Text => Json::String(cell.clone()),
                Kind::Number => match cell.parse::<f64>() {
                    Ok(n) if field == "birth_year" && n.fract() == 0.0 => Json::from(n as i64),
                    Ok(n) if field != "birth_year" => Json::from(n),
                    _ => {
                        errors.push(row_error(row, zh, format!("{cell:?} is not a number")));
                        continue;
                    }
                },
                Kind::Tags => {
                    let mut codes = Vec::new();
                    for part in cell.split(['、', ',', '，', ';', '；']).map(str::trim) {
                        if part.is_empty() {
                            continue;
                        }
                        match tags.iter().find(|t| t.code == part || t.name_zh == part) {
                            Some(t) => codes.push(Json::String(t.code.clone())),
                            None => errors.push(row_error(
                                row,
                                zh,
                                format!("{part:?} is not in the tag set (GET /api/registry/tags)"),
                            )),
                        }
                    }
                    Json::Array(codes)
                }
            };
            item.insert(field.to_owned(), value);
        }
        items.push((row, Json::Object(item)));
    }
    if items.is_empty() {
        errors.push(FieldError::new("file", "no rows under the header"));
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    Ok(items)
}

/// A batch's errors (`[i].field`, or `field` for a batch of one) as the file's rows and
/// columns.
pub fn in_rows(entity: Entity, problem: Problem, rows: &[(usize, Json)]) -> Problem {
    let Some(errors) = problem.extensions.get("errors").and_then(|e| e.as_array()) else {
        return problem;
    };
    let columns = entity.columns();
    let mapped: Vec<FieldError> = errors
        .iter()
        .map(|e| {
            let field = e["field"].as_str().unwrap_or_default();
            let message = e["message"].as_str().unwrap_or_default().to_owned();
            let (index, name) = match field.strip_prefix('[').and_then(|f| f.split_once("].")) {
                Some((i, name)) => (i.parse::<usize>().unwrap_or(0), name),
                None => (0, field),
            };
            let row = rows.get(index).map_or(0, |(row, _)| *row);
            match columns.iter().find(|(_, f, _)| *f == name) {
                Some((zh, _, _)) if row > 0 => row_error(row, zh, message),
                _ if row > 0 => row_error(row, name, message),
                _ => FieldError::new(field, message),
            }
        })
        .collect();
    Problem::validation(mapped)
}
