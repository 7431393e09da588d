/*
 * dom.js - small DOM and formatting helpers of the dashboard (no state, no API calls).
 * Text from the API goes into the page only through h()'s text/attributes or textContent.
 */
export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

// h('div', {class: 'x', text: untrusted, onclick: fn}, child, 'text'): builds DOM safely.
export function h(tag, props, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of kids.flat()) if (c != null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}
export const setText = (sel, text) => { const el = typeof sel === 'string' ? $(sel) : sel; if (el) el.textContent = text ?? ''; };

export const toDate = (iso) => { if (!iso) return null; const d = new Date(iso); return isNaN(d) ? null : d; };
const dtf = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
export const tf = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
export const fmtTime = (iso) => { const d = toDate(iso); return d ? dtf.format(d) : '—'; };
export function rel(iso) {
  const d = toDate(iso); if (!d) return '';
  const s = (d - Date.now()) / 1000, a = Math.abs(s);
  const [v, u] = a < 45 ? [s, 'second'] : a < 3600 ? [s / 60, 'minute'] : a < 86400 ? [s / 3600, 'hour']
    : a < 86400 * 45 ? [s / 86400, 'day'] : [s / 2592000, 'month'];
  return rtf.format(Math.round(v), u);
}
// A <time> element: local time as text, the UTC instant in datetime, relative time as title.
export const timeEl = (iso, text) => h('time', { datetime: iso || null, title: iso ? rel(iso) : null, text: text ?? fmtTime(iso) });
export const fmtN = (n) => (n == null || n === '' || isNaN(n) ? '—' : Number(n).toLocaleString());
export function fmtDur(s) {
  if (s == null || !isFinite(s) || s < 0) return '—';
  s = Math.round(s);
  if (s < 60) return s + 's';
  if (s < 3600) return Math.floor(s / 60) + 'm ' + String(s % 60).padStart(2, '0') + 's';
  return Math.floor(s / 3600) + 'h ' + String(Math.floor(s / 60) % 60).padStart(2, '0') + 'm';
}
export const sxe = (s, e) => 'S' + String(s ?? 0).padStart(2, '0') + 'E' + String(e ?? 0).padStart(2, '0');
// Only http(s) URLs (or same-origin paths) become links or image sources.
export function safeUrl(u) {
  if (typeof u !== 'string' || !u) return null;
  try { const x = new URL(u, location.href); return /^https?:$/.test(x.protocol) ? x.href : null; } catch { return null; }
}
export const humanize = (s) => String(s || '').replace(/_/g, ' ');

// Where focus goes when the control that had it disappears: the selected tab.
export const fallbackFocus = () => $('[role="tab"][aria-selected="true"]') || $('#main');
export const isFocusable = (el) => !el.disabled && !el.hidden && !el.closest('[hidden]') && el.getClientRects().length > 0;
// Runs change() (which may disable or hide `el`); if `el` had focus and lost it, focus next().
export function keepFocus(el, change, next) {
  const had = document.activeElement === el;
  change();
  if (had && !isFocusable(el)) { const n = next(); (n && isFocusable(n) ? n : fallbackFocus()).focus(); }
}
