//! Evidence that comes with a department's result: photos (JPEG, PNG, WebP) sent as base64 in
//! the signed JSON callback, or links. The type is read from the bytes, never from what the
//! sender says; metadata that can carry a location (EXIF, XMP, text chunks) is cut out before
//! anything is stored. Photos live in SQL as blobs and leave only through a staff route.

use base64::{Engine, engine::general_purpose::STANDARD};
use serde::Deserialize;
use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};

use crate::http::problem::FieldError;
use crate::{Database, Problem, StoreError, Value};

/// Largest photo, decoded: a phone photo recompressed for the web. Four of them in base64
/// fit the callbacks' body limit ([`crate::http::MAX_CALLBACK_BODY_BYTES`]).
pub const MAX_IMAGE_BYTES: usize = 2 * 1024 * 1024;
/// Most evidence items on one callback.
pub const MAX_ITEMS: usize = 4;
const MAX_URL_CHARS: usize = 2000;

/// One item of a callback's `evidence` list: `data` (base64 of the image) or `url`.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceInput {
    pub data: Option<String>,
    pub url: Option<String>,
    /// What the photo shows (≤ 200 characters).
    pub caption: Option<String>,
    /// The sender's idea of the type. Ignored: the bytes decide.
    pub content_type: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Jpeg,
    Png,
    Webp,
}

impl ImageKind {
    pub fn content_type(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "image/jpeg",
            ImageKind::Png => "image/png",
            ImageKind::Webp => "image/webp",
        }
    }
}

/// The image type by its magic bytes.
pub fn sniff(bytes: &[u8]) -> Option<ImageKind> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageKind::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ImageKind::Png)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(ImageKind::Webp)
    } else {
        None
    }
}

/// The longest side an image may declare, and the most pixels: a 200-megapixel phone camera's
/// photo is under both. More is a decompression bomb for whoever opens it.
pub const MAX_IMAGE_SIDE: usize = 20_000;
pub const MAX_IMAGE_PIXELS: usize = 200_000_000;

/// Refuses an image whose header declares no size, or one beyond [`MAX_IMAGE_SIDE`] or
/// [`MAX_IMAGE_PIXELS`] (read from the header only, by `imagesize`).
pub fn check_dimensions(bytes: &[u8]) -> Result<(), String> {
    let size = imagesize::blob_size(bytes)
        .map_err(|_| "the image declares no width and height".to_owned())?;
    let (width, height) = (size.width, size.height);
    if width == 0 || height == 0 {
        return Err("the image declares no width and height".to_owned());
    }
    if width > MAX_IMAGE_SIDE
        || height > MAX_IMAGE_SIDE
        || width.saturating_mul(height) > MAX_IMAGE_PIXELS
    {
        return Err(format!(
            "{width}×{height} pixels: at most {MAX_IMAGE_SIDE} a side and {} megapixels",
            MAX_IMAGE_PIXELS / 1_000_000
        ));
    }
    Ok(())
}

/// The image without its location-bearing metadata; an error names what is broken.
pub fn strip_metadata(kind: ImageKind, bytes: &[u8]) -> Result<Vec<u8>, &'static str> {
    match kind {
        ImageKind::Jpeg => strip_jpeg(bytes),
        ImageKind::Png => strip_png(bytes),
        ImageKind::Webp => strip_webp(bytes),
    }
}

/// Whether a JPEG segment stays: an allow-list of what a decoder needs. The frame and scan
/// headers, tables and restart intervals stay; of the application segments only APP0 with a
/// JFIF or JFXX header, APP2 with an ICC profile and APP14 with Adobe's colour transform.
/// Everything else goes: APP1 (EXIF with its GPS IFD, and XMP), APP13 (Photoshop IRB with
/// IPTC location fields), APP12, every other APPn, comments (COM) and markers nobody knows.
fn jpeg_segment_stays(marker: u8, segment: &[u8]) -> bool {
    let payload = segment.get(4..).unwrap_or_default();
    match marker {
        // SOF0-15 (but C4 DHT, C8 JPG, CC DAC, handled below), DHT, DAC, SOS, DQT, DNL, DRI.
        0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => true,
        0xC4 | 0xCC | 0xDA | 0xDB | 0xDC | 0xDD => true,
        0xE0 => payload.starts_with(b"JFIF\0") || payload.starts_with(b"JFXX\0"),
        0xE2 => payload.starts_with(b"ICC_PROFILE\0"),
        0xEE => payload.starts_with(b"Adobe"),
        _ => false,
    }
}

