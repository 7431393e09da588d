// Plex-Trakt Sync dashboard. Vanilla JS, no framework, no build step, strict CSP: every piece
// of text that comes from the API is put in the page with textContent or setAttribute, never
// as markup. Native ES modules by concern: dom.js (helpers, focus), api.js (client, toasts,
// pollers), graph.js (speed graph), authflow.js (sign-in flows); this file wires the page.

import { $, $$, h, setText, toDate, tf, fmtTime, rel, timeEl, fmtN, fmtDur, sxe, safeUrl, humanize, fallbackFocus, isFocusable, keepFocus } from './dom.js';
import { PlexFlow, TraktFlow } from './authflow.js';
import { drawGraph as drawSpeed } from './graph.js';
import { toast, api, pollers, poller, session, profile } from './api.js';
import { initHousehold, loadHousehold, loadHouseholdTab, currentProfile } from './household.js';
import { loadNowPlaying, nowPlayingPeriod } from './nowplaying.js';

// What started a run (runs.trigger) as Sync History and the last run's card say it.
const TRIGGER_TEXT = { manual: 'Manual', schedule: 'Scheduled', webhook: 'Webhook', scrobble: 'Live scrobble' };

/* ---- Modal dialogs: Esc closes, focus stays inside, focus returns to the opener ---- */

const FOCUSABLE = 'a[href],button:not([disabled]),input:not([disabled]),select:not([disabled]),textarea:not([disabled]),[tabindex]:not([tabindex="-1"])';
function openModal(dlg, opener) {
  if (dlg.open) return;
  dlg._opener = opener || document.activeElement;
  dlg.showModal();
  const first = $('[autofocus]', dlg) || $$(FOCUSABLE, dlg).find((el) => el.offsetParent && !el.closest('.modal-head'));
  if (first) first.focus();
}
for (const dlg of $$('dialog.modal')) {
  dlg.addEventListener('keydown', (e) => {
    if (e.key !== 'Tab') return;
    const f = $$(FOCUSABLE, dlg).filter((el) => el.offsetParent !== null);
    if (!f.length) return;
    const i = f.indexOf(document.activeElement);
    if (e.shiftKey && i <= 0) { e.preventDefault(); f[f.length - 1].focus(); }
    else if (!e.shiftKey && i === f.length - 1) { e.preventDefault(); f[0].focus(); }
  });
  dlg.addEventListener('close', () => {
    let o = dlg._opener; const refind = dlg._refind; dlg._opener = null; dlg._refind = null;
    // The page may have redrawn the opener while the dialog was open (Sync History polls).
    if ((!o || !o.isConnected) && refind) o = refind();
    if (!o || !o.isConnected || o === document.body || !isFocusable(o)) o = fallbackFocus();
    if (o && typeof o.focus === 'function') o.focus();
  });
  dlg.addEventListener('click', (e) => {
    if (e.target.closest('[data-close]')) dlg.close();
    else if (e.target === dlg && dlg.id !== 'login' && dlg.id !== 'choose-pw') dlg.close(); // backdrop
  });
}

/* ---- Login (when a dashboard password is set) ---- */

function showLogin() {
  session.locked = true;
  pollers.forEach((p) => p.stop());
  const dlg = $('#login');
  if (dlg.open) return;
  for (const d of $$('dialog[open]')) if (d !== dlg) d.close();
  setText('#login-err', '');
  openModal(dlg);
  $('#login-pw').focus();
}
session.onUnauthorized = () => showLogin();
session.onPasswordRequired = () => showChoosePassword();
$('#login').addEventListener('cancel', (e) => e.preventDefault());
$('#login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const pw = $('#login-pw');
  setText('#login-err', '');
  try {
    await api('POST', '/api/login', { password: pw.value }, { login: true, quiet: true });
  } catch (err) {
    setText('#login-err', err.status === 401 ? 'Wrong password.' : err.status === 429 ? tooMany(err) : err.message);
    pw.setAttribute('aria-invalid', 'true'); pw.select();
    return;
  }
  pw.value = ''; pw.removeAttribute('aria-invalid');
  session.locked = false;
  $('#login').close();
  if (document.activeElement === document.body || !document.activeElement) fallbackFocus().focus();
  pollers.forEach((p) => p.run());
});

// The answer to a 429 rate_limited of the login throttle.
function tooMany(err) {
  return 'Too many wrong passwords. Try again in ' + (err.retryAfter ? fmtDur(err.retryAfter) : 'a minute') + '.';
}

/* ---- Choose a password (PTS_REQUIRE_PASSWORD: a dashboard reachable from the network) ---- */

function showChoosePassword() {
  session.locked = true;
  pollers.forEach((p) => p.stop());
  const dlg = $('#choose-pw');
  if (dlg.open) return;
  for (const d of $$('dialog[open]')) if (d !== dlg) d.close();
  setText('#choose-pw-err', '');
  openModal(dlg);
  $('#choose-pw-1').focus();
}
$('#choose-pw').addEventListener('cancel', (e) => e.preventDefault());
$('#choose-pw-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const a = $('#choose-pw-1'), b = $('#choose-pw-2');
  setText('#choose-pw-err', '');
  if ([...a.value].length < 8) { setText('#choose-pw-err', 'Use at least 8 characters.'); a.focus(); return; }
  if (a.value !== b.value) { setText('#choose-pw-err', 'The two passwords differ.'); b.focus(); b.select(); return; }
  try {
    await api('PUT', '/api/settings', { dashboard_password: a.value }, { setup: true, quiet: true });
    // Set: sign in with it at once, so the dashboard goes on where it was.
    await api('POST', '/api/login', { password: a.value }, { login: true, quiet: true });
  } catch (err) {
    setText('#choose-pw-err', (err.fields && err.fields.dashboard_password) ? 'Password ' + err.fields.dashboard_password + '.' : err.message);
    return;
  }
  a.value = ''; b.value = '';
  session.locked = false;
  $('#choose-pw').close();
  toast('Password set.', 'info');
  pollers.forEach((p) => p.run());
});

/* ---- Theme ---- */

// The system's scheme until the person picks one; the choice is remembered.
const systemLight = window.matchMedia ? window.matchMedia('(prefers-color-scheme: light)') : null;
const systemTheme = () => (systemLight && systemLight.matches ? 'light' : 'dark');
function applyTheme(t, chosen) {
  if (chosen) document.documentElement.dataset.theme = t; else delete document.documentElement.dataset.theme;
  $('#theme').setAttribute('aria-label', t === 'dark' ? 'Switch to light theme' : 'Switch to dark theme');
  $('#theme use').setAttribute('href', t === 'dark' ? '#i-sun' : '#i-theme');
}
let chosenTheme = null;
try { const v = localStorage.getItem('pts-theme'); chosenTheme = v === 'light' || v === 'dark' ? v : null; } catch { /* private mode */ }
let theme = chosenTheme || systemTheme();
applyTheme(theme, !!chosenTheme);
if (systemLight) systemLight.addEventListener('change', () => { if (!chosenTheme) { theme = systemTheme(); applyTheme(theme, false); drawGraph(); } });
$('#theme').addEventListener('click', () => {
  theme = chosenTheme = theme === 'dark' ? 'light' : 'dark';
  try { localStorage.setItem('pts-theme', theme); } catch { /* ignore */ }
  applyTheme(theme, true);
  drawGraph();
});

/* ---- Tabs (ARIA tablist: arrows, Home, End) ---- */

