// Small display helpers shared by the pages: names in the current language, grid chains, status
// tones, times and calendar days. Formatters follow the current language (they are cached per language).

import { lang, locale } from './i18n.js';
import { el } from './dom.js';

/**
 * The city's time zone: deadlines, working days and the indicators' days are counted in China
 * Standard Time (UTC+8, no daylight saving), whatever zone a reader's device is set to.
 */
export const CITY_TIME_ZONE = 'Asia/Shanghai';

/** The name of a category-like object ({code, name_zh, name_en}) in the current language. */
export function localName(item) {
  if (!item) return '';
  if (typeof item === 'string') return item;
  const preferred = lang() === 'en' ? item.name_en : item.name_zh;
  return preferred || item.name_zh || item.name_en || item.name || item.code || '';
}

/** "District › Street › Community › Cell" from a list of {code, name} areas. */
export function chainText(areas) {
  return areas
    .filter(Boolean)
    .map((a) => a.name || a.code)
    .filter(Boolean)
    .join(' › ');
}

// A status badge's tone by what the status means to the people waiting on the case (the
// tracking page and the console); the badge's text always says it too.
const TONE = {
  collected: 'neutral', accepted: 'neutral',
  dispatched: 'info', signed_for: 'info', in_progress: 'info', extension_requested: 'warn',
  returned: 'warn', rework: 'warn',
  handled: 'ok', verified: 'ok', closed: 'ok', evaluated: 'ok',
  rejected: 'stop', merged: 'stop',
};

/** The badge tone of a status (a badge-… class of app.css). */
export function statusTone(status) {
  return TONE[status] || 'neutral';
}

const STYLES = {
  long: { dateStyle: 'medium', timeStyle: 'short' },
  short: { month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' },
};
const formatters = new Map();

function formatter(style, city) {
  const key = `${locale()}|${style}|${city}`;
  if (!formatters.has(key)) {
    // Staff read times in the city's zone on a 24-hour clock, as deadlines are set.
    const zone = city ? { timeZone: CITY_TIME_ZONE, hourCycle: 'h23' } : {};
    formatters.set(key, new Intl.DateTimeFormat(locale(), { ...STYLES[style], ...zone }));
  }
  return formatters.get(key);
}

/**
 * An RFC 3339 time in the reader's language; the raw text if unreadable. `style`: 'long' (date
 * and time) or 'short' (day, month and time); `city`: in the city's time zone (else the reader's).
 */
export function formatTime(iso, { style = 'long', city = false } = {}) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso ?? '');
  return formatter(style, city).format(date);
}

/** A <time> element for formatTime()'s text; '—' for no time, the raw text if unreadable. */
export function timeEl(iso, options) {
  if (!iso) return document.createTextNode('—');
  if (Number.isNaN(new Date(iso).getTime())) return document.createTextNode(String(iso));
  return el('time', { datetime: iso, text: formatTime(iso, options) });
}

/** A day in the city's calendar as YYYY-MM-DD: today, or `days` away from it. */
export function cityDate(days = 0) {
  const parts = new Intl.DateTimeFormat('en', { timeZone: CITY_TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' })
    .formatToParts(new Date(Date.now() + days * 86400_000));
  const part = (type) => parts.find((p) => p.type === type).value;
  return `${part('year')}-${part('month')}-${part('day')}`;
}
