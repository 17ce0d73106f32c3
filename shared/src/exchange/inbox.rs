//! The inbox of signed messages from outside (department callbacks, other platforms' events):
//! one receipt per (sender, message id) with the first answer given to it, so that a message
//! sent again, or delivered twice at once, is applied once and answered the same every time.

use crate::{Database, StoreError};

/// The first answer to a message; `status` 0 while the first delivery is still being applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    pub status: i64,
    pub body: String,
}

const RECEIPT: &str =
    "SELECT status, body FROM webhook_receipts WHERE department = ? AND webhook_id = ?";
const CLAIM: &str = "INSERT INTO webhook_receipts (department, webhook_id, status, body, at) \
     VALUES (?, ?, 0, '', ?) ON CONFLICT DO NOTHING RETURNING webhook_id";
const ANSWER: &str =
    "UPDATE webhook_receipts SET status = ?, body = ? WHERE department = ? AND webhook_id = ?";
const KEEP_REFUSAL: &str = "INSERT INTO webhook_receipts (department, webhook_id, status, body, at) \
     VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";

/// The receipt of a message, if it came before.
pub async fn receipt<D: Database>(
    db: &D,
    sender: &str,
    message_id: &str,
) -> Result<Option<Receipt>, StoreError> {
    let rows = db
        .execute(RECEIPT, &[sender.into(), message_id.into()])
        .await?;
    rows.first()
        .map(|r| {
            Ok(Receipt {
                status: r.i64("status")?,
                body: r.text("body")?,
            })
        })
        .transpose()
}

/// Claims a message for this delivery, inside the transaction that applies it; `false` when
/// another delivery of the same id claimed it first.
pub async fn claim<D: Database>(
    db: &D,
    sender: &str,
    message_id: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let rows = db
        .execute(CLAIM, &[sender.into(), message_id.into(), now.into()])
        .await?;
    Ok(!rows.is_empty())
}

/// Stores the answer to a claimed message, in the same transaction.
pub async fn answer<D: Database>(
    db: &D,
    sender: &str,
    message_id: &str,
    status: u16,
    body: &str,
) -> Result<(), StoreError> {
    db.execute(
        ANSWER,
        &[
            i64::from(status).into(),
            body.into(),
            sender.into(),
            message_id.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Keeps a final refusal as the first answer, so that a repeat gets the same.
pub async fn keep_refusal<D: Database>(
    db: &D,
    sender: &str,
    message_id: &str,
    status: u16,
    body: &str,
    now: i64,
) -> Result<(), StoreError> {
    db.execute(
        KEEP_REFUSAL,
        &[
            sender.into(),
            message_id.into(),
            i64::from(status).into(),
            body.into(),
            now.into(),
        ],
    )
    .await?;
    Ok(())
}