const tabs = $$('[role="tab"]');
const tabName = (t) => t.id.slice(4);
let activeTab = 'progress';
function selectTab(name, focus) {
  // name comes from location.hash, which anyone can write: compared, never used as a selector.
  const tab = tabs.find((t) => tabName(t) === name) || tabs[0];
  activeTab = tabName(tab);
  for (const t of tabs) {
    const on = t === tab;
    t.setAttribute('aria-selected', on ? 'true' : 'false');
    t.tabIndex = on ? 0 : -1;
    $('#' + t.getAttribute('aria-controls')).hidden = !on;
  }
  if (focus) tab.focus();
  if (location.hash.slice(1) !== activeTab) history.replaceState(null, '', '#' + activeTab);
  onTabShown(activeTab);
}
for (const t of tabs) {
  t.addEventListener('click', () => selectTab(tabName(t)));
  t.addEventListener('keydown', (e) => {
    const i = tabs.indexOf(t);
    const j = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
    if (j === undefined) return;
    e.preventDefault();
    selectTab(tabName(tabs[(j + tabs.length) % tabs.length]), true);
  });
}
window.addEventListener('hashchange', () => { if (location.hash.slice(1) !== activeTab) selectTab(location.hash.slice(1)); });

function onTabShown(name) {
  if (name === 'progress') nowPlayingPoll.run();
  if (name === 'log') { logPoll.run(); if (logState.follow) scrollLogEnd(); }
  if (name === 'runs') runsPoll.run();
  if (name === 'trakt') { traktPoll.run(); refreshDupes(); }
  if (name === 'inprogress') ipPoll.run();
  if (name === 'household') hhPoll.run();
  if (name === 'progress') drawGraph();
}

/* ---- Sync state, header ---- */

let syncState = 'idle';
let traktAuthorized = null, plexAuthorized = null; // null: /api/status not read yet
let waiting = null;
const busy = (s) => s === 'queued' || s === 'running' || s === 'stopping';

function renderState(state, wait) {
  const prev = syncState;
  syncState = state || 'idle';
  waiting = wait || null;
  const shown = waiting && syncState === 'running' ? 'waiting' : syncState;
  const label = { idle: 'Idle', queued: 'Syncing…', running: 'Syncing…', stopping: 'Stopping…', waiting: 'Waiting' }[shown] || humanize(shown);
  for (const id of ['#state', '#log-state']) $(id).dataset.state = shown;
  setText('#state-text', label);
  setText('#log-state-text', label);
  const run = $('#run'), stop = $('#stop');
  // Stop after Run, Run after Stop: focus never falls to the page when a button disables.
  const had = document.activeElement, pill = $('#state');
  run.disabled = busy(syncState);
  run.classList.toggle('busy', busy(syncState));
  setText('#run-text', busy(syncState) ? 'Syncing…' : 'Run Sync Now');
  stop.disabled = !(syncState === 'running' || syncState === 'queued');
  setText('#stop-text', syncState === 'stopping' ? 'Stopping…' : 'Stop Sync');
  // Stop after Run, Run after Stop: focus never falls to the page when a button disables.
  // While both are disabled (stopping) it waits on the state pill, then goes on to Run.
  const next = (...els) => els.find((el) => !el.disabled) || pill;
  if (had === run && run.disabled) next(stop).focus();
  else if (had === stop && stop.disabled) next(run).focus();
  else if (had === pill && !run.disabled) run.focus();
  if (busy(prev) && !busy(syncState)) onSyncEnded();
}

$('#run').addEventListener('click', async () => {
  renderState('queued');
  try {
    await api('POST', '/api/sync', {}, { expect: [409] });
  } catch (e) {
    if (e.status === 409) toast('A sync is already running.', 'info');
    else renderState('idle');
  }
  progressPoll.run();
  statusPoll.run();
});
$('#stop').addEventListener('click', async () => {
  renderState('stopping', waiting);
  try { await api('POST', '/api/sync/stop', {}, { expect: [409] }); } catch { /* 409: already idle */ }
  progressPoll.run();
});

// How long a new person's dashboard waits, polling faster, for their Plex access.
const PLEX_PENDING_MS = 60000, pageOpened = Date.now();
let plexPending = false;
async function loadStatus() {
  const status = await api('GET', '/api/status');
  const auth = status.auth || {}, pa = auth.plex || {}, ta = auth.trakt || {};
  $('#conn-plex').dataset.ok = pa.authorized ? 'yes' : 'no';
  // Another person's Plex access comes from the owner's account: a new profile waits for
  // the worker to fetch it from plex.tv (state "none" until then), which takes seconds.
  plexPending = profile.id !== 1 && pa.state === 'none' && Date.now() - pageOpened < PLEX_PENDING_MS;
  setText('#plex-user', pa.authorized ? pa.user || 'connected' : plexPending ? 'asking plex.tv…' : 'not connected');
  $('#conn-trakt').dataset.ok = ta.authorized ? 'yes' : 'no';
  setText('#trakt-user', ta.authorized ? ta.user || 'connected' : ta.state === 'expired' ? 'signed out' : 'not connected');
  const authChanged = traktAuthorized !== !!ta.authorized || plexAuthorized !== !!pa.authorized, prevTrakt = traktAuthorized;
  traktAuthorized = !!ta.authorized;
  plexAuthorized = !!pa.authorized;
  if (authChanged && prevTrakt !== null) { traktStale = true; traktSignIns++; }
  if (authChanged && activeTab === 'trakt') { traktPoll.run(); refreshDupes(); }
  if (authChanged && activeTab === 'inprogress') ipPoll.run();
  // The worker renews the token by itself: only a refused renewal (state "expired": the
  // refresh token is gone) is a problem worth the warning colour.
  const exp = $('#trakt-exp'), ed = ta.authorized && toDate(ta.expires_at), dead = ta.state === 'expired';
  exp.textContent = dead ? '· sign-in expired: authorize Trakt again in Settings' : ed ? '· token renews automatically' : '';
  exp.title = ed ? 'The current token is valid until ' + fmtTime(ta.expires_at) + '; it is renewed before then.' : '';
  exp.toggleAttribute('data-warn', dead);
  const sch = status.schedule || {};
  const iv = $('#interval');
  if (document.activeElement !== iv && sch.interval_hours != null && iv.getAttribute('aria-invalid') !== 'true') iv.value = sch.interval_hours;
  let next = '';
  if (sch.interval_hours === 0) next = 'Scheduled syncs are off.';
  else if (sch.next_run_at) next = 'Next scheduled sync ' + fmtTime(sch.next_run_at) + ' (' + rel(sch.next_run_at) + ').';
  setText('#next-run', next);
  setText('#idle-next', next || 'Waiting for the next run.');
  setText('#settings-version', status.version ? 'Version ' + status.version : '');
  if (status.sync && !busy(syncState) && busy(status.sync.state)) progressPoll.run();
}
const statusPoll = poller(loadStatus, () => (busy(syncState) ? 5000 : plexPending ? 2000 : 15000));

const iv = $('#interval');
iv.addEventListener('change', async () => {
  const raw = iv.value.trim(), n = Number(raw);
  if (raw === '' || !Number.isInteger(n) || n < 0 || n > 168) {
    iv.setAttribute('aria-invalid', 'true');
    toast('The interval must be a whole number of hours from 0 to 168.');
    return;
  }
  iv.removeAttribute('aria-invalid');
  try {
    await api('PUT', '/api/settings', { sync_interval_hours: n });
    toast(n ? 'Syncing every ' + n + ' h.' : 'Scheduled syncs turned off.', 'info');
  } catch (e) {
    iv.setAttribute('aria-invalid', 'true');
  }
  statusPoll.run();
});

