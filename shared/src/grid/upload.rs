//! A map import sent in parts (`POST /api/admin/grids?part=N&of=M&upload=ID`), for a map too
//! large for one request. Each part is a FeatureCollection of its own, parsed when it arrives
//! (so its errors name the part) and staged in SQL; the request that brings the last missing
//! part takes every part in one statement and imports the whole map as one new version.
//! Parts may come in any order; a part sent again replaces itself.

use serde::Serialize;

use super::{GridFeature, parse_feature_collection};
use crate::http::ApiRequest;
use crate::http::problem::FieldError;
use crate::{Env, Problem};

/// More parts than this is a client mistake: at 32 MiB a part, it is a continent.
pub const MAX_PARTS: i64 = 1000;
const UPLOAD_ID_MAX: usize = 64;
/// Parts of an upload that never completed are dropped after a day.
const STALE_AFTER_MS: i64 = 24 * 60 * 60 * 1000;

/// Which part of which upload a request carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartRef {
    pub upload: String,
    pub part: i64,
    pub of: i64,
}

/// `None` when the request has none of `part`, `of`, `upload`: a whole map in one request.
pub fn part_of(req: &ApiRequest) -> Result<Option<PartRef>, Problem> {
    let (part, of, upload) = (
        req.query_param("part"),
        req.query_param("of"),
        req.query_param("upload"),
    );
    if part.is_none() && of.is_none() && upload.is_none() {
        return Ok(None);
    }
    let mut errors = Vec::new();
    let mut number = |name: &str, v: Option<String>| match v.map(|s| s.trim().parse::<i64>()) {
        Some(Ok(n)) if (1..=MAX_PARTS).contains(&n) => n,
        _ => {
            errors.push(FieldError::new(
                name,
                format!("a whole number from 1 to {MAX_PARTS}"),
            ));
            0
        }
    };
    let (part, of) = (number("part", part), number("of", of));
    if part > of && of > 0 {
        errors.push(FieldError::new(
            "part",
            format!("part {part} of {of} does not exist"),
        ));
    }
    let upload = upload.unwrap_or_default();
    let id_ok = !upload.is_empty()
        && upload.len() <= UPLOAD_ID_MAX
        && upload
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !id_ok {
        errors.push(FieldError::new(
            "upload",
            format!("1 to {UPLOAD_ID_MAX} letters, digits, - or _, the same for every part"),
        ));
    }
    if errors.is_empty() {
        Ok(Some(PartRef { upload, part, of }))
    } else {
        Err(Problem::validation(errors))
    }
}

/// What happened to a part.
#[derive(Debug, Clone, PartialEq)]
pub enum Staged {
    /// Parts are still missing.
    Waiting(Progress),
    /// This part completed the upload: the whole map, parts in order.
    Complete(Vec<GridFeature>),
}

/// An upload still waiting for parts, as the answer shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Progress {
    pub upload: String,
    pub of: i64,
    pub received: Vec<i64>,
    pub missing: Vec<i64>,
    /// False when another request took the completed upload meanwhile (it imports it).
    pub pending: bool,
}

const DROP_STALE: &str = "DELETE FROM grid_upload_parts WHERE received_at < ?";
const OTHER_COUNT: &str =
    "SELECT parts FROM grid_upload_parts WHERE upload = ? AND parts <> ? LIMIT 1";
const PUT_PART: &str = "INSERT INTO grid_upload_parts (upload, part, parts, body, received_at) VALUES (?, ?, ?, ?, ?) \
     ON CONFLICT (upload, part) DO UPDATE SET body = excluded.body, received_at = excluded.received_at";
/// One statement takes a complete upload: two requests bringing the last parts at once cannot
/// both get it, and an incomplete upload is left alone.
const TAKE_COMPLETE: &str = "DELETE FROM grid_upload_parts WHERE upload = ?1 \
     AND (SELECT COUNT(*) FROM grid_upload_parts WHERE upload = ?1) = ?2 RETURNING part, body";
const RECEIVED: &str = "SELECT part FROM grid_upload_parts WHERE upload = ? ORDER BY part";

/// Checks and stages one part; takes the whole upload when this part completes it.
pub async fn stage<E: Env>(env: &E, at: &PartRef, body: &[u8]) -> Result<Staged, Problem> {
    let located = |errors| {
        Problem::validation(errors)
            .with("upload", at.upload.clone().into())
            .with("part", at.part.into())
    };
    parse_feature_collection(body).map_err(located)?;
    // JSON that parsed is UTF-8: it is staged as text.
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| located(vec![FieldError::new("body", "not UTF-8")]))?;
    let now = env.now_ms();
    env.execute(DROP_STALE, &[(now - STALE_AFTER_MS).into()])
        .await?;
    let other = env
        .execute(OTHER_COUNT, &[at.upload.as_str().into(), at.of.into()])
        .await?;
    if let Some(row) = other.first() {
        return Err(Problem::conflict(format!(
            "upload {} was started with of={}; this part says of={}",
            at.upload,
            row.i64("parts")?,
            at.of
        )));
    }
    env.execute(
        PUT_PART,
        &[
            at.upload.as_str().into(),
            at.part.into(),
            at.of.into(),
            text.into(),
            now.into(),
        ],
    )
    .await?;
    let taken = env
        .execute(TAKE_COMPLETE, &[at.upload.as_str().into(), at.of.into()])
        .await?;
    if !taken.is_empty() {
        let mut parts = Vec::with_capacity(taken.rows.len());
        for row in taken.iter() {
            parts.push((row.i64("part")?, row.text("body")?));
        }
        parts.sort_by_key(|(n, _)| *n);
        let mut features = Vec::new();
        for (n, body) in parts {
            // Each part parsed when it arrived; a failure now means the stored bytes changed.
            let mut more = parse_feature_collection(body.as_bytes()).map_err(|errors| {
                Problem::validation(errors)
                    .with("upload", at.upload.clone().into())
                    .with("part", n.into())
            })?;
            features.append(&mut more);
        }
        return Ok(Staged::Complete(features));
    }
    let rows = env.execute(RECEIVED, &[at.upload.as_str().into()]).await?;
    let received = rows
        .iter()
        .map(|r| r.i64("part"))
        .collect::<Result<Vec<_>, _>>()?;
    let missing = (1..=at.of).filter(|n| !received.contains(n)).collect();
    let pending = received.contains(&at.part);
    Ok(Staged::Waiting(Progress {
        upload: at.upload.clone(),
        of: at.of,
        received,
        missing,
        pending,
    }))
}