/// Walks the segments of a JPEG (ITU T.81 §B.1): a marker `FF xx`, then for all but the
/// standalone markers a big-endian length that counts itself. After a start of scan, the
/// entropy-coded data runs until a marker that is neither a stuffed `FF 00` nor a restart.
fn strip_jpeg(bytes: &[u8]) -> Result<Vec<u8>, &'static str> {
    const TRUNCATED: &str = "the JPEG is truncated";
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return Err("not a JPEG");
    }
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&bytes[..2]);
    let mut i = 2;
    loop {
        if i >= bytes.len() {
            return Err(TRUNCATED);
        }
        if bytes[i] != 0xFF {
            return Err("a JPEG segment does not start with a marker");
        }
        // Fill bytes: any number of FF before the marker code.
        while i + 1 < bytes.len() && bytes[i + 1] == 0xFF {
            i += 1;
        }
        let marker = *bytes.get(i + 1).ok_or(TRUNCATED)?;
        match marker {
            0xD9 => {
                out.extend_from_slice(&[0xFF, 0xD9]);
                return Ok(out);
            }
            0x01 | 0xD0..=0xD7 => {
                out.extend_from_slice(&[0xFF, marker]);
                i += 2;
            }
            _ => {
                let len_bytes = bytes.get(i + 2..i + 4).ok_or(TRUNCATED)?;
                let len = usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
                if len < 2 {
                    return Err("a JPEG segment has a bad length");
                }
                let end = i + 2 + len;
                let segment = bytes.get(i..end).ok_or(TRUNCATED)?;
                if jpeg_segment_stays(marker, segment) {
                    out.extend_from_slice(segment);
                }
                i = end;
                if marker == 0xDA {
                    // Entropy-coded data of the scan, copied as is.
                    let start = i;
                    while i + 1 < bytes.len() {
                        if bytes[i] == 0xFF && !matches!(bytes[i + 1], 0x00 | 0xD0..=0xD7 | 0xFF) {
                            break;
                        }
                        i += 1;
                    }
                    if i + 1 >= bytes.len() {
                        return Err(TRUNCATED);
                    }
                    out.extend_from_slice(&bytes[start..i]);
                }
            }
        }
    }
}

/// PNG chunks that stay, with their CRC, as they are: the critical ones, and the ancillary
/// ones that change how the image shows (transparency, colour, gamma, pixel size, background,
/// animation). Everything else goes: `eXIf`, the text chunks (`tEXt`, `zTXt`, `iTXt`, which
/// carry XMP and comments), `tIME`, and private chunks nobody knows.
const PNG_KEPT: [&[u8; 4]; 17] = [
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"cHRM", b"gAMA", b"iCCP", b"sBIT", b"sRGB",
    b"cICP", b"mDCV", b"cLLI", b"bKGD", b"pHYs", b"acTL", b"fcTL",
];
/// APNG's frame data, kept with the animation control chunks above.
const PNG_FRAME_DATA: &[u8; 4] = b"fdAT";

fn strip_png(bytes: &[u8]) -> Result<Vec<u8>, &'static str> {
    const TRUNCATED: &str = "the PNG is truncated";
    let mut out = bytes.get(..8).ok_or(TRUNCATED)?.to_vec();
    let mut i = 8;
    loop {
        let header = bytes.get(i..i + 8).ok_or(TRUNCATED)?;
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let kind: [u8; 4] = [header[4], header[5], header[6], header[7]];
        let end = i.checked_add(12 + len).ok_or(TRUNCATED)?;
        let chunk = bytes.get(i..end).ok_or(TRUNCATED)?;
        if PNG_KEPT.iter().any(|k| **k == kind) || &kind == PNG_FRAME_DATA {
            out.extend_from_slice(chunk);
        }
        i = end;
        if &kind == b"IEND" {
            return Ok(out);
        }
    }
}