/* ---- Live progress ---- */

let lastRunKey = '', samples = [], samplesRun = null, lastAnnounce = '', lastWait = '', lastLibrary = null;
function setBar(sel, done, total, pct) {
  const el = $(sel);
  let p = pct != null && isFinite(pct) ? Number(pct) : total > 0 ? (100 * done) / total : 0;
  p = Math.max(0, Math.min(100, p));
  el.firstElementChild.style.width = p.toFixed(1) + '%';
  el.setAttribute('aria-valuenow', Math.round(p));
  el.setAttribute('aria-valuetext', fmtN(done) + ' of ' + fmtN(total));
  return p;
}

async function loadProgress() {
  const p = await api('GET', '/api/progress');
  renderState(p.state, p.waiting);
  const idle = !busy(p.state);
  $('#prog-idle').hidden = !idle;
  $('#prog-run').hidden = idle;
  setText('#log-lib', !idle && p.library && p.library.title ? 'Library: ' + p.library.title : '');
  // The speed graph keeps the last run's samples until the next run starts: it sits in
  // whichever card is shown.
  const fig = $('#graph-fig'), home = idle ? $('#prog-idle') : $('#prog-live');
  if (idle && fig.parentElement !== home) { home.append(fig); fig.hidden = !samples.length; drawGraph(); }
  else if (!idle && fig.nextElementSibling !== home) { home.before(fig); fig.hidden = false; }
  if (idle) { renderLastRun(p.last_run); announceWait(null); return; }
  if (p.run_id != null && p.run_id !== samplesRun) { samplesRun = p.run_id; samples = []; lastLibrary = null; }
  const doing = String(p.phase || '').startsWith('undo') ? 'Undoing' : 'Syncing';
  setText('#prog-title', p.state === 'queued' ? 'Starting…' : p.state === 'stopping' ? 'Stopping…' : doing + (p.run_id ? ' · run #' + p.run_id : ''));
  const phase = $('#prog-phase'); phase.textContent = p.phase || ''; phase.className = 'badge phase';
  const lib = p.library || {}, all = p.overall || {};
  setText('#lib-title', lib.title || '—');
  setText('#lib-count', lib.total ? fmtN(lib.done) + ' / ' + fmtN(lib.total) : '');
  setBar('#lib-bar', lib.done || 0, lib.total || 0);
  const pct = setBar('#all-bar', all.done || 0, all.total || 0, all.percent);
  setText('#all-count', all.total ? fmtN(all.done) + ' / ' + fmtN(all.total) + ' · ' + pct.toFixed(pct < 10 ? 1 : 0) + '%' : '');
  setText('#cur-item', p.current_item || '—');
  setText('#st-rate', p.rate_per_s != null ? Number(p.rate_per_s).toFixed(1) : '—');
  setText('#st-elapsed', fmtDur(p.elapsed_s));
  setText('#st-eta', p.eta_s != null && p.state === 'running' ? fmtDur(p.eta_s) : '—');
  if (lib.title) lastLibrary = { title: lib.title, total: lib.total };
  // The countdown is shown, not announced: the live region below speaks once per wait.
  const w = $('#prog-wait'), wu = p.waiting && toDate(p.waiting.until);
  w.hidden = !p.waiting;
  if (p.waiting) {
    const left = wu ? Math.max(0, Math.round((wu - Date.now()) / 1000)) : null;
    w.textContent = 'Waiting: ' + humanize(p.waiting.reason || 'rate limit') + (left != null ? ' — resuming in ' + fmtDur(left) : '');
  }
  announceWait(p.waiting);
  if (Array.isArray(p.samples) && p.samples.length) samples = p.samples;
  drawGraph();
  // Screen readers hear phases, libraries and every quarter, not every tick.
  const msg = (p.phase || '') + ' ' + (lib.title || '') + ' ' + Math.floor(pct / 25) * 25 + '%';
  if (!p.waiting && msg !== lastAnnounce) { lastAnnounce = msg; setText('#prog-live', 'Sync ' + msg.trim()); }
}
// Tells a screen reader once when a wait starts and once when it ends.
function announceWait(wt) {
  const key = wt ? String(wt.reason || '') + (wt.until || '') : '';
  if (key === lastWait) return;
  const was = lastWait; lastWait = key;
  const until = wt && toDate(wt.until);
  if (wt) setText('#prog-live', 'Sync waiting: ' + humanize(wt.reason || 'rate limit') + (until ? ', resuming at ' + tf.format(until) : '') + '.');
  else if (was && busy(syncState)) setText('#prog-live', 'Sync resumed.');
}
const progressPoll = poller(loadProgress, () => (busy(syncState) ? 1000 : 2500));
const nowPlayingPoll = poller(loadNowPlaying, nowPlayingPeriod, () => activeTab === 'progress');

