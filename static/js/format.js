// Small display helpers shared by the pages: names in the current language, grid chains, times.

import { lang, locale } from './i18n.js';

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

/** An RFC 3339 time in the reader's own time zone and language; the raw text if unreadable. */
export function formatTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso ?? '');
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(date);
}