/// WebP (RIFF) chunks that stay: the image data (lossy, lossless, alpha), the extended
/// header, the ICC profile and the animation. EXIF, XMP and unknown chunks go, and the VP8X
/// flag bits that announce the two.
const WEBP_KEPT: [&[u8; 4]; 7] = [
    b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ICCP", b"ANIM", b"ANMF",
];
const VP8X_EXIF_FLAG: u8 = 0x08;
const VP8X_XMP_FLAG: u8 = 0x04;

fn strip_webp(bytes: &[u8]) -> Result<Vec<u8>, &'static str> {
    const TRUNCATED: &str = "the WebP is truncated";
    if bytes.len() < 12 {
        return Err(TRUNCATED);
    }
    let riff_len = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
    let end_of_riff = (8 + riff_len).min(bytes.len());
    let mut body = b"WEBP".to_vec();
    let mut i = 12;
    while i + 8 <= end_of_riff {
        let kind: [u8; 4] = [bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]];
        let len =
            u32::from_le_bytes([bytes[i + 4], bytes[i + 5], bytes[i + 6], bytes[i + 7]]) as usize;
        // Chunks are padded to an even length.
        let end = i.checked_add(8 + len + (len & 1)).ok_or(TRUNCATED)?;
        let chunk = bytes.get(i..end.min(bytes.len())).ok_or(TRUNCATED)?;
        if chunk.len() < 8 + len {
            return Err(TRUNCATED);
        }
        if WEBP_KEPT.iter().any(|k| **k == kind) {
            let start = body.len();
            body.extend_from_slice(chunk);
            if &kind == b"VP8X" && len >= 1 {
                body[start + 8] &= !(VP8X_EXIF_FLAG | VP8X_XMP_FLAG);
            }
            if chunk.len() < 8 + len + (len & 1) {
                body.push(0);
            }
        }
        i = end;
    }
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// An item ready to store: an image without metadata, or a link.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub kind: Option<ImageKind>,
    pub bytes: Vec<u8>,
    pub url: Option<String>,
    pub caption: Option<String>,
}

/// Checks and cleans a callback's evidence; every problem is listed at once (422).
pub fn prepare(items: &[EvidenceInput]) -> Result<Vec<Prepared>, Problem> {
    prepare_list(items, "evidence", MAX_ITEMS)
}

/// [`prepare`] for a list under another name (a report's `photos`) and count.
pub fn prepare_list(
    items: &[EvidenceInput],
    list: &str,
    max: usize,
) -> Result<Vec<Prepared>, Problem> {
    let mut errors = Vec::new();
    if items.len() > max {
        errors.push(FieldError::new(list, format!("at most {max} items")));
        return Err(Problem::validation(errors));
    }
    let mut out = Vec::new();
    for (n, item) in items.iter().enumerate() {
        let field = |name: &str| format!("{list}[{n}].{name}");
        let caption = item
            .caption
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned);
        if caption.as_ref().is_some_and(|c| c.chars().count() > 200) {
            errors.push(FieldError::new(&field("caption"), "at most 200 characters"));
        }
        match (&item.data, &item.url) {
            (Some(data), None) => {
                // A data: URL prefix is tolerated; the bytes still decide the type.
                let encoded = data
                    .split_once(";base64,")
                    .map_or(data.as_str(), |(_, b)| b);
                let encoded: String = encoded
                    .chars()
                    .filter(|c| !c.is_ascii_whitespace())
                    .collect();
                if encoded.len() > MAX_IMAGE_BYTES / 3 * 4 + 8 {
                    errors.push(FieldError::new(
                        &field("data"),
                        format!("at most {MAX_IMAGE_BYTES} bytes"),
                    ));
                    continue;
                }
                let Ok(bytes) = STANDARD.decode(encoded.as_bytes()) else {
                    errors.push(FieldError::new(&field("data"), "not base64"));
                    continue;
                };
                if bytes.len() > MAX_IMAGE_BYTES {
                    errors.push(FieldError::new(
                        &field("data"),
                        format!("at most {MAX_IMAGE_BYTES} bytes"),
                    ));
                    continue;
                }
                let Some(kind) = sniff(&bytes) else {
                    errors.push(FieldError::new(
                        &field("data"),
                        "not a JPEG, PNG or WebP image",
                    ));
                    continue;
                };
                if let Err(why) = check_dimensions(&bytes) {
                    errors.push(FieldError::new(&field("data"), why));
                    continue;
                }
                match strip_metadata(kind, &bytes) {
                    Ok(clean) => out.push(Prepared {
                        kind: Some(kind),
                        bytes: clean,
                        url: None,
                        caption,
                    }),
                    Err(why) => errors.push(FieldError::new(&field("data"), why)),
                }
            }
            (None, Some(url)) => {
                let url = url.trim();
                if !(url.starts_with("https://") || url.starts_with("http://"))
                    || url.chars().count() > MAX_URL_CHARS
                    || url.chars().any(char::is_whitespace)
                {
                    errors.push(FieldError::new(
                        &field("url"),
                        "an http or https URL of at most 2000 characters",
                    ));
                    continue;
                }
                out.push(Prepared {
                    kind: None,
                    bytes: Vec::new(),
                    url: Some(url.to_owned()),
                    caption,
                });
            }
            _ => errors.push(FieldError::new(
                &field("data"),
                "give either data (base64) or url",
            )),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(Problem::validation(errors))
    }
}