function statusBadge(st, dry) {
  return [h('span', { class: 'badge ' + (st || ''), text: st === 'ok' ? 'OK' : humanize(st || 'unknown') }), dry ? h('span', { class: 'badge dry', text: 'dry run' }) : null];
}
// A run's warnings (a kind Trakt refused for the account...): texts, [] when none.
const runWarnings = (r) => (r && Array.isArray(r.warnings) ? r.warnings.filter((w) => typeof w === 'string') : []);
// The header says the last run had warnings until a run without any.
function renderRunWarn(r) {
  const ws = runWarnings(r), el = $('#run-warn');
  el.hidden = !ws.length;
  el.title = ws.join('\n');
  setText('#run-warn-text', ws.length === 1 ? 'Last run: 1 warning' : 'Last run: ' + ws.length + ' warnings');
}
function renderLastRun(r) {
  const key = JSON.stringify(r || null);
  if (key === lastRunKey) return;
  lastRunKey = key;
  renderRunWarn(r);
  if (r && !r.dry_run && r.finished_at && (Number(r.added_to_trakt) > 0 || Number(r.removed_from_trakt) > 0)) {
    const at = toDate(r.finished_at);
    if (at && (!traktChangedAt || at > traktChangedAt)) { traktChangedAt = at; if (activeTab === 'trakt') traktPoll.run(); }
  }
  const box = $('#last-run');
  if (!r) { box.replaceChildren(h('p', { class: 'muted' }, 'No sync has run yet. Press ', h('strong', {}, 'Run Sync Now'), ' to start one.')); return; }
  const stat = (label, v) => h('div', {}, h('dt', { text: label }), h('dd', { text: v }));
  // The run's final figures, also for a run too short to be seen running.
  const scanned = Number(r.items_scanned) || 0, total = Number(r.items_total) || scanned;
  const finished = r.status === 'ok';
  const bar = (label, title, done, all, pct) => {
    const el = h('div', { class: 'bar' + (label === 'Overall' ? ' big' : ''), role: 'progressbar', 'aria-label': label + ' (last run)', 'aria-valuemin': 0, 'aria-valuemax': 100 }, h('div', { class: 'fill' }));
    const p = Math.max(0, Math.min(100, pct));
    el.firstChild.style.width = p.toFixed(1) + '%';
    el.setAttribute('aria-valuenow', Math.round(p));
    el.setAttribute('aria-valuetext', fmtN(done) + ' of ' + fmtN(all));
    return h('div', { class: 'bar-row' }, h('div', { class: 'bar-label' }, h('span', {}, title), h('span', { class: 'num', text: fmtN(done) + ' / ' + fmtN(all) })), el);
  };
  const libTotal = lastLibrary && lastLibrary.total ? lastLibrary.total : total;
  // A run shorter than a second reports 0 s: its speed was at least the items it scanned.
  const short = r.duration_s === 0 && scanned > 0;
  const rate = r.duration_s > 0 ? (scanned / r.duration_s).toFixed(1) : short ? '≥ ' + fmtN(scanned) : null;
  box.replaceChildren(...[
    h('p', {}, ...statusBadge(r.status, r.dry_run), ' ', r.trigger === 'undo' ? 'Undo of run #' + r.undo_of : (TRIGGER_TEXT[r.trigger] || 'Manual') + ' run',
      r.id ? ' #' + r.id : '', ' · started ', timeEl(r.started_at), r.finished_at ? ' · finished ' + rel(r.finished_at) : ''),
    runWarnings(r).length ? h('ul', { class: 'run-warnings', id: 'last-run-warnings', 'aria-label': 'Warnings of this run' }, ...runWarnings(r).map((w) => h('li', { text: w }))) : null,
    bar('Library', ['Library: ', h('strong', { text: (lastLibrary && lastLibrary.title) || 'all selected' })], finished ? libTotal : Math.min(scanned, libTotal), libTotal, finished ? 100 : libTotal ? (100 * Math.min(scanned, libTotal)) / libTotal : 0),
    bar('Overall', 'Overall', scanned, total, finished ? 100 : total ? (100 * scanned) / total : 0),
    h('dl', { class: 'summary' },
      stat('Duration', short ? 'under 1s' : fmtDur(r.duration_s)),
      stat('Items / second', rate != null ? rate : '—'),
      stat('Scanned', fmtN(r.items_scanned) + (r.items_total != null && r.items_total !== r.items_scanned ? ' / ' + fmtN(r.items_total) : '')),
      r.trigger === 'undo' ? stat(r.dry_run ? 'Would remove from Trakt' : 'Removed from Trakt', fmtN(r.removed_from_trakt))
        : stat(r.dry_run ? 'Would add to Trakt' : 'Added to Trakt', fmtN(r.added_to_trakt)),
      stat(r.dry_run ? 'Would mark in Plex' : 'Marked in Plex', fmtN(r.added_to_plex)),
      stat('Not found', fmtN(r.not_found)),
      r.unmatched != null ? stat('Unmatched', fmtN(r.unmatched)) : null,
      stat('Errors', fmtN(r.errors))),
    r.id ? h('p', {}, h('button', { type: 'button', class: 'btn small', id: 'last-run-changes', onclick: (e) => openChanges(r, e.currentTarget) }, 'View changes')) : null,
  ].filter(Boolean));
}

function onSyncEnded() {
  lastAnnounce = '';
  statusPoll.run();
  runsPoll.run();
  logPoll.run();
  api('GET', '/api/runs?limit=1', undefined, { quiet: true }).then((r) => {
    const run = r.runs && r.runs[0];
    const what = run && run.trigger === 'undo' ? 'Undo' : 'Sync';
    // A run that changed Trakt makes the Trakt History copy old: fetch it again.
    if (run && !run.dry_run && (Number(run.added_to_trakt) > 0 || Number(run.removed_from_trakt) > 0 || run.trigger === 'undo')) {
      traktStale = true;
      if (activeTab === 'trakt') traktPoll.run();
    }
    if (run) toast(run.status === 'ok' ? what + ' finished.' : what + ' ended: ' + humanize(run.status) + '.', run.status === 'ok' ? 'info' : 'error');
  }).catch(() => {});
}

// The speed graph of the samples seen (graph.js).
const drawGraph = () => drawSpeed($('#graph'), samples);
if (window.ResizeObserver) new ResizeObserver(() => drawGraph()).observe($('#graph'));

/* ---- Raw log ---- */

const MAX_LOG_LINES = 2000, LOG_PAGE = 1000;
const logState = { last: 0, follow: true };
const logBox = $('#log-lines');
const scrollLogEnd = () => { logBox.scrollTop = logBox.scrollHeight; };

async function loadLog() {
  for (let pages = 0; pages < 40; pages++) {
    const r = await api('GET', '/api/log?after=' + logState.last + '&limit=' + LOG_PAGE);
    const es = Array.isArray(r.entries) ? r.entries : [];
    appendLog(es);
    if (es.length) logState.last = Math.max(logState.last, Number(es[es.length - 1].id) || 0);
    if (es.length < LOG_PAGE) break;
  }
  setText('#log-count', fmtN(logBox.childElementCount) + ' lines');
}
function appendLog(entries) {
  if (!entries.length) return;
  const frag = document.createDocumentFragment();
  for (const e of entries.slice(-MAX_LOG_LINES)) {
    const lv = String(e.level || 'info').toLowerCase();
    const d = toDate(e.ts);
    frag.append(h('div', { class: 'll ' + lv.replace(/[^a-z]/g, '') },
      h('time', { datetime: e.ts || null, title: d ? fmtTime(e.ts) : null, text: d ? tf.format(d) : '' }),
      h('span', { class: 'lv', text: lv.toUpperCase() }),
      h('span', { class: 'msg', text: e.message ?? '' })));
  }
  logBox.append(frag);
  let extra = logBox.childElementCount - MAX_LOG_LINES;
  while (extra-- > 0) logBox.firstElementChild.remove();
  if (logState.follow) scrollLogEnd();
}
logBox.addEventListener('scroll', () => {
  const atEnd = logBox.scrollHeight - logBox.scrollTop - logBox.clientHeight < 24;
  if (atEnd !== logState.follow) { logState.follow = atEnd; $('#log-follow').hidden = atEnd; }
});
$('#log-follow').addEventListener('click', () => { logState.follow = true; $('#log-follow').hidden = true; scrollLogEnd(); });
const logPoll = poller(loadLog, () => (busy(syncState) ? 1000 : 3000), () => activeTab === 'log');

/* ---- Sync history ---- */

async function loadRuns() {
  const r = await api('GET', '/api/runs?limit=50');
  const runs = Array.isArray(r.runs) ? r.runs : [];
  const td = (label, v, cls) => h('td', { 'data-label': label, class: cls || null, text: v });
  const num = (label, v, bad) => td(label, fmtN(v), 'n' + (!v ? ' zero' : bad ? ' bad' : ''));
  renderList($('#runs-body'), runs, (run) => {
    const open = (e) => openChanges(run, e.currentTarget.closest('tr').querySelector('.open'));
    return h('tr', { onclick: open, 'data-run': run.id },
      h('td', { 'data-label': 'Started' }, h('button', { type: 'button', class: 'open', 'aria-label': 'Show the changes of run ' + run.id + ', started ' + fmtTime(run.started_at) }, timeEl(run.started_at))),
      td('Duration', run.status === 'running' ? 'running…' : fmtDur(run.duration_s)),
      td('Trigger', run.trigger === 'undo' ? 'Undo of #' + run.undo_of : TRIGGER_TEXT[run.trigger] || 'Manual'),
      h('td', { 'data-label': 'Status' }, ...statusBadge(run.status, run.dry_run), runWarnings(run).length ? h('span', { class: 'badge warning', text: 'warning', title: runWarnings(run).join('\n') }) : null, run.undone_by ? h('span', { class: 'badge undone', text: 'undone', title: 'Undone by run #' + run.undone_by }) : null),
      num('Scanned', run.items_scanned), run.trigger === 'undo' ? td('Added to Trakt', '−' + fmtN(run.removed_from_trakt), 'n' + (run.removed_from_trakt ? '' : ' zero')) : num('Added to Trakt', run.added_to_trakt), num('Marked in Plex', run.added_to_plex),
      num('Not found', run.not_found), num('Unmatched', run.unmatched), num('Errors', run.errors, true));
  });
  $('#runs-empty').hidden = runs.length > 0;
  $('.table-wrap').hidden = !runs.length;
}
const runsPoll = poller(loadRuns, () => (busy(syncState) ? 4000 : 20000), () => activeTab === 'runs');
$('#runs-reload').addEventListener('click', () => runsPoll.run());

