//! Personal data in cases: the reporter's name and phone, and the phone and ID-card numbers
//! people type into free text. They are masked in every answer (public and staff), in webhooks
//! and in exports; a staff member sees them whole only by asking (`?reveal=contact`), which is
//! an audit event on the case. The retention sweep removes them from cases that ended long ago,
//! keeping the case and its statistics. Nothing here may log a value it masks.

use serde::Serialize;
use serde_json::{Value as Json, json};

use crate::cases::{Actor, Case, in_transaction};
pub use crate::grid::workers::{mask_name, mask_phone};
use crate::ports::Row;
use crate::{Database, Platform, Problem, StoreError};

/// Event types that are part of the staff audit trail only, never of the public timeline.
pub const PRIVATE_EVENTS: [&str; 2] = [REVEAL_EVENT, PURGE_EVENT];
pub const REVEAL_EVENT: &str = "reveal_contact";
pub const PURGE_EVENT: &str = "purge_personal_data";

/// How long contact data stays after a case ended, unless the Spin variable `retention_days`
/// says otherwise: a year, long enough for complaints about a closed case to come back.
pub const DEFAULT_RETENTION_DAYS: i64 = 365;
const DAY_MS: i64 = 86_400_000;

/// Separators people put inside a number: `138 0013 8000`, `0592-5123456`, `(0592)5123456`.
fn is_separator(c: char) -> bool {
    matches!(c, ' ' | '-' | '–' | '—' | ')' | '）' | '\u{3000}')
}

/// What a run of digits is, and how many digits stay visible at its head and tail.
fn classify(digits: &[char]) -> Option<(usize, usize)> {
    let n = digits.len();
    if !matches!(n, 10..=13 | 18) {
        return None;
    }
    let all_digits = |s: &[char]| s.iter().all(char::is_ascii_digit);
    let mobile =
        |s: &[char]| s.len() == 11 && s[0] == '1' && ('3'..='9').contains(&s[1]) && all_digits(s);
    // A resident ID card (GB 11643): 17 digits and a check character, 0-9 or X.
    if n == 18
        && all_digits(&digits[..17])
        && (digits[17].is_ascii_digit() || digits[17] == 'X' || digits[17] == 'x')
    {
        return (digits[0] != '0').then_some((3, 4));
    }
    if !all_digits(digits) {
        return None;
    }
    if mobile(digits) {
        return Some((3, 4));
    }
    // A mobile after the country code 86 (a `+` before it is not a digit and stays).
    if n == 13 && digits[..2] == ['8', '6'] && mobile(&digits[2..]) {
        return Some((5, 4));
    }
    // A landline with its area code: 0, then 2-3 more area digits, then 7-8 digits.
    if (10..=12).contains(&n) && digits[0] == '0' && digits[1] != '0' {
        return Some((3, 2));
    }
    None
}

/// One maximal run of ASCII digits (with an ID card's trailing X), by char index.
struct Group {
    start: usize,
    end: usize,
}

/// The text with every phone number (mainland mobile `1[3-9]\d{9}`, with or without `86`;
/// landline with area code) and resident ID number (18 characters, the last may be X) masked:
/// the digits between a few at the head and the tail become `*`, separators stay. Numbers that
/// are part of a longer run of digits (a 15-digit grid code, a 20-digit order number) are left.
pub fn mask_free_text(text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let mut groups = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let x_ends = i < chars.len()
                && matches!(chars[i], 'X' | 'x')
                && chars.get(i + 1).is_none_or(|c| !c.is_ascii_alphanumeric());
            if x_ends {
                i += 1;
            }
            groups.push(Group { start, end: i });
        } else {
            i += 1;
        }
    }
    // Groups separated by exactly one separator form a run; windows of whole groups inside a
    // run are tried, longest first, so `2 13800138000` still finds the mobile number.
    let mut g = 0;
    while g < groups.len() {
        let mut run_end = g + 1;
        while run_end < groups.len()
            && groups[run_end].start == groups[run_end - 1].end + 1
            && is_separator(chars[groups[run_end - 1].end])
        {
            run_end += 1;
        }
        let mut a = g;
        while a < run_end {
            let mut matched = None;
            let mut b = a;
            let mut digits: Vec<char> = Vec::new();
            // Windows grow until they pass the longest pattern (18 characters).
            while b < run_end {
                digits.extend(&chars[groups[b].start..groups[b].end]);
                if digits.len() > 18 {
                    break;
                }
                b += 1;
                if let Some(keep) = classify(&digits) {
                    matched = Some((b, keep, digits.len()));
                }
            }
            match matched {
                Some((b, (head, tail), len)) => {
                    let mut seen = 0;
                    for group in &groups[a..b] {
                        for c in &mut chars[group.start..group.end] {
                            if seen >= head && seen < len - tail {
                                *c = '*';
                            }
                            seen += 1;
                        }
                    }
                    a = b;
                }
                None => a += 1,
            }
        }
        g = run_end;
    }
    chars.into_iter().collect()
}

