//! Departments (who handles cases, where their webhooks go, the secret that signs them) and
//! categories (what a citizen can report, and which department it goes to by default).
//! The department secret is stored to sign and verify webhooks; it never appears in an answer.

use serde::{Deserialize, Serialize};

use crate::problem::FieldError;
use crate::{Database, Problem, StoreError};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Department {
    pub code: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
    #[serde(skip)]
    pub secret: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Category {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub kind: String,
    pub department: String,
}

/// The body of `PUT /api/admin/departments/{code}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepartmentInput {
    pub name: String,
    pub webhook_url: Option<String>,
    pub secret: Option<String>,
}

/// The body of `PUT /api/admin/categories/{code}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryInput {
    pub name_zh: String,
    pub name_en: String,
    pub kind: String,
    pub department: String,
}

/// Codes of departments and categories: short, lower-case, URL-safe.
pub fn valid_code(code: &str) -> bool {
    (1..=64).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

const UPSERT_DEPARTMENT: &str = "INSERT INTO departments (code, name, webhook_url, secret, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (code) DO UPDATE SET name = excluded.name, webhook_url = excluded.webhook_url,
        secret = COALESCE(excluded.secret, departments.secret), updated_at = excluded.updated_at";
const DEPARTMENT_BY_CODE: &str = "SELECT code, name, webhook_url, secret FROM departments WHERE code = ?";
const UPSERT_CATEGORY: &str = "INSERT INTO categories (code, name_zh, name_en, kind, department) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (code) DO UPDATE SET name_zh = excluded.name_zh, name_en = excluded.name_en,
        kind = excluded.kind, department = excluded.department";
const CATEGORY_BY_CODE: &str = "SELECT code, name_zh, name_en, kind, department FROM categories WHERE code = ?";
const ALL_CATEGORIES: &str = "SELECT code, name_zh, name_en, kind, department FROM categories ORDER BY code";

pub fn validate_department(code: &str, input: &DepartmentInput) -> Result<(), Problem> {
    let mut errors = Vec::new();
    if !valid_code(code) {
        errors.push(FieldError::new("code", "1-64 characters of a-z, 0-9, . _ -"));
    }
    if input.name.trim().is_empty() || input.name.chars().count() > 100 {
        errors.push(FieldError::new("name", "1 to 100 characters"));
    }
    if let Some(url) = &input.webhook_url
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        errors.push(FieldError::new("webhook_url", "an http or https URL"));
    }
    if let Some(secret) = &input.secret
        && (!secret.starts_with("whsec_") || crate::webhook::secret_key(secret).is_err())
    {
        errors.push(FieldError::new("secret", "a whsec_ secret: whsec_ followed by base64"));
    }
    if errors.is_empty() { Ok(()) } else { Err(Problem::validation(errors)) }
}

pub async fn upsert_department<D: Database>(db: &D, code: &str, input: &DepartmentInput, now: i64) -> Result<(), StoreError> {
    db.execute(
        UPSERT_DEPARTMENT,
        &[
            code.into(),
            input.name.trim().into(),
            input.webhook_url.clone().into(),
            input.secret.clone().into(),
            now.into(),
            now.into(),
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
            })
        })
        .transpose()
}

pub async fn validate_category<D: Database>(db: &D, code: &str, input: &CategoryInput) -> Result<(), Problem> {
    let mut errors = Vec::new();
    if !valid_code(code) {
        errors.push(FieldError::new("code", "1-64 characters of a-z, 0-9, . _ -"));
    }
    for (field, value) in [("name_zh", &input.name_zh), ("name_en", &input.name_en)] {
        if value.trim().is_empty() || value.chars().count() > 100 {
            errors.push(FieldError::new(field, "1 to 100 characters"));
        }
    }
    if !matches!(input.kind.as_str(), "component" | "event") {
        errors.push(FieldError::new("kind", "component or event"));
    }
    if department(db, &input.department).await?.is_none() {
        errors.push(FieldError::new("department", "no such department"));
    }
    if errors.is_empty() { Ok(()) } else { Err(Problem::validation(errors)) }
}

pub async fn upsert_category<D: Database>(db: &D, code: &str, input: &CategoryInput) -> Result<(), StoreError> {
    db.execute(
        UPSERT_CATEGORY,
        &[
            code.into(),
            input.name_zh.trim().into(),
            input.name_en.trim().into(),
            input.kind.as_str().into(),
            input.department.as_str().into(),
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
    })
}

pub async fn category<D: Database>(db: &D, code: &str) -> Result<Option<Category>, StoreError> {
    let rows = db.execute(CATEGORY_BY_CODE, &[code.into()]).await?;
    rows.first().map(category_of).transpose()
}

pub async fn categories<D: Database>(db: &D) -> Result<Vec<Category>, StoreError> {
    let rows = db.execute(ALL_CATEGORIES, &[]).await?;
    rows.iter().map(category_of).collect()
}