const INSERT: &str = "INSERT INTO evidence (id, case_id, event_seq, source, content_type, bytes, size, sha256, url, \
     caption, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
const BY_ID: &str =
    "SELECT content_type, bytes FROM evidence WHERE case_id = ? AND id = ? AND bytes IS NOT NULL";

/// Stores the items of one event, in the caller's transaction; returns what the event's
/// details record of them (never the bytes).
pub async fn store<D: Database>(
    db: &D,
    case_id: &str,
    event_seq: i64,
    source: &str,
    items: &[Prepared],
    now: i64,
) -> Result<Vec<Json>, StoreError> {
    let mut refs = Vec::new();
    for item in items {
        let id = format!("ev_{}", ulid::Ulid::from_parts(now as u64, rand::random()));
        let sha: String = Sha256::digest(&item.bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let (content_type, bytes, size, sha) = match item.kind {
            Some(kind) => (
                Some(kind.content_type()),
                Value::Blob(item.bytes.clone()),
                Some(item.bytes.len() as i64),
                Some(sha),
            ),
            None => (None, Value::Null, None, None),
        };
        db.execute(
            INSERT,
            &[
                id.as_str().into(),
                case_id.into(),
                event_seq.into(),
                source.into(),
                content_type.into(),
                bytes,
                size.into(),
                sha.clone().into(),
                item.url.clone().into(),
                item.caption.clone().into(),
                now.into(),
            ],
        )
        .await?;
        refs.push(match item.kind {
            Some(_) => json!({"id": id, "content_type": content_type, "size": size, "sha256": sha,
                              "caption": item.caption, "href": format!("/api/cases/{case_id}/evidence/{id}")}),
            None => json!({"id": id, "url": item.url, "caption": item.caption}),
        });
    }
    Ok(refs)
}

/// Who stored the reporter's own photos: the public view shows these, and only these. The colon
/// keeps it apart from every other source: department codes cannot hold one
/// (`directory::valid_code`), and staff accounts are filed under their ULIDs.
pub const REPORTER: &str = "citizen:reporter";

// In the order they were sent (rowid: insertion order; ids share a millisecond).
const BY_SOURCE: &str = "SELECT id, caption FROM evidence WHERE case_id = ? AND source = ? \
     AND bytes IS NOT NULL ORDER BY event_seq, rowid";
const BY_ID_AND_SOURCE: &str = "SELECT content_type, bytes FROM evidence WHERE case_id = ? AND id = ? \
     AND source = ? AND bytes IS NOT NULL";

/// The ids and captions of a case's images from one source (index `evidence_by_case`).
pub async fn list_from<D: Database>(
    db: &D,
    case_id: &str,
    source: &str,
) -> Result<Vec<(String, Option<String>)>, StoreError> {
    let rows = db
        .execute(BY_SOURCE, &[case_id.into(), source.into()])
        .await?;
    rows.iter()
        .map(|r| Ok((r.text("id")?, r.opt_text("caption")?)))
        .collect()
}

/// One image of a case from one source: its content type and bytes.
pub async fn fetch_from<D: Database>(
    db: &D,
    case_id: &str,
    id: &str,
    source: &str,
) -> Result<Option<(String, Vec<u8>)>, StoreError> {
    let rows = db
        .execute(
            BY_ID_AND_SOURCE,
            &[case_id.into(), id.into(), source.into()],
        )
        .await?;
    image_of(rows)
}

/// A stored image of a case: its content type and bytes.
pub async fn fetch<D: Database>(
    db: &D,
    case_id: &str,
    id: &str,
) -> Result<Option<(String, Vec<u8>)>, StoreError> {
    let rows = db.execute(BY_ID, &[case_id.into(), id.into()]).await?;
    image_of(rows)
}

/// The images of a case that staff approved for public answers, oldest approval first.
pub async fn public_of<D: Database>(db: &D, case_id: &str) -> Result<Vec<String>, StoreError> {
    let rows = db
        .execute(
            "SELECT id FROM evidence WHERE case_id = ? AND public_at IS NOT NULL AND bytes IS NOT NULL \
             ORDER BY public_at, id",
            &[case_id.into()],
        )
        .await?;
    rows.iter().map(|r| r.text("id")).collect()
}

/// Which of `ids` are images of the case (a link, or another case's image, is not).
pub async fn images_of<D: Database>(
    db: &D,
    case_id: &str,
    ids: &[String],
) -> Result<Vec<String>, StoreError> {
    let mut found = Vec::new();
    for id in ids {
        let rows = db
            .execute(
                "SELECT id FROM evidence WHERE case_id = ? AND id = ? AND bytes IS NOT NULL",
                &[case_id.into(), id.as_str().into()],
            )
            .await?;
        if !rows.is_empty() {
            found.push(id.clone());
        }
    }
    Ok(found)
}

/// Makes exactly `ids` the case's public images (approved at `now`, or earlier if they already
/// were); every other image of the case is withdrawn. In the caller's transaction, beside the
/// case event that records it.
pub async fn set_public<D: Database>(
    db: &D,
    case_id: &str,
    ids: &[String],
    now: i64,
) -> Result<(), StoreError> {
    db.execute(
        "UPDATE evidence SET public_at = NULL WHERE case_id = ? AND public_at IS NOT NULL",
        &[case_id.into()],
    )
    .await?;
    for id in ids {
        db.execute(
            "UPDATE evidence SET public_at = ? WHERE case_id = ? AND id = ? AND bytes IS NOT NULL",
            &[now.into(), case_id.into(), id.as_str().into()],
        )
        .await?;
    }
    Ok(())
}

/// An image of a case that staff approved for the public (the caller found the case by the
/// publication rule, `case::publication`).
pub async fn fetch_public<D: Database>(
    db: &D,
    case_id: &str,
    id: &str,
) -> Result<Option<(String, Vec<u8>)>, StoreError> {
    let rows = db
        .execute(
            "SELECT content_type, bytes FROM evidence WHERE case_id = ? AND id = ? \
             AND public_at IS NOT NULL AND bytes IS NOT NULL",
            &[case_id.into(), id.into()],
        )
        .await?;
    image_of(rows)
}

fn image_of(rows: crate::ports::Rows) -> Result<Option<(String, Vec<u8>)>, StoreError> {
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let content_type = row.text("content_type")?;
    let bytes = match rows.rows[0].get(1) {
        Some(Value::Blob(b)) => b.clone(),
        _ => return Err(StoreError("evidence bytes are not a blob".into())),
    };
    Ok(Some((content_type, bytes)))
}

#[cfg(test)]
pub(crate) mod samples {
    //! Small images built by hand, with metadata where a phone would put it.

    /// A JPEG: SOI, APP0 (JFIF), APP1 (Exif with a GPS tag), DQT, SOF0 (1×1, one component),
    /// SOS with stuffed bytes and a restart marker, EOI.
    pub fn jpeg_with_exif() -> Vec<u8> {
        let mut v = vec![0xFF, 0xD8];
        v.extend([0xFF, 0xE0, 0x00, 0x10]);
        v.extend(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        let exif = b"Exif\0\0MM\0*GPSLatitude 24.58N GPSLongitude 118.09E";
        v.extend([0xFF, 0xE1]);
        v.extend(((exif.len() + 2) as u16).to_be_bytes());
        v.extend(exif);
        v.extend([0xFF, 0xDB, 0x00, 0x05, 1, 2, 3]);
        v.extend([0xFF, 0xC0, 0x00, 0x0B, 8, 0, 1, 0, 1, 1, 1, 0x11, 0]);
        v.extend([0xFF, 0xDA, 0x00, 0x04, 9, 9]);
        v.extend([0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56]);
        v.extend([0xFF, 0xD9]);
        v
    }

    pub fn png_with_text() -> Vec<u8> {
        let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
        let chunk = |v: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]| {
            v.extend((data.len() as u32).to_be_bytes());
            v.extend(kind);
            v.extend(data);
            v.extend([0, 0, 0, 0]);
        };
        chunk(&mut v, b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]);
        chunk(&mut v, b"eXIf", b"MM\0*GPS 24.58N");
        chunk(
            &mut v,
            b"iTXt",
            b"XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta>GPSLatitude</x:xmpmeta>",
        );
        chunk(&mut v, b"IDAT", &[1, 2, 3]);
        chunk(&mut v, b"IEND", &[]);
        v
    }

    pub fn webp_with_exif() -> Vec<u8> {
        let mut body = b"WEBP".to_vec();
        let chunk = |v: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]| {
            v.extend(kind);
            v.extend((data.len() as u32).to_le_bytes());
            v.extend(data);
            if data.len() % 2 == 1 {
                v.push(0);
            }
        };
        chunk(&mut body, b"VP8X", &[0x0C, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        chunk(&mut body, b"VP8 ", &[1, 2, 3]);
        chunk(&mut body, b"EXIF", b"MM\0*GPS 24.58N");
        chunk(&mut body, b"XMP ", b"<x:xmpmeta>GPS</x:xmpmeta>");
        let mut v = b"RIFF".to_vec();
        v.extend((body.len() as u32).to_le_bytes());
        v.extend(body);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::samples::*;
    use super::*;

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn only_what_an_image_needs_survives_the_stripping() {
        // A JPEG with a comment, an APP12 (Ducky/picture info), an APP3 and an APP1 that
        // does not say Exif: none of them stays.
        let mut jpeg = jpeg_with_exif();
        let tail = jpeg.split_off(2);
        for (marker, payload) in [
            (0xFE, &b"GPS 24.58N comment"[..]),
            (0xEC, &b"Ducky GPS 24.58N"[..]),
            (0xE3, &b"META GPS 24.58N"[..]),
            (0xE0, &b"NOTJFIF GPS 24.58N"[..]),
        ] {
            jpeg.extend([0xFF, marker]);
            jpeg.extend(((payload.len() + 2) as u16).to_be_bytes());
            jpeg.extend(payload);
        }
        jpeg.extend(tail);
        let clean = strip_metadata(ImageKind::Jpeg, &jpeg).unwrap();
        assert!(!contains(&clean, b"GPS"), "{clean:?}");
        assert!(contains(&clean, b"JFIF") && contains(&clean, &[0xFF, 0xC0]));
        // A PNG with a private chunk and a tIME chunk.
        let mut png = png_with_text();
        let iend = png.len() - 12;
        let mut extra = Vec::new();
        for (kind, data) in [(b"prVt", &b"GPS 24.58N"[..]), (b"tIME", &b"GPS 24.58N"[..])] {
            extra.extend((data.len() as u32).to_be_bytes());
            extra.extend(kind);
            extra.extend(data);
            extra.extend([0, 0, 0, 0]);
        }
        png.splice(iend..iend, extra);
        let clean = strip_metadata(ImageKind::Png, &png).unwrap();
        assert!(!contains(&clean, b"GPS") && !contains(&clean, b"prVt"));
        assert!(
            contains(&clean, b"IHDR") && contains(&clean, b"IDAT") && contains(&clean, b"IEND")
        );
    }

    #[test]
    fn an_image_declaring_more_pixels_than_a_camera_makes_is_refused() {
        for sample in [jpeg_with_exif(), png_with_text(), webp_with_exif()] {
            assert_eq!(check_dimensions(&sample), Ok(()));
        }
        let mut bomb = png_with_text();
        // IHDR's width and height: 100000 × 100000.
        bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        let refused = check_dimensions(&bomb).unwrap_err();
        assert!(refused.contains("100000×100000"), "{refused}");
        let mut wide = png_with_text();
        wide[16..20].copy_from_slice(&30_000u32.to_be_bytes());
        assert!(check_dimensions(&wide).is_err(), "a side past the limit");
        assert!(check_dimensions(b"\x89PNG\r\n\x1a\n").is_err(), "no header");
    }

    #[test]
    fn jpeg_exif_goes_and_everything_else_stays_byte_for_byte() {
        let original = jpeg_with_exif();
        let clean = strip_metadata(ImageKind::Jpeg, &original).unwrap();
        assert!(!contains(&clean, b"GPS") && !contains(&clean, b"Exif"));
        assert!(contains(&clean, b"JFIF"));
        // The scan data, with its stuffed byte and restart marker, is untouched.
        assert!(clean.ends_with(&[
            0xFF, 0xDA, 0x00, 0x04, 9, 9, 0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0xD9
        ]));
        assert_eq!(clean.len(), original.len() - (4 + 49));
        assert_eq!(
            strip_metadata(ImageKind::Jpeg, &clean).unwrap(),
            clean,
            "stripping twice changes nothing"
        );
    }

    #[test]
    fn png_and_webp_lose_their_metadata_chunks() {
        let png = strip_metadata(ImageKind::Png, &png_with_text()).unwrap();
        assert!(
            !contains(&png, b"GPS") && contains(&png, b"IDAT") && png.ends_with(b"IEND\0\0\0\0")
        );
        let webp = strip_metadata(ImageKind::Webp, &webp_with_exif()).unwrap();
        assert!(!contains(&webp, b"GPS") && contains(&webp, b"VP8 "));
        assert_eq!(
            webp[20] & (VP8X_EXIF_FLAG | VP8X_XMP_FLAG),
            0,
            "the VP8X flags no longer announce them"
        );
        let riff = u32::from_le_bytes([webp[4], webp[5], webp[6], webp[7]]) as usize;
        assert_eq!(riff + 8, webp.len(), "the RIFF size is recomputed");
    }

    #[test]
    fn the_bytes_decide_the_type_and_broken_images_are_refused() {
        assert_eq!(sniff(&jpeg_with_exif()), Some(ImageKind::Jpeg));
        assert_eq!(sniff(&png_with_text()), Some(ImageKind::Png));
        assert_eq!(sniff(&webp_with_exif()), Some(ImageKind::Webp));
        assert_eq!(sniff(b"GIF89a...."), None);
        assert_eq!(sniff(b"<svg onload=alert(1)>"), None);
        let truncated = &jpeg_with_exif()[..30];
        assert!(strip_metadata(ImageKind::Jpeg, truncated).is_err());
        assert!(strip_metadata(ImageKind::Png, &png_with_text()[..20]).is_err());
    }

    #[test]
    fn a_gif_declared_as_jpeg_and_a_too_large_image_are_refused_field_by_field() {
        let gif = EvidenceInput {
            data: Some(STANDARD.encode(b"GIF89a\x01\0\x01\0")),
            url: None,
            caption: None,
            content_type: Some("image/jpeg".into()),
        };
        let mut big = jpeg_with_exif();
        big.resize(MAX_IMAGE_BYTES + 1, 0);
        let large = EvidenceInput {
            data: Some(STANDARD.encode(&big)),
            ..gif.clone()
        };
        let link = EvidenceInput {
            data: None,
            url: Some("javascript:alert(1)".into()),
            ..gif.clone()
        };
        let err = prepare(&[gif, large, link]).unwrap_err();
        let fields: Vec<&str> = err.extensions["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(
            fields,
            ["evidence[0].data", "evidence[1].data", "evidence[2].url"]
        );
    }
}