/// A case as a staff answer shows it unless its contact data was asked for.
pub fn masked(case: &Case) -> Case {
    let mut case = case.clone();
    case.contact_name = case.contact_name.as_deref().map(mask_name);
    case.contact_phone = case.contact_phone.as_deref().map(mask_phone);
    case.description = mask_free_text(&case.description);
    case.rating_comment = case.rating_comment.as_deref().map(mask_free_text);
    case
}

/// Whether a case holds anything that `masked` hides.
pub fn has_personal_data(case: &Case) -> bool {
    case.contact_name.is_some()
        || case.contact_phone.is_some()
        || mask_free_text(&case.description) != case.description
        || case
            .rating_comment
            .as_deref()
            .is_some_and(|c| mask_free_text(c) != c)
}

// A note on the trail that changes no status: the event count moves on (it is the case's
// version, so a move racing with this one gets a 409 and retries), the status stays.
const BUMP: &str =
    "UPDATE cases SET event_count = event_count + 1 WHERE id = ? RETURNING event_count, status";
const INSERT_NOTE: &str = "INSERT INTO case_events (case_id, seq, type, from_status, to_status, actor_role, actor, channel, details, at) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/// Appends a note event after [`BUMP`]; `bumped` is the row it returned (the event's number and
/// the status, which stays). Returns the event's sequence number.
async fn append_note<D: Database>(
    db: &D,
    case_id: &str,
    bumped: Row<'_>,
    kind: &str,
    actor: &Actor,
    details: &Json,
    now: i64,
) -> Result<i64, StoreError> {
    let (seq, status) = (bumped.i64("event_count")?, bumped.text("status")?);
    let status = status.as_str();
    db.execute(
        INSERT_NOTE,
        &[
            case_id.into(),
            seq.into(),
            kind.into(),
            status.into(),
            status.into(),
            actor.role.as_str().into(),
            actor.id.as_str().into(),
            actor.channel.as_str().into(),
            details.to_string().into(),
            now.into(),
        ],
    )
    .await?;
    Ok(seq)
}

/// Records that `actor` saw the case's personal data whole; returns the event's sequence number.
pub async fn record_reveal<D: Database>(
    db: &D,
    case_id: &str,
    actor: &Actor,
    now: i64,
) -> Result<i64, Problem> {
    in_transaction(db, async {
        let rows = db.execute(BUMP, &[case_id.into()]).await?;
        let row = rows
            .first()
            .ok_or_else(|| Problem::not_found("case", case_id))?;
        let details =
            json!({"fields": ["contact_name", "contact_phone", "description", "rating_comment"]});
        Ok(append_note(db, case_id, row, REVEAL_EVENT, actor, &details, now).await?)
    })
    .await
}

/// What one retention sweep did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RetentionReport {
    /// Cases whose personal data was removed.
    pub purged: u32,
    /// The retention period applied, in days.
    pub retention_days: i64,
}

/// The retention period: the Spin variable `retention_days` (a whole number of days, at least 1),
/// else [`DEFAULT_RETENTION_DAYS`].
pub async fn retention_days<P: Platform>(env: &P) -> Result<i64, StoreError> {
    Ok(match env.variable("retention_days").await? {
        None => DEFAULT_RETENTION_DAYS,
        Some(v) => match v.trim().parse::<i64>() {
            Ok(days) if days >= 1 => days,
            _ => {
                eprintln!(
                    "onegrid: retention_days must be a whole number of days, at least 1; using {DEFAULT_RETENTION_DAYS}"
                );
                DEFAULT_RETENTION_DAYS
            }
        },
    })
}

/// Cases not yet purged that ended (closed, or rejected or merged) before a time; the
/// expression is the one of the `cases_to_purge` index, so this is an index range.
const ENDED_BEFORE: &str = "SELECT id FROM cases WHERE purged_at IS NULL \
     AND COALESCE(closed_at, CASE WHEN status IN ('rejected', 'merged') THEN updated_at END) < ? LIMIT ?";
