//! Departments (who handles cases, where their webhooks go, the secret that signs them) and
//! categories (what a citizen can report, and which department it goes to by default).
//! The department secret is stored to sign and verify webhooks; it never appears in an answer.

pub mod routing;

/// The directory's part of schema version 1 (departments, categories, routing) and version 5
/// (secret rotation), as `app::schema` applies them.
pub const MIGRATION_1: &str = include_str!("sql/001_directory.sql");
pub const MIGRATION_5: &str = include_str!("sql/005_secret_rotation.sql");

use serde::{Deserialize, Serialize};

use crate::http::problem::FieldError;
use crate::{Database, Problem, StoreError};

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Department {
    pub code: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
    #[serde(skip)]
    pub secret: Option<String>,
    /// The secret before the last rotation; it still verifies (and signs beside the new one)
    /// until `previous_secret_until`.
    #[serde(skip)]
    pub previous_secret: Option<String>,
    #[serde(skip)]
    pub previous_secret_until: Option<i64>,
    /// Until when the previous secret is still accepted, during a rotation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_secret_valid_until: Option<String>,
}

impl Department {
    /// The secrets a department's callback may be signed with at `now`: the current one and,
    /// during a rotation's overlap, the previous one.
    pub fn verifying_secrets(&self, now: i64) -> Vec<&str> {
        let previous = self
            .previous_secret
            .as_deref()
            .filter(|_| self.previous_secret_until.is_some_and(|u| u > now));
        self.secret.as_deref().into_iter().chain(previous).collect()
    }
}

/// A department as every staff member may see it (`GET /api/departments`): never its secret
/// nor its webhook address, only whether it has one.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct DepartmentListing {
    pub code: String,
    pub name: String,
    /// A street office's street (9 digits); `None` for a bureau.
    pub area_code: Option<String>,
    pub has_webhook: bool,
}

/// How long the previous secret stays valid after a rotation when the PUT does not say.
pub const DEFAULT_SECRET_OVERLAP_HOURS: f64 = 24.0;
/// The longest overlap: 30 days.
pub const MAX_SECRET_OVERLAP_HOURS: f64 = 720.0;

/// A category after the digital city-management classification: its kind (component 部件,
/// event 事件, or dispute 矛盾纠纷), its major class, and the hours each step may take.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Category {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub kind: String,
    pub department: String,
    pub major: String,
    /// 1 (urgent) to 3 (routine).
    pub priority: i64,
    pub sign_for_hours: f64,
    pub handle_hours: f64,
    pub verify_hours: f64,
    pub duplicate_radius_m: f64,
    pub duplicate_window_hours: f64,
}

/// The body of `PUT /api/admin/departments/{code}`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DepartmentInput {
    pub name: String,
    pub webhook_url: Option<String>,
    pub secret: Option<String>,
    /// For a street office: the street code it serves (events there go to it first).
    #[serde(default)]
    pub area_code: Option<String>,
    /// When `secret` replaces another: how many hours the old one keeps verifying callbacks
    /// (default 24, 0 ends it at once, at most 720).
    #[serde(default)]
    pub secret_overlap_hours: Option<f64>,
}

/// The body of `PUT /api/admin/categories/{code}`; the hours default to the field's usual ones.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryInput {
    pub name_zh: String,
    pub name_en: String,
    pub kind: String,
    pub department: String,
    #[serde(default)]
    pub major: String,
    #[serde(default = "default_priority")]
    pub priority: i64,
    #[serde(default = "default_sign_for_hours")]
    pub sign_for_hours: f64,
    #[serde(default = "default_handle_hours")]
    pub handle_hours: f64,
    #[serde(default = "default_verify_hours")]
    pub verify_hours: f64,
    #[serde(default = "default_duplicate_radius_m")]
    pub duplicate_radius_m: f64,
    #[serde(default = "default_duplicate_window_hours")]
    pub duplicate_window_hours: f64,
}

