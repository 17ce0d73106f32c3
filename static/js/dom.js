// The DOM helpers every page builds with: elements by id, new elements (HTML and SVG), selects,
// a field's inline error and a page's status line. Text reaches the page only as textContent or
// attribute values, never as HTML, so nothing from the server or the URL can become markup.

const SVG_NS = 'http://www.w3.org/2000/svg';

/** The element with this id. */
export const $ = (id) => document.getElementById(id);

/**
 * A new element with attributes and children. In `attrs`, `text` sets textContent, `class` the
 * class name and `data` the dataset; `true` writes an empty attribute; null, undefined and false
 * leave an attribute out. Children may be nodes, strings, numbers or arrays of them; null,
 * undefined and false are skipped.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  setAttributes(node, attrs);
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** A new SVG element, with attributes as el() takes them and an optional text. */
export function svgEl(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG_NS, tag);
  setAttributes(node, attrs);
  if (text !== undefined) node.textContent = text;
  return node;
}

function setAttributes(node, attrs) {
  for (const [key, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (key === 'text') node.textContent = value;
    else if (key === 'class') node.setAttribute('class', value);
    else if (key === 'data') Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? '' : value);
  }
}

/** Removes a chart's drawing, keeping its <title> and <desc> (its accessible name). */
export function clearDrawing(svg) {
  for (const node of [...svg.childNodes]) if (node.nodeName !== 'title' && node.nodeName !== 'desc') node.remove();
}

/** Fills a <select> with [value, label] pairs, keeping its value when it is still offered. */
export function fillSelect(select, pairs, keep = select.value) {
  select.replaceChildren(...pairs.map(([value, label]) => el('option', { value, text: label })));
  if (pairs.some(([value]) => value === keep)) select.value = keep;
}

/**
 * Shows (or, with no text, clears) the inline error of field `id`: the text in the element
 * `${id}-error`, and aria-invalid on the field itself when the page has it.
 */
export function showFieldError(id, text) {
  const msg = $(`${id}-error`);
  msg.textContent = text || '';
  msg.hidden = !text;
  const input = $(id);
  if (!input) return;
  if (text) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

/**
 * A page's one status line (a role="status" element): results and errors, announced politely.
 * `say(message, tone)` takes a text, or a function returning it, which `rewrite()` calls again
 * after a language switch so the line reads in the new language. Tones: '', 'ok', 'error'.
 */
export function statusLine(id) {
  let last = null;
  function rewrite() {
    const line = $(id);
    line.textContent = last ? (typeof last.message === 'function' ? last.message() : last.message) : '';
    line.classList.toggle('is-ok', last?.tone === 'ok');
    line.classList.toggle('is-error', last?.tone === 'error');
  }
  function say(message, tone = '') {
    last = { message, tone };
    rewrite();
  }
  return { say, rewrite };
}