const PURGE: &str = "UPDATE cases SET contact_name = NULL, contact_phone = NULL, description = ?, rating_comment = ?, \
     purged_at = ?, event_count = event_count + 1 WHERE id = ? AND purged_at IS NULL RETURNING event_count, status";

/// What an Open311 client sent about the reporter beside the case.
const PURGE_OPEN311: &str = "UPDATE open311_requests SET description = ?, email = NULL, first_name = NULL, \
     last_name = NULL, phone = NULL, device_id = NULL, account_id = NULL WHERE case_id = ?";

/// Removes the personal data of cases that ended more than `days` ago (at most `batch` of
/// them; the next sweep takes the rest): contact name and phone are emptied, numbers in the
/// description and the rating comment masked. The case, its trail and its statistics stay.
/// Idempotent, and safe to run twice at once (the UPDATE only lands on an unpurged case).
pub async fn purge_ended<D: Database>(
    db: &D,
    now: i64,
    days: i64,
    batch: i64,
) -> Result<RetentionReport, Problem> {
    let cutoff = now - days * DAY_MS;
    let due = db
        .execute(ENDED_BEFORE, &[cutoff.into(), batch.into()])
        .await?;
    let mut report = RetentionReport {
        purged: 0,
        retention_days: days,
    };
    let sweep = Actor {
        role: crate::case::Role::System,
        id: "sweep".into(),
        channel: crate::model::Channel::System,
    };
    for row in due.iter() {
        let id = row.text("id")?;
        let Some(case) = crate::cases::by_id(db, &id).await? else {
            continue;
        };
        let description = mask_free_text(&case.description);
        let comment = case.rating_comment.as_deref().map(mask_free_text);
        in_transaction(db, async {
            let params = [
                description.as_str().into(),
                comment.clone().into(),
                now.into(),
                id.as_str().into(),
            ];
            let rows = db.execute(PURGE, &params).await?;
            if let Some(r) = rows.first() {
                let details = json!({"retention_days": days});
                append_note(db, &id, r, PURGE_EVENT, &sweep, &details, now).await?;
                db.execute(
                    "UPDATE reviews SET comment = ? WHERE case_id = ?",
                    &[comment.clone().into(), id.as_str().into()],
                )
                .await?;
                db.execute(
                    PURGE_OPEN311,
                    &[description.as_str().into(), id.as_str().into()],
                )
                .await?;
                report.purged += 1;
            }
            Ok(())
        })
        .await?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobiles_landlines_and_id_numbers_are_masked_in_free_text() {
        let cases = [
            ("call 13800138000 please", "call 138****8000 please"),
            ("电话13912345678联系陈先生", "电话139****5678联系陈先生"),
            ("phone: 138 0013 8000.", "phone: 138 **** 8000."),
            ("138-0013-8000", "138-****-8000"),
            ("+86 138 0013 8000", "+86 138 **** 8000"),
            ("+8613800138000", "+86138****8000"),
            (
                "office 0592-5123456 or (0592)5123456",
                "office 059*-*****56 or (059*)*****56",
            ),
            ("ID 35020319900101123X ok", "ID 350***********123X ok"),
            ("id:350203199001011234", "id:350***********1234"),
            ("3502 0319 9001 0112 34", "350* **** **** **12 34"),
            ("2 13800138000", "2 138****8000"),
        ];
        for (given, want) in cases {
            assert_eq!(mask_free_text(given), want, "{given}");
        }
    }

    #[test]
    fn other_numbers_stay_as_they_are() {
        for text in [
            "grid 350211001001001 near the sign",
            "12800138000 is not a mobile prefix",
            "order 1380013800012345678901",
            "on 2024-07-01 at 13:00, 3 signs, 12.5 m",
            "",
            "陈女士",
        ] {
            assert_eq!(mask_free_text(text), text, "{text}");
        }
    }

    #[test]
    fn masking_is_linear_on_long_hostile_input() {
        // Twenty times the longest description, all of it one run of one-digit groups.
        let text = "1 ".repeat(20_000);
        let started = std::time::Instant::now();
        let masked = mask_free_text(&text);
        assert_eq!(masked.chars().count(), text.chars().count());
        assert!(
            started.elapsed().as_millis() < 1000,
            "{:?}",
            started.elapsed()
        );
    }
}