fn default_priority() -> i64 {
    2
}
fn default_sign_for_hours() -> f64 {
    2.0
}
fn default_handle_hours() -> f64 {
    72.0
}
fn default_verify_hours() -> f64 {
    24.0
}
/// The defaults for duplicates: 50 m and 72 h.
fn default_duplicate_radius_m() -> f64 {
    50.0
}
fn default_duplicate_window_hours() -> f64 {
    72.0
}

impl CategoryInput {
    pub fn new(name_zh: &str, name_en: &str, kind: &str, department: &str) -> Self {
        CategoryInput {
            name_zh: name_zh.into(),
            name_en: name_en.into(),
            kind: kind.into(),
            department: department.into(),
            major: String::new(),
            priority: default_priority(),
            sign_for_hours: default_sign_for_hours(),
            handle_hours: default_handle_hours(),
            verify_hours: default_verify_hours(),
            duplicate_radius_m: default_duplicate_radius_m(),
            duplicate_window_hours: default_duplicate_window_hours(),
        }
    }
}

/// Codes of departments and categories: short, lower-case, URL-safe.
pub fn valid_code(code: &str) -> bool {
    (1..=64).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

// A new secret that differs from the stored one is a rotation: the stored one becomes the
// previous secret, valid until ?7. (Every right-hand side reads the row as it was.)
const UPSERT_DEPARTMENT: &str = "INSERT INTO departments (code, name, webhook_url, secret, area_code, created_at, updated_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
     ON CONFLICT (code) DO UPDATE SET name = excluded.name, webhook_url = excluded.webhook_url,
        previous_secret = CASE WHEN excluded.secret IS NOT NULL AND departments.secret IS NOT NULL
            AND excluded.secret != departments.secret THEN departments.secret ELSE departments.previous_secret END,
        previous_secret_until = CASE WHEN excluded.secret IS NOT NULL AND departments.secret IS NOT NULL
            AND excluded.secret != departments.secret THEN ?7
            WHEN ?8 AND departments.previous_secret_until IS NOT NULL THEN MIN(departments.previous_secret_until, ?7)
            ELSE departments.previous_secret_until END,
        secret = COALESCE(excluded.secret, departments.secret), area_code = excluded.area_code,
        updated_at = excluded.updated_at";
const DEPARTMENT_BY_CODE: &str = "SELECT code, name, webhook_url, secret, previous_secret, previous_secret_until FROM departments WHERE code = ?";
// The directory is a small table (about 50 rows in the demo city: 6 bureaus and 45 street
// offices), read whole in its primary key's order.
const DEPARTMENTS_BY_CODE: &str = "SELECT code, name, area_code, webhook_url IS NOT NULL AS has_webhook FROM departments ORDER BY code";
const UPSERT_CATEGORY: &str = "INSERT INTO categories (code, name_zh, name_en, kind, department, major, priority,
        sign_for_hours, handle_hours, verify_hours, duplicate_radius_m, duplicate_window_hours)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (code) DO UPDATE SET name_zh = excluded.name_zh, name_en = excluded.name_en,
        kind = excluded.kind, department = excluded.department, major = excluded.major,
        priority = excluded.priority, sign_for_hours = excluded.sign_for_hours,
        handle_hours = excluded.handle_hours, verify_hours = excluded.verify_hours,
        duplicate_radius_m = excluded.duplicate_radius_m, duplicate_window_hours = excluded.duplicate_window_hours";
const CATEGORY_COLUMNS: &str = "code, name_zh, name_en, kind, department, major, priority, sign_for_hours, \
     handle_hours, verify_hours, duplicate_radius_m, duplicate_window_hours";

