/*
 * authflow.js - the Settings dialog's sign-in flows: plex.tv's PIN and Trakt's device code.
 * Each flow starts a worker job, polls its state each second while the dialog is open, shows
 * the code and link, and moves focus to the result when the Authorize button goes away.
 */
import { $, h, toDate, safeUrl, keepFocus, isFocusable } from './dom.js';
import { toast, api, Poller } from './api.js';

export class AuthFlow {
  // hooks: saveFields(keys) → false when the settings were refused; signedIn() after a
  // sign-in or sign-out (the page re-reads its status).
  constructor(name, label, needs, hooks) {
    this.name = name; this.label = label; this.needs = needs; this.started = 0; this.hooks = hooks;
    this.box = $('#' + name + '-flow');
    // Polls while a flow is under way and the dialog is open.
    this.poll = new Poller(() => this.load(), () => 1000, () => this.live && $('#settings').open);
    $('#' + name + '-auth').addEventListener('click', () => this.start());
    $('#' + name + '-signout').addEventListener('click', () => this.signOut());
    setInterval(() => this.tick(), 1000);
  }
  async start() {
    if (!(await this.hooks.saveFields(this.needs))) return;
    try { await api('POST', '/api/auth/' + this.name); } catch { return; }
    this.started = Date.now();
    this.live = true;
    // The button disables while the flow runs: focus goes to the flow's instructions.
    keepFocus($('#' + this.name + '-auth'), () => this.render({ state: 'starting' }), () => this.box);
    this.poll.run();
  }
  async signOut() {
    try { await api('DELETE', '/api/auth/' + this.name); } catch { return; }
    this.started = 0;
    toast('Signed out of ' + this.label + '.', 'info');
    const out = $('#' + this.name + '-signout'), had = document.activeElement === out;
    await this.load();
    if (had && !isFocusable(out)) $('#' + this.name + '-auth').focus();
    this.hooks.signedIn();
  }
  async load() {
    const r = await api('GET', '/api/auth/' + this.name);
    // Right after a start the worker may not have picked the job up yet.
    if (this.started && Date.now() - this.started < 6000 && r.state !== 'pending' && r.state !== 'authorized') r.state = 'starting';
    // Signed in: the Authorize button goes away and focus goes to the result.
    const stat = $('#' + this.name + '-auth-status');
    const focusIn = this.box.contains(document.activeElement) || document.activeElement === this.box;
    keepFocus($('#' + this.name + '-auth'), () => this.render(r), () => (r.state === 'authorized' ? stat : this.box));
    if (focusIn && r.state === 'authorized') stat.focus();
    this.live = r.state === 'pending' || r.state === 'starting';
    if (r.state === 'authorized' && this.started) { this.started = 0; this.hooks.signedIn(); }
  }
  tick() {
    const c = $('.countdown', this.box), d = c && toDate(c.dataset.until);
    if (!d) return;
    const left = Math.max(0, Math.round((d - Date.now()) / 1000));
    c.textContent = left ? 'Code expires in ' + Math.floor(left / 60) + ':' + String(left % 60).padStart(2, '0') : 'Code expired';
  }
  render(r) {
    const st = r.state || 'none', ok = st === 'authorized';
    const stat = $('#' + this.name + '-auth-status');
    stat.textContent = ok ? 'Signed in as ' + (r.user || 'unknown user') : 'Not signed in';
    stat.dataset.ok = ok ? 'yes' : 'no';
    const btn = $('#' + this.name + '-auth');
    btn.hidden = ok;
    btn.disabled = st === 'pending' || st === 'starting';
    btn.textContent = st === 'expired' || st === 'error' ? 'Try again' : 'Authorize ' + this.label;
    $('#' + this.name + '-signout').hidden = !ok;
    // Redrawn only when it changed: a poll must not take focus off the sign-in link.
    const key = JSON.stringify([st, r.code, r.auth_url, r.user_code, r.verification_url, r.expires_at, r.error]);
    if (this.box._key !== key) {
      this.box._key = key;
      const kids = this.flowContent(r, st);
      this.box.hidden = !kids.length;
      this.box.replaceChildren(...kids);
    }
    this.tick();
  }
  flowContent(r, st) {
    if (st === 'starting') return [h('p', { class: 'muted', text: 'Asking ' + this.label + ' for a code…' })];
    if (st === 'expired') return [h('p', { class: 'bad', text: 'The code expired before it was approved. Press Try again for a new one.' })];
    if (st === 'error') return [h('p', { class: 'bad', text: 'Authorization failed' + (typeof r.error === 'string' ? ': ' + r.error : '.') })];
    if (st !== 'pending') return [];
    return this.pending(r);
  }
  link(url, text) {
    const u = safeUrl(url);
    return u ? h('a', { href: u, target: '_blank', rel: 'noopener noreferrer', text: text || u }) : h('span', { text: url || '' });
  }
}
export class PlexFlow extends AuthFlow {
  pending(r) {
    if (!r.code && !r.auth_url) return [h('p', { class: 'muted', text: 'Asking Plex for a code…' })];
    return [h('p', {}, '1. Open ', this.link(r.auth_url, 'plex.tv sign-in ↗'), ' and allow access.'),
      r.code ? h('p', {}, 'Code: ', h('span', { class: 'code', text: r.code })) : null,
      h('p', { class: 'muted' }, 'Waiting for approval… ', h('span', { class: 'countdown', 'data-until': r.expires_at || null }))].filter(Boolean);
  }
}
export class TraktFlow extends AuthFlow {
  pending(r) {
    if (!r.user_code) return [h('p', { class: 'muted', text: 'Asking Trakt for a code…' })];
    return [h('p', {}, '1. Open ', this.link(r.verification_url)),
      h('p', {}, '2. Enter this code: ', h('span', { class: 'code', text: r.user_code || '' })),
      h('p', { class: 'muted' }, 'Waiting for approval… ', h('span', { class: 'countdown', 'data-until': r.expires_at || null }))];
  }
}
