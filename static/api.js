/*
 * api.js - the dashboard's API client (JSON, the CSRF header, errors as toasts), the toasts,
 * and the pollers that re-read the API while the page is visible and signed in.
 */
import { $, h } from './dom.js';

/* ---- Toasts ---- */

const recentToasts = new Map();
export function toast(msg, kind = 'error') {
  msg = String(msg || 'Something went wrong');
  const now = Date.now();
  if (recentToasts.get(msg) > now - 8000) return;
  recentToasts.set(msg, now);
  const box = $('#toasts');
  const t = h('div', { class: 'toast ' + kind }, h('span', { text: msg }),
    h('button', { type: 'button', 'aria-label': 'Dismiss', onclick: () => t.remove() }, '×'));
  box.append(t);
  while (box.children.length > 4) box.firstElementChild.remove();
  setTimeout(() => t.remove(), kind === 'error' ? 8000 : 4000);
}

/* ---- API ---- */

/*
 * The household profile the page shows (docs/API.md, "Households"): 1 is the owner's and is
 * what every route means without ?profile=. The page takes it from its own address
 * (?profile=N), so a profile's dashboard can be bookmarked; api() adds it to the per-person
 * routes, so the rest of the page need not know about profiles.
 */
const PER_PERSON = /^\/api\/(status|sync(\/stop)?|progress|log|runs(\/.*)?|settings|libraries(\/refresh)?|auth\/trakt|trakt\/history(\/refresh)?|trakt\/duplicates(\/scan|\/remove)?|plex\/in-progress)$/;
function pageProfile() {
  const n = Number(new URLSearchParams(location.search).get('profile'));
  return Number.isInteger(n) && n > 0 ? n : 1;
}
export const profile = { id: pageProfile() };
export function profilePath(path) {
  if (profile.id === 1) return path;
  const [p, q] = path.split('?');
  if (!PER_PERSON.test(p)) return path;
  return p + '?' + (q ? q + '&' : '') + 'profile=' + profile.id;
}

export class ApiError extends Error {
  constructor(status, err) {
    super((err && err.message) || 'HTTP ' + status);
    this.status = status; this.code = err && err.code; this.fields = (err && err.fields) || null;
    this.retryAfter = 0; // seconds, from a 429's Retry-After
  }
}
// The sign-in state the API client and the pollers share with the page: locked after a 401
// or password_required until the login or password form succeeds; the page sets the hooks.
export const session = { locked: false, onUnauthorized: () => {}, onPasswordRequired: () => {} };

export async function api(method, path, body, opts = {}) {
  const init = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' };
  if (method !== 'GET') {
    init.headers['X-Requested-With'] = 'XMLHttpRequest';
    init.headers['Content-Type'] = 'application/json';
    if (method !== 'DELETE' || body !== undefined) init.body = JSON.stringify(body ?? {});
  }
  let res;
  try { res = await fetch(profilePath(path), init); } catch {
    const e = new ApiError(0, { message: 'Cannot reach the Plex-Trakt Sync server' });
    if (!opts.quiet) toast(e.message);
    throw e;
  }
  let data = null;
  const text = await res.text();
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (res.ok) return data || {};
  const e = new ApiError(res.status, data && data.error);
  e.retryAfter = parseInt(res.headers.get('Retry-After') || '0', 10) || 0;
  if (res.status === 401 && !opts.login) { session.onUnauthorized(); throw e; }
  if (res.status === 403 && e.code === 'password_required' && !opts.setup) { session.onPasswordRequired(); throw e; }
  if (!opts.quiet && !(opts.expect || []).includes(res.status)) toast(e.message);
  throw e;
}

/* ---- Pollers: run fn, then again after interval(); paused while the page is hidden ---- */

export class Poller {
  constructor(fn, interval, active = () => true) {
    this.fn = fn; this.interval = interval; this.active = active; this.timer = 0; this.busy = false; this.again = false;
  }
  async run() {
    clearTimeout(this.timer); this.timer = 0;
    if (this.busy) { this.again = true; return; }
    if (document.hidden || session.locked || !this.active()) return;
    this.busy = true;
    try { await this.fn(); } catch { /* already reported */ }
    this.busy = false;
    if (this.again) { this.again = false; return this.run(); }
    this.schedule();
  }
  schedule() {
    clearTimeout(this.timer);
    if (!document.hidden && !session.locked && this.active()) this.timer = setTimeout(() => this.run(), this.interval());
  }
  stop() { clearTimeout(this.timer); this.timer = 0; }
}
export const pollers = [];
export const poller = (...a) => { const p = new Poller(...a); pollers.push(p); return p; };
document.addEventListener('visibilitychange', () => pollers.forEach((p) => (document.hidden ? p.stop() : p.run())));