const MAX_CHANGES = 2000;
const ACTIONS = { remove_play_trakt: 'Removed from Trakt history', remove_rating_trakt: 'Rating removed on Trakt', restore_rating_trakt: 'Earlier rating put back on Trakt', remove_watchlist_trakt: 'Taken off Trakt watchlist', add_play_trakt: 'Added to Trakt history', mark_watched_plex: 'Marked watched in Plex', add_rating_trakt: 'Rated on Trakt', rate_plex: 'Rated in Plex', add_watchlist_trakt: 'Added to Trakt watchlist' };
function itemTitle(c) {
  if (c.type === 'episode' || c.show) return (c.show ? c.show + ' · ' : '') + sxe(c.season, c.episode) + (c.title ? ' · ' + c.title : '');
  return (c.title || 'Untitled') + (c.year ? ' (' + c.year + ')' : '');
}
async function openChanges(run, opener) {
  const dlg = $('#changes');
  setText('#changes-title', 'Run #' + run.id + ' · ' + (run.dry_run ? 'planned changes' : 'changes'));
  setText('#changes-sum', 'Loading…');
  $('#changes-list').replaceChildren();
  $('#changes-foot').hidden = true;
  openModal(dlg, opener);
  // Sync History redraws its rows while the dialog is open: find this run's button again.
  dlg._refind = () => (opener && opener.id ? document.getElementById(opener.id) : $('tr[data-run="' + Number(run.id) + '"] .open'));
  let r;
  try { r = await api('GET', '/api/runs/' + encodeURIComponent(run.id) + '/changes'); } catch (e) { setText('#changes-sum', e.message); return; }
  const ch = Array.isArray(r.changes) ? r.changes : [];
  setText('#changes-sum', ch.length ? fmtN(ch.length) + (ch.length === 1 ? ' change' : ' changes') + ' · started ' + fmtTime(run.started_at)
    : run.dry_run ? 'This dry run found nothing to change.' : 'This run changed nothing: everything was already in step.');
  // A first sync of a big library can change tens of thousands of items: show the first ones.
  $('#changes-list').replaceChildren(...ch.slice(0, MAX_CHANGES).map((c) => h('li', {},
    h('div', { class: 'what' }, h('span', { class: 'act', text: ACTIONS[c.action] || humanize(c.action) }), h('span', { text: itemTitle(c) })),
    c.watched_at ? h('span', { class: 'muted' }, timeEl(c.watched_at)) : null,
    h('span', { class: 'badge ' + (c.result || ''), text: humanize(c.result || '') }),
    c.undone_by ? h('span', { class: 'badge undone', text: 'undone', title: 'Undone by run #' + c.undone_by }) : null)),
    ...(ch.length > MAX_CHANGES ? [h('li', { class: 'muted', text: '… and ' + fmtN(ch.length - MAX_CHANGES) + ' more' })] : []));
  renderUndoFoot(run, ch);
}

/* ---- Undo a run (from its changes) ---- */

const UNDOABLE = new Set(['add_play_trakt', 'rate_trakt', 'watchlist_add_trakt']);
function renderUndoFoot(run, ch) {
  const left = ch.filter((c) => UNDOABLE.has(c.action) && c.result === 'done' && !c.undone_by).length;
  const can = left > 0 && !run.dry_run && run.trigger !== 'undo' && !run.undone_by && run.status !== 'running';
  const note = run.undone_by ? 'Undone by run #' + run.undone_by + '.' : run.undo_of ? 'This run undid run #' + run.undo_of + '.' : '';
  const btn = $('#changes-undo');
  btn.hidden = !can;
  btn.onclick = can ? () => confirmUndo(run, left, btn) : null;
  setText('#changes-note', note);
  $('#changes-foot').hidden = !can && !note;
}

// A modal question: resolves 'ok', 'alt' or null (Cancel, Esc, backdrop).
function confirmDialog({ title, body, ok, alt }, opener) {
  const dlg = $('#confirm');
  setText('#confirm-title', title);
  $('#confirm-body').replaceChildren(...body.map((t) => h('p', { text: t })));
  setText('#confirm-ok', ok);
  const altBtn = $('#confirm-alt');
  altBtn.hidden = !alt;
  setText(altBtn, alt || '');
  return new Promise((resolve) => {
    let answer = null;
    $('#confirm-ok').onclick = () => { answer = 'ok'; dlg.close(); };
    altBtn.onclick = () => { answer = 'alt'; dlg.close(); };
    dlg.addEventListener('close', () => resolve(answer), { once: true });
    openModal(dlg, opener);
  });
}

async function confirmUndo(run, n, opener) {
  const what = n === 1 ? 'the change' : 'the ' + fmtN(n) + ' changes';
  const answer = await confirmDialog({
    title: 'Undo run #' + run.id + '?',
    body: ['This takes back ' + what + ' the run made on Trakt: exactly the plays it added (other plays of the same items stay), and any rating or watchlist entry it set.',
      'Your Plex still says these items are watched: with the direction Plex → Trakt, the next sync adds them again unless you mark them unwatched in Plex.'],
    ok: 'Undo', alt: 'Preview (dry run)',
  }, opener);
  if (!answer) return;
  let r;
  try {
    r = await api('POST', '/api/runs/' + encodeURIComponent(run.id) + '/undo', { dry_run: answer === 'alt' }, { expect: [409] });
  } catch (e) {
    if (e.status === 409) toast(e.message);
    return;
  }
  $('#changes').close();
  toast((answer === 'alt' ? 'Undo preview' : 'Undo') + ' started (run #' + r.run_id + ').', 'info');
  renderState('queued');
  progressPoll.run();
  statusPoll.run();
  runsPoll.run();
}

/* ---- Posters and media cards ---- */

// A poster that cannot load (gone, blocked by the CSP) becomes a placeholder, now and later.
const badPosters = new Set();
function poster(url, title, type) {
  const ph = (failed) => h('div', { class: 'poster ph' + (failed ? ' failed' : ''), 'aria-hidden': 'true' }, (String(title || '?').trim()[0] || '?').toUpperCase(), h('small', { text: type || '' }));
  const src = safeUrl(url);
  if (!src || badPosters.has(src)) return ph(!!src);
  const img = h('img', { class: 'poster', src, alt: '', loading: 'lazy', decoding: 'async', referrerpolicy: 'no-referrer', width: 342, height: 513 });
  img.addEventListener('error', () => { badPosters.add(src); img.replaceWith(ph(true)); }, { once: true });
  return img;
}
// Replaces a list's rows only when the items changed (polls must not flash posters or move focus).
function renderList(list, items, make) {
  const key = JSON.stringify(items);
  if (list._key === key) return;
  list._key = key;
  list.replaceChildren(...items.map(make));
}
function card(it, extra) {
  const ep = it.type === 'episode';
  const title = ep ? it.show || it.title : it.title;
  const sub = ep ? sxe(it.season, it.episode) + (it.title ? ' · ' + it.title : '') : it.year ? String(it.year) : 'Movie';
  return h('li', { class: 'item' }, poster(it.poster, title, ep ? 'episode' : 'movie'),
    h('div', { class: 'item-body' }, h('span', { class: 'item-title', text: title || 'Untitled', title: title || null }),
      h('span', { class: 'item-sub', text: sub }), ...extra));
}