/// What every party with a webhook endpoint must keep (a department, another platform): a code,
/// a name, an http(s) URL and a `whsec_` secret, each where given. Errors are added to `errors`.
pub fn check_endpoint(
    code: &str,
    name: &str,
    webhook_url: Option<&str>,
    secret: Option<&str>,
    errors: &mut Vec<FieldError>,
) {
    if !valid_code(code) {
        errors.push(FieldError::new(
            "code",
            "1-64 characters of a-z, 0-9, . _ -",
        ));
    }
    if name.trim().is_empty() || name.chars().count() > 100 {
        errors.push(FieldError::new("name", "1 to 100 characters"));
    }
    if let Some(url) = webhook_url
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        errors.push(FieldError::new("webhook_url", "an http or https URL"));
    }
    if let Some(secret) = secret
        && (!secret.starts_with("whsec_") || crate::http::webhook::secret_key(secret).is_err())
    {
        errors.push(FieldError::new(
            "secret",
            "a whsec_ secret: whsec_ followed by base64",
        ));
    }
}

pub fn validate_department(code: &str, input: &DepartmentInput) -> Result<(), Problem> {
    let mut errors = Vec::new();
    check_endpoint(
        code,
        &input.name,
        input.webhook_url.as_deref(),
        input.secret.as_deref(),
        &mut errors,
    );
    if let Some(area) = &input.area_code
        && (area.len() != 9 || crate::grid::code::GridCode::parse(area).is_err())
    {
        errors.push(FieldError::new(
            "area_code",
            "the 9-digit code of the street the office serves",
        ));
    }
    if input
        .secret_overlap_hours
        .is_some_and(|h| !(0.0..=MAX_SECRET_OVERLAP_HOURS).contains(&h))
    {
        errors.push(FieldError::new("secret_overlap_hours", "0 to 720 hours"));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Problem::validation(errors))
    }
}

pub async fn upsert_department<D: Database>(
    db: &D,
    code: &str,
    input: &DepartmentInput,
    now: i64,
) -> Result<(), StoreError> {
    db.execute(
        UPSERT_DEPARTMENT,
        &[
            code.into(),
            input.name.trim().into(),
            input.webhook_url.clone().into(),
            input.secret.clone().into(),
            input.area_code.clone().into(),
            now.into(),
            (now + (input
                .secret_overlap_hours
                .unwrap_or(DEFAULT_SECRET_OVERLAP_HOURS)
                * 3_600_000.0) as i64)
                .into(),
            // Named hours without a new secret end a running overlap early (never later).
            i64::from(input.secret_overlap_hours.is_some()).into(),
        ],
    )
    .await?;
    Ok(())
}

pub async fn department<D: Database>(db: &D, code: &str) -> Result<Option<Department>, StoreError> {
    let rows = db.execute(DEPARTMENT_BY_CODE, &[code.into()]).await?;
    rows.first()
        .map(|r| {
            Ok(Department {
                code: r.text("code")?,
                name: r.text("name")?,
                webhook_url: r.opt_text("webhook_url")?,
                secret: r.opt_text("secret")?,
                previous_secret: r.opt_text("previous_secret")?,
                previous_secret_until: r.opt_i64("previous_secret_until")?,
                previous_secret_valid_until: r
                    .opt_i64("previous_secret_until")?
                    .map(crate::time::rfc3339),
            })
        })
        .transpose()
}

/// Every department, ordered by code, as [`DepartmentListing`]s.
pub async fn departments<D: Database>(db: &D) -> Result<Vec<DepartmentListing>, StoreError> {
    let rows = db.execute(DEPARTMENTS_BY_CODE, &[]).await?;
    rows.iter()
        .map(|r| {
            Ok(DepartmentListing {
                code: r.text("code")?,
                name: r.text("name")?,
                area_code: r.opt_text("area_code")?,
                has_webhook: r.i64("has_webhook")? != 0,
            })
        })
        .collect()
}

