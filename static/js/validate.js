// The rules of POST /api/reports (docs/api.md), checked in the browser so people see their
// mistakes before sending. The server checks again and has the final word; keep both in step.
// Pure functions only: no DOM, so they can be tested outside a browser.

export const LIMITS = { descriptionMin: 5, descriptionMax: 2000, address: 200, contactName: 50 };
export const CRS = ['wgs84', 'gcj02', 'bd09'];
const PHONE = /^\+?\d{7,20}$/;
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

/**
 * Checks the raw form values (strings). `knownCategories` is a Set of codes, or null when the
 * list is unknown. Returns {field: {key, vars}} for each broken rule; empty means "send it".
 */
export function validateReport(v, knownCategories) {
  const errors = {};
  if (!v.category) errors.category = { key: 'err.category.required' };
  else if (knownCategories && !knownCategories.has(v.category)) errors.category = { key: 'err.category.unknown' };

  const n = charCount(v.description.trim());
  if (n === 0) errors.description = { key: 'err.description.required' };
  else if (n < LIMITS.descriptionMin) errors.description = { key: 'err.description.short' };
  else if (n > LIMITS.descriptionMax) errors.description = { key: 'err.description.long', vars: { n } };

  for (const [field, max] of [['lat', 90], ['lng', 180]]) {
    const x = parseCoord(v[field]);
    if (v[field].trim() === '') errors[field] = { key: `err.${field}.required` };
    else if (x === null || x < -max || x > max) errors[field] = { key: `err.${field}.invalid` };
  }

  if (charCount(v.address.trim()) > LIMITS.address) errors.address = { key: 'err.address.long' };
  if (charCount(v.contact_name.trim()) > LIMITS.contactName) errors.contact_name = { key: 'err.contact_name.long' };
  const phone = normalizePhone(v.contact_phone);
  if (phone && !PHONE.test(phone)) errors.contact_phone = { key: 'err.contact_phone.invalid' };
  return errors;
}

/** The JSON body for POST /api/reports from values that passed validateReport. Empty optionals are left out. */
export function buildReport(v, channel, assetId) {
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
  return body;
}