/* ---- Trakt history ---- */

// The cached lists (Trakt History, In Progress) say what is true when they are empty:
// loading, not signed in, signed in with nothing there, or the refresh failed (and why).
function emptyState(name, items, r, signedIn, texts) {
  let text = null, retry = false;
  if (items.length) text = null;
  else if (r && r.error) { text = texts.failed + ' ' + r.error; retry = true; }
  else if (signedIn === false) text = texts.signedOut;
  else if (!r || r.refreshing || !r.fetched_at) text = texts.loading;
  else text = texts.none;
  $('#' + name + '-empty').hidden = text == null;
  setText('#' + name + '-empty-text', text || '');
  const btn = $('#' + name + '-retry');
  keepFocus(btn, () => { btn.hidden = !retry; }, () => $('#' + name + '-empty'));
}

// Trakt History fetches itself when its tab opens and the cache is missing or older than
// this, and after every run that changed Trakt.
const TRAKT_STALE_MS = 10 * 60 * 1000;
let traktFetched = null, traktState = null, traktStale = false, traktRefreshing = false;
// When the newest run that changed Trakt ended (from the idle progress): a copy older is stale.
let traktChangedAt = null, traktSignIns = 0, traktTried = null;
async function loadTrakt() {
  const r = await api('GET', '/api/trakt/history?limit=100');
  traktFetched = r.fetched_at || null;
  traktState = r;
  const items = Array.isArray(r.items) ? r.items : [];
  renderList($('#trakt-list'), items, (it) => card(it, [h('span', { class: 'item-when' }, 'Watched ', timeEl(it.watched_at))]));
  const fetched = toDate(traktFetched);
  const stale = traktStale || !fetched || Date.now() - fetched > TRAKT_STALE_MS || (traktChangedAt && fetched < traktChangedAt);
  const refreshing = r.refreshing || traktRefreshing;
  emptyState('trakt', items, { ...r, refreshing }, traktAuthorized, {
    loading: 'Loading your Trakt history…',
    signedOut: 'Trakt is not signed in: authorize Trakt in Settings to see your plays here.',
    none: 'Trakt is signed in and has no plays yet. They appear here after a sync adds some.',
    failed: 'Could not fetch your Trakt history:',
  });
  setText('#trakt-fetched', refreshing ? 'Refreshing from Trakt…' : items.length && r.error ? 'The last refresh failed: ' + r.error
    : traktFetched ? 'Updated ' + rel(traktFetched) : '');
  // A failed refresh is not retried in a loop: once per cause (a page load, a sign-in, a run
  // that changed Trakt), then the Try again button.
  const cause = (traktChangedAt ? traktChangedAt.getTime() : 0) + ':' + traktSignIns;
  if (stale && traktAuthorized && !refreshing && (!r.error || traktStale || cause !== traktTried) && activeTab === 'trakt') {
    traktTried = cause;
    autoRefreshTrakt();
  }
  return r;
}
// Asks the worker for a fresh copy once; the poll follows it until it has arrived.
async function autoRefreshTrakt() {
  traktStale = false; traktRefreshing = true;
  try { await api('POST', '/api/trakt/history/refresh'); } catch { traktRefreshing = false; return; }
  traktRefreshing = false;
  traktPoll.run();
}
// POST a refresh job, then poll GET until its fetched_at changes.
async function refreshUntilChanged(post, get, before, btn, label) {
  btn.disabled = true; btn.classList.add('busy');
  const span = $('span', btn), old = span ? span.textContent : '';
  if (span) span.textContent = label;
  try {
    await api('POST', post);
    const end = Date.now() + 90000;
    while (Date.now() < end) {
      await new Promise((r) => setTimeout(r, 1200));
      const r = await get();
      if ((r.fetched_at || null) !== before) return r;
    }
    toast('The refresh is taking long; showing what is there.');
  } catch { /* reported */ } finally {
    btn.disabled = false; btn.classList.remove('busy');
    if (span) span.textContent = old;
  }
}
// Polls every second while the worker fetches (this page or another asked), else slowly.
const traktPoll = poller(loadTrakt, () => (traktState && traktState.refreshing ? 1000 : 30000), () => activeTab === 'trakt');
$('#trakt-refresh').addEventListener('click', (e) => refreshUntilChanged('/api/trakt/history/refresh', loadTrakt, traktFetched, e.currentTarget, 'Refreshing…'));
$('#trakt-retry').addEventListener('click', () => { traktState = null; autoRefreshTrakt(); });

/* ---- Duplicate plays on Trakt (scan, then remove the extras) ---- */

let dupes = { state: 'idle' };
const dupesBusy = () => dupes.state === 'scanning' || dupes.state === 'removing';
async function loadDupes() {
  // Scanning needs a Trakt sign-in: the section waits for one instead of offering a scan that
  // fails. The cleaner works on the Trakt account of the person shown.
  const section = $('section.dupes');
  section.hidden = traktAuthorized === false;
  if (section.hidden) return;
  const was = dupes.state;
  dupes = await api('GET', '/api/trakt/duplicates');
  const groups = Array.isArray(dupes.groups) ? dupes.groups : [];
  const n = Number(dupes.extra) || 0;
  let status = 'Not scanned yet.';
  if (dupes.state === 'scanning') status = 'Scanning the whole Trakt history…';
  else if (dupes.state === 'removing') status = 'Removing extra plays…';
  else if (dupes.error) status = 'The last attempt failed: ' + dupes.error;
  else if (dupes.scanned_at) {
    status = 'Scanned ' + rel(dupes.scanned_at) + (dupes.plays_scanned != null ? ' · ' + fmtN(dupes.plays_scanned) + ' plays read' : '')
      + (dupes.removed_at && dupes.removed != null ? ' · ' + fmtN(dupes.removed) + ' removed ' + rel(dupes.removed_at) : '')
      + (groups.length ? '' : ' · no duplicates');
  }
  setText('#dupes-status', status);
  $('#dupes-scan').disabled = dupesBusy();
  const rm = $('#dupes-remove');
  rm.hidden = n === 0;
  rm.disabled = dupesBusy();
  rm.textContent = 'Remove ' + fmtN(n) + (n === 1 ? ' extra play' : ' extra plays');
  renderList($('#dupes-list'), groups, (g) => h('li', {},
    h('div', { class: 'what' }, h('span', { class: 'act', text: fmtN((g.history_ids || []).length) + ' plays in the same minute · the oldest stays' }), h('span', { text: itemTitle(g) })),
    h('span', { class: 'muted' }, timeEl(g.watched_at))));
  if (dupes.truncated) $('#dupes-list').append(h('li', { class: 'muted', text: 'Only the first ' + fmtN(groups.length) + ' groups are listed.' }));
  // A long list scrolls inside its box: reachable by keyboard when it has rows.
  if (groups.length) $('#dupes-list').tabIndex = 0; else $('#dupes-list').removeAttribute('tabindex');
  if (was === 'removing' && !dupesBusy()) traktPoll.run();
}
// Polls only while a scan or removal is under way; refreshDupes() loads now, then polls if so.
const dupesPoll = poller(loadDupes, () => 1500, () => activeTab === 'trakt' && dupesBusy());
const refreshDupes = () => loadDupes().then(() => dupesPoll.schedule(), () => {});
$('#dupes-scan').addEventListener('click', async () => {
  try { await api('POST', '/api/trakt/duplicates/scan', {}, { expect: [409] }); } catch (e) { if (e.status === 409) toast(e.message); return; }
  dupes.state = 'scanning';
  await refreshDupes();
});
$('#dupes-remove').addEventListener('click', async (e) => {
  const n = Number(dupes.extra) || 0, g = Array.isArray(dupes.groups) ? dupes.groups.length : 0;
  const answer = await confirmDialog({
    title: 'Remove ' + fmtN(n) + (n === 1 ? ' extra play?' : ' extra plays?'),
    body: ['Each of the ' + fmtN(g) + ' items listed keeps its oldest play; the ' + fmtN(n) + ' later copies are removed from your Trakt history.',
      'Plays that changed on Trakt since the scan are checked first. This cannot be undone.'],
    ok: 'Remove ' + fmtN(n),
  }, e.currentTarget);
  if (answer !== 'ok') return;
  try { await api('POST', '/api/trakt/duplicates/remove', { dry_run: false }, { expect: [409] }); } catch (err) { if (err.status === 409) toast(err.message); return; }
  dupes.state = 'removing';
  await refreshDupes();
});