pub async fn validate_category<D: Database>(
    db: &D,
    code: &str,
    input: &CategoryInput,
) -> Result<(), Problem> {
    let mut errors = Vec::new();
    if !valid_code(code) {
        errors.push(FieldError::new(
            "code",
            "1-64 characters of a-z, 0-9, . _ -",
        ));
    }
    for (field, value) in [("name_zh", &input.name_zh), ("name_en", &input.name_en)] {
        if value.trim().is_empty() || value.chars().count() > 100 {
            errors.push(FieldError::new(field, "1 to 100 characters"));
        }
    }
    if !matches!(input.kind.as_str(), "component" | "event" | "dispute") {
        errors.push(FieldError::new("kind", "component, event or dispute"));
    }
    if !(1..=3).contains(&input.priority) {
        errors.push(FieldError::new("priority", "1 (urgent) to 3 (routine)"));
    }
    for (field, hours) in [
        ("sign_for_hours", input.sign_for_hours),
        ("handle_hours", input.handle_hours),
        ("verify_hours", input.verify_hours),
        ("duplicate_window_hours", input.duplicate_window_hours),
    ] {
        if !(hours > 0.0 && hours <= 24.0 * 365.0) {
            errors.push(FieldError::new(
                field,
                "more than 0 and at most a year of hours",
            ));
        }
    }
    if !(input.duplicate_radius_m >= 0.0 && input.duplicate_radius_m <= 5000.0) {
        errors.push(FieldError::new("duplicate_radius_m", "0 to 5000 metres"));
    }
    if department(db, &input.department).await?.is_none() {
        errors.push(FieldError::new("department", "no such department"));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Problem::validation(errors))
    }
}

pub async fn upsert_category<D: Database>(
    db: &D,
    code: &str,
    input: &CategoryInput,
) -> Result<(), StoreError> {
    db.execute(
        UPSERT_CATEGORY,
        &[
            code.into(),
            input.name_zh.trim().into(),
            input.name_en.trim().into(),
            input.kind.as_str().into(),
            input.department.as_str().into(),
            input.major.as_str().into(),
            input.priority.into(),
            input.sign_for_hours.into(),
            input.handle_hours.into(),
            input.verify_hours.into(),
            input.duplicate_radius_m.into(),
            input.duplicate_window_hours.into(),
        ],
    )
    .await?;
    Ok(())
}

fn category_of(r: crate::ports::Row<'_>) -> Result<Category, StoreError> {
    Ok(Category {
        code: r.text("code")?,
        name_zh: r.text("name_zh")?,
        name_en: r.text("name_en")?,
        kind: r.text("kind")?,
        department: r.text("department")?,
        major: r.text("major")?,
        priority: r.i64("priority")?,
        sign_for_hours: r.f64("sign_for_hours")?,
        handle_hours: r.f64("handle_hours")?,
        verify_hours: r.f64("verify_hours")?,
        duplicate_radius_m: r.f64("duplicate_radius_m")?,
        duplicate_window_hours: r.f64("duplicate_window_hours")?,
    })
}

pub async fn category<D: Database>(db: &D, code: &str) -> Result<Option<Category>, StoreError> {
    let rows = db
        .execute(
            &format!("SELECT {CATEGORY_COLUMNS} FROM categories WHERE code = ?"),
            &[code.into()],
        )
        .await?;
    rows.first().map(category_of).transpose()
}

pub async fn categories<D: Database>(db: &D) -> Result<Vec<Category>, StoreError> {
    let rows = db
        .execute(
            &format!("SELECT {CATEGORY_COLUMNS} FROM categories ORDER BY code"),
            &[],
        )
        .await?;
    rows.iter().map(category_of).collect()
}

/// A department's endpoint answered 410 Gone: it is not called again until an administrator
/// sets a new one.
pub async fn forget_webhook<D: Database>(db: &D, code: &str, now: i64) -> Result<(), StoreError> {
    db.execute(
        "UPDATE departments SET webhook_url = NULL, updated_at = ? WHERE code = ?",
        &[now.into(), code.into()],
    )
    .await?;
    Ok(())
}
