// The form side of POST /api/reports (docs/api.md): reading what people type into the body the
// server takes, and checking it with the server's own rules (rules.js, the wasm module) before
// sending. The server checks again and has the final word. Pure functions only: no DOM.

// Shown beside fields before the rules load; the rules (ruleLimits) replace them.
export const LIMITS = { descriptionMin: 5, descriptionMax: 2000, address: 200, contactName: 50 };
export const CRS = ['wgs84', 'gcj02', 'bd09'];
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/** Length in characters (code points), as the server counts, not UTF-16 units: 1 emoji = 1. */
export function charCount(text) {
  return [...text].length;
}

/** Full-width digits, "+", "-" and "." (typed with a Chinese input method) to ASCII. */
export function toHalfWidth(text) {
  return text.replace(/[\uFF0B\uFF0D\uFF0E\uFF10-\uFF19]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
}

/** A typed coordinate as a number, or null. Plain decimals only: Number() would take "0x1f" or "". */
export function parseCoord(text) {
  const s = toHalfWidth(String(text ?? '')).trim();
  return DECIMAL.test(s) ? Number(s) : null;
}

/** "24.48, 118.09" pasted into one box → [lat, lng], else null. */
export function splitPair(text) {
  const m = toHalfWidth(text).trim().match(/^([+-]?[\d.]+)\s*[,，\s]\s*([+-]?[\d.]+)$/);
  return m ? [m[1], m[2]] : null;
}

/** Spaces, dashes and brackets people type in phone numbers are dropped before checking. */
export function normalizePhone(text) {
  return toHalfWidth(text).replace(/[\s\-()]/g, '');
}

// The rules' codes (shared/src/model.rs) → the last part of our message keys.
export const CODE_KEYS = { required: 'required', too_short: 'short', too_long: 'long', out_of_range: 'invalid', invalid: 'invalid', too_many: 'too_many' };

/**
 * Checks the raw form values (strings) with `check`, the server's own rules (rules.js's
 * checkBody; null when they could not load), plus what only a form can get wrong: text that is
 * no number in a coordinate box, a category that is not in the list (`knownCategories`, a Set,
 * or null when the list is unknown). `photoCount` photos are checked by number only: their
 * bytes are the server's to judge. Returns {field: {key, vars} | {text}}; empty means "send it".
 */
export function validateReport(v, knownCategories, check, photoCount = 0) {
  const errors = {};
  const body = buildReport(v, 'web', null);
  if (photoCount) body.photos = Array.from({ length: photoCount }, () => ({ data: 'x' }));
  const verdict = check ? check(body) : null;
  for (const e of verdict?.errors || []) {
    const field = e.field.replace(/\[\d+\]$/, ''); // photos[2] → photos
    if (errors[field]) continue; // the first broken rule of a field is the one to fix first
    const key = `err.${field}.${CODE_KEYS[e.code] || 'invalid'}`;
    errors[field] = { key, text: e.message, vars: { n: charCount((v[field] || '').trim()) } };
  }
  for (const field of ['lat', 'lng']) {
    if (v[field].trim() !== '' && parseCoord(v[field]) === null) errors[field] = { key: `err.${field}.invalid` };
  }
  // No place at all is one thing to fix, not two: the location as a whole is asked for.
  if (v.lat.trim() === '' && v.lng.trim() === '') {
    delete errors.lat;
    delete errors.lng;
    errors.location = { key: 'err.location.required' };
  }
  if (v.category && knownCategories && !knownCategories.has(v.category)) errors.category = { key: 'err.category.unknown' };
  return errors;
}

/** The JSON body for POST /api/reports from values that passed validateReport. Empty optionals are left out. */
export function buildReport(v, channel, assetId, photos = []) {
  const body = {
    category: v.category,
    description: v.description.trim(),
    lat: parseCoord(v.lat),
    lng: parseCoord(v.lng),
    crs: CRS.includes(v.crs) ? v.crs : 'wgs84',
    channel,
  };
  const address = v.address.trim();
  const name = v.contact_name.trim();
  const phone = normalizePhone(v.contact_phone);
  if (address) body.address = address;
  if (name) body.contact_name = name;
  if (phone) body.contact_phone = phone;
  if (assetId) body.asset_id = assetId;
  if (photos.length) body.photos = photos;
  // Public only when the reporter ticked it (docs/publication.md).
  if (v.public === true) body.public = true;
  // The honeypot goes to the server too, which refuses a filled one (err.website.honeypot).
  if (v.website) body.website = v.website;
  return body;
}