/* ---- In progress (Plex Continue Watching) ---- */

async function loadInProgress() {
  const r = await api('GET', '/api/plex/in-progress');
  const items = Array.isArray(r.items) ? r.items : [];
  renderList($('#ip-list'), items, (it) => {
    const pct = Math.max(0, Math.min(100, Number(it.progress_percent) || 0));
    const bar = h('div', { class: 'bar', role: 'progressbar', 'aria-label': 'Watched', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': Math.round(pct) }, h('div', { class: 'fill' }));
    bar.firstChild.style.width = pct + '%';
    return card(it, [bar, h('span', { class: 'item-sub', text: Math.round(pct) + '% watched' }),
      it.last_viewed_at ? h('span', { class: 'item-when' }, 'Last viewed ', timeEl(it.last_viewed_at, rel(it.last_viewed_at))) : null]);
  });
  ipState = r;
  emptyState('ip', items, r, plexAuthorized, {
    loading: 'Loading Continue Watching from Plex…',
    signedOut: 'Plex is not signed in: authorize Plex in Settings to see what you are watching.',
    none: 'Plex is signed in and nothing is in progress: start something on Plex and it shows here.',
    failed: 'Could not fetch Continue Watching from Plex:',
  });
  setText('#ip-fetched', r.refreshing ? 'Refreshing from Plex…' : items.length && r.error ? 'The last refresh failed: ' + r.error
    : r.fetched_at ? 'Updated ' + rel(r.fetched_at) : '');
}
// Each read older than 30 s asks the worker for a fresh copy (the API does): poll fast while it comes.
let ipState = null;
const ipPoll = poller(loadInProgress, () => (ipState && ipState.refreshing ? 1000 : 10000), () => activeTab === 'inprogress');
// A stale read queues a new refresh by itself, so trying again is reading again.
$('#ip-retry').addEventListener('click', () => ipPoll.run());

/* ---- Settings ---- */

const TEXT_KEYS = ['plex_url', 'trakt_client_id', 'sync_direction', 'ratings_conflict',
  'watchlist_plex_side', 'watchlist_collection'];
const BOOL_KEYS = ['sync_watched', 'sync_ratings', 'sync_watchlist', 'sync_playback', 'dry_run'];
const SECRET_KEYS = ['trakt_client_secret', 'tmdb_api_key', 'dashboard_password', 'metrics_token'];
const field = (k) => $('#f-' + k);
let settings = {}, libsLoaded = { libraries: [], fetched_at: null }, libSelLoaded = '';

function clearErrors() {
  for (const el of $$('#settings .err')) el.textContent = '';
  for (const el of $$('#settings [aria-invalid]')) el.removeAttribute('aria-invalid');
}
function showFieldErrors(fields) {
  let first = null;
  for (const [k, why] of Object.entries(fields || {})) {
    const input = field(k), err = $('#e-' + k);
    if (input && err) {
      err.textContent = String(why);
      input.setAttribute('aria-invalid', 'true');
      input.setAttribute('aria-describedby', 'e-' + k);
      first = first || input;
    } else {
      const f = $('#e-_form'); f.textContent = (f.textContent ? f.textContent + ' ' : '') + k + ': ' + why;
    }
  }
  if (first) first.focus();
}
function fillSettings(s) {
  settings = s || {};
  for (const k of TEXT_KEYS) if (settings[k] != null) field(k).value = settings[k];
  for (const k of BOOL_KEYS) field(k).checked = !!settings[k];
  for (const k of SECRET_KEYS) {
    const set = !!(settings[k] && settings[k].set);
    const badge = $('#s-' + k); badge.textContent = set ? 'set' : 'not set'; badge.dataset.set = set;
    field(k).value = '';
    field(k).placeholder = set ? 'set · type to replace' : 'not set';
  }
  const pwSet = !!(settings.dashboard_password && settings.dashboard_password.set);
  $('#logout').hidden = !pwSet;
  $('#current-pw').hidden = !pwSet;
  field('current_password').value = '';
  plexUrlWarn();
  watchlistSide();
}

// Which Plex watchlist is synced: said in words, and the collection name only when it is used.
function watchlistSide() {
  const account = field('watchlist_plex_side').value !== 'collection';
  $('#wl-collection-field').hidden = account;
  setText('#wl-side-help', account
    ? 'Synced with the watchlist of the signed-in Plex account on plex.tv; titles your server does not have are added too.'
    : 'Synced with the collection below in each synced library; the account\'s watchlist is left alone.');
}
$('#f-watchlist_plex_side').addEventListener('change', watchlistSide);

// A plain http:// Plex URL to anything but this machine: the Plex token crosses the network
// readable by anyone on the way (a LAN address too). Loopback is localhost, 127.0.0.0/8, ::1.
function plexUrlPlain(v) {
  let u;
  try { u = new URL(String(v).trim()); } catch { return false; }
  if (u.protocol !== 'http:') return false;
  const host = u.hostname.toLowerCase().replace(/\.$/, '');
  return !(host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host));
}
function plexUrlWarn() {
  setText('#w-plex_url', plexUrlPlain(field('plex_url').value)
    ? 'This is plain http:// to another machine: the Plex token travels unencrypted over the network. That is common on a home LAN; use https:// if your Plex server offers it.'
    : '');
}
field('plex_url').addEventListener('input', plexUrlWarn);
// The changed fields only; a secret only when something was typed.
function settingsPatch(keys) {
  const p = {};
  for (const k of TEXT_KEYS) if (field(k).value !== (settings[k] ?? '')) p[k] = field(k).value.trim();
  for (const k of BOOL_KEYS) if (field(k).checked !== !!settings[k]) p[k] = field(k).checked;
  for (const k of SECRET_KEYS) if (field(k).value !== '') p[k] = field(k).value;
  if (keys) for (const k of Object.keys(p)) if (!keys.includes(k)) delete p[k];
  // Changing a password that is set needs the current one in the same request.
  if ('dashboard_password' in p && settings.dashboard_password && settings.dashboard_password.set) p.current_password = field('current_password').value;
  return p;
}
// Saves (some of) the pending fields; false when the API refused them.
async function saveFields(keys) {
  const patch = settingsPatch(keys);
  if (!Object.keys(patch).length) return true;
  clearErrors();
  try {
    await api('PUT', '/api/settings', patch, { expect: [400, 403, 429] });
  } catch (e) {
    if (e.fields) showFieldErrors(e.fields);
    else if ((e.status === 403 && e.code === 'forbidden' || e.status === 429) && 'current_password' in patch) {
      showFieldErrors({ current_password: e.status === 429 ? tooMany(e) : patch.current_password ? 'The current password is wrong.' : 'Type the current password to change it.' });
    } else if (e.status === 400 || e.status === 403 || e.status === 429) setText('#e-_form', e.message);
    return false;
  }
  // Fields typed but not part of this save (a Plex URL typed before Authorize Trakt) stay
  // as the person left them.
  const typed = {};
  for (const k of Object.keys(settingsPatch())) if (!(k in patch)) typed[k] = field(k).type === 'checkbox' ? field(k).checked : field(k).value;
  fillSettings(await api('GET', '/api/settings'));
  for (const [k, v] of Object.entries(typed)) { if (typeof v === 'boolean') field(k).checked = v; else field(k).value = v; }
  if ('plex_url' in typed) plexUrlWarn();
  return true;
}

async function openSettings(opener) {
  const dlg = $('#settings');
  clearErrors();
  dlg.dataset.loaded = '0';
  openModal(dlg, opener);
  const [s, libs] = await Promise.all([api('GET', '/api/settings').catch(() => null), api('GET', '/api/libraries').catch(() => null)]);
  if (s) fillSettings(s);
  if (libs) renderLibs(libs);
  // Another person's dashboard: the server-wide settings (Plex server, Trakt app, webhook,
  // password) are the owner's and are shown only there.
  const other = profile.id !== 1, cur = currentProfile();
  for (const el of $$('[data-install]', dlg)) el.hidden = other;
  $('#settings-person').hidden = !other;
  setText('#settings-person', other ? 'Settings of ' + (cur ? cur.name : 'this person') + '. Their Plex access comes through the owner’s account; the Plex server, the Trakt app, the webhook and the dashboard password are set on the owner’s dashboard.' : '');
  setText('#settings-title', other && cur ? 'Settings · ' + cur.name : 'Settings');
  if (!other) loadWebhook();
  await Promise.all(authFlows.filter((f) => !other || f.name !== 'plex').map((f) => f.load().then(() => f.poll.schedule(), () => {})));
  dlg.dataset.loaded = '1';
}
$('#open-settings').addEventListener('click', (e) => openSettings(e.currentTarget));
$('#settings').addEventListener('close', () => authFlows.forEach((f) => f.poll.stop()));
$('#settings-form').addEventListener('input', (e) => {
  const t = e.target;
  if (t.getAttribute('aria-invalid') === 'true') { t.removeAttribute('aria-invalid'); setText('#e-' + t.name, ''); }
});
$('#settings-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const btn = $('#settings-save');
  btn.disabled = true;
  try {
    clearErrors();
    if (!(await saveFields())) return;
    const sel = selectedLibs();
    if (sel.join('\n') !== libSelLoaded) {
      await api('PUT', '/api/libraries', { selected: sel });
      libSelLoaded = sel.join('\n');
    }
    toast('Settings saved.', 'info');
    $('#settings').close();
    statusPoll.run();
  } catch { /* reported */ } finally { btn.disabled = false; }
});
$('#logout').addEventListener('click', async () => {
  try { await api('POST', '/api/logout'); } catch { return; }
  $('#settings').close();
  showLogin();
});

/* ---- Plex webhook URL (its token rotates on request) ---- */
async function loadWebhook() {
  try {
    const r = await api('GET', '/api/webhooks/plex');
    $('#webhook-url').value = typeof r.url_path === 'string' ? location.origin + r.url_path : '';
  } catch { /* reported */ }
}
$('#webhook-copy').addEventListener('click', async () => {
  const input = $('#webhook-url');
  if (!input.value) return;
  try { await navigator.clipboard.writeText(input.value); toast('Webhook URL copied.', 'info'); } catch { input.focus(); input.select(); }
});
let rotateArmed = 0;
$('#webhook-rotate').addEventListener('click', async (e) => {
  const btn = e.currentTarget;
  // Two clicks: the old URL stops working at once, so Plex must get the new one.
  if (!rotateArmed) {
    btn.textContent = 'Click again: the old URL stops working';
    rotateArmed = setTimeout(() => { rotateArmed = 0; btn.textContent = 'Rotate'; }, 5000);
    return;
  }
  clearTimeout(rotateArmed); rotateArmed = 0; btn.textContent = 'Rotate';
  btn.disabled = true;
  try {
    const r = await api('POST', '/api/webhooks/plex/rotate');
    $('#webhook-url').value = location.origin + r.url_path;
    toast('New webhook URL: paste it into Plex.', 'info');
  } catch { /* reported */ } finally { btn.disabled = false; }
});

/* ---- libraries ---- */
const selectedLibs = () => $$('#libs input:checked').map((i) => i.value).sort();
function renderLibs(r, keepSel) {
  libsLoaded = r || { libraries: [] };
  const libs = Array.isArray(libsLoaded.libraries) ? libsLoaded.libraries : [];
  const sel = keepSel || new Set(libs.filter((l) => l.selected).map((l) => String(l.key)));
  if (!keepSel) libSelLoaded = [...sel].sort().join('\n');
  setText('#libs-fetched', libsLoaded.fetched_at ? fmtN(libs.length) + ' libraries · fetched ' + rel(libsLoaded.fetched_at) : 'Not fetched yet: authorize Plex, then fetch.');
  $('#libs').replaceChildren(...libs.map((l) => h('li', {}, h('label', {},
    h('input', { type: 'checkbox', value: String(l.key), checked: sel.has(String(l.key)) }),
    h('span', { text: l.title || 'Library ' + l.key }),
    h('span', { class: 'count', text: fmtN(l.count) + (l.type === 'show' ? ' episodes' : l.type === 'movie' ? ' movies' : ' items') })))));
}
$('#libs-fetch').addEventListener('click', async (e) => {
  const btn = e.currentTarget;
  if (!(await saveFields(['plex_url']))) return;
  const keep = new Set(selectedLibs());
  const had = $$('#libs input').length > 0;
  const r = await refreshUntilChanged('/api/libraries/refresh', () => api('GET', '/api/libraries'), libsLoaded.fetched_at || null, btn, 'Fetching…');
  if (r) renderLibs(r, had ? keep : null);
});

/* ---- authorization flows (authflow.js) ---- */
const flowHooks = { saveFields, signedIn: () => statusPoll.run() };
const authFlows = [new PlexFlow('plex', 'Plex', [], flowHooks), new TraktFlow('trakt', 'Trakt', ['trakt_client_id', 'trakt_client_secret'], flowHooks)];

/* ---- Household (household.js) ---- */
initHousehold({ openModal });
const hhPoll = poller(loadHouseholdTab, () => 15000, () => activeTab === 'household');
$('#hh-reload').addEventListener('click', () => hhPoll.run());

/* ---- Start ---- */

selectTab(location.hash.slice(1) || 'progress');
statusPoll.run();
progressPoll.run();
loadHousehold().catch(() => {});
