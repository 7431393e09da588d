/*
 * household.js - the people of a shared Plex server (docs/API.md, "Households"): the
 * profile switcher in the accounts strip, the Household tab (each profile's Plex user, Trakt
 * sign-in, last and next run, warnings), adding a person from the server's Plex users and
 * deleting one with its name typed as confirmation.
 *
 * The chosen profile lives in the page's address (?profile=N, read by api.js); switching
 * loads the page for that profile, so every tab and poller starts clean on the new person.
 */
import { $, h, setText, fmtTime, rel, timeEl } from './dom.js';
import { api, profile, toast } from './api.js';

const KIND_TEXT = { owner: 'Server owner', home: 'Plex Home user', managed: 'Managed user', shared: 'Friend (shared server)' };
/* How long "Fetch Plex users" waits for the worker's answer, and how often it looks. */
const USERS_WAIT_MS = 30000;
const USERS_POLL_MS = 1000;

let profiles = [];
let users = { users: [], fetched_at: null };
let hooks = { openModal: () => {}, onChange: () => {} };

export const currentProfile = () => profiles.find((p) => p.id === profile.id) || null;

function go(id) {
  const u = new URL(location.href);
  if (id === 1) u.searchParams.delete('profile'); else u.searchParams.set('profile', String(id));
  location.assign(u.toString());
}

/* ---- The switcher (shown once there is more than one profile) ---- */

function renderSwitcher() {
  const pick = $('#profile-pick'), sel = $('#profile-sel');
  pick.hidden = profiles.length < 2 && profile.id === 1;
  sel.replaceChildren(...profiles.map((p) => h('option', { value: String(p.id), text: p.name + (p.id === 1 ? ' (owner)' : ''), selected: p.id === profile.id })));
  const cur = currentProfile();
  document.title = (cur && profile.id !== 1 ? cur.name + ' · ' : '') + 'Plex-Trakt Sync';
}

/* ---- The Household tab ---- */

function runText(r) {
  if (!r) return h('span', { class: 'muted', text: 'No sync yet' });
  const st = { ok: 'Last sync ok', failed: 'Last sync failed', cancelled: 'Last sync stopped', running: 'Syncing now', queued: 'Sync queued' }[r.status] || r.status;
  return h('span', {}, h('span', { class: 'badge ' + r.status, text: st }), r.finished_at ? ' ' : '', r.finished_at ? timeEl(r.finished_at, rel(r.finished_at)) : '');
}

function personCard(p) {
  const pu = p.plex_user || {}, tr = p.trakt || {};
  const warn = Array.isArray(p.warnings) ? p.warnings.filter((w) => typeof w === 'string') : [];
  const here = p.id === profile.id;
  const actions = [];
  if (!here) actions.push(h('button', { type: 'button', class: 'btn small', onclick: () => go(p.id) }, 'Show ' + p.name + '’s dashboard'));
  if (p.id !== 1) actions.push(h('button', { type: 'button', class: 'btn small danger', onclick: (e) => confirmDelete(p, e.currentTarget) }, 'Delete…'));
  return h('li', { class: 'person' + (here ? ' here' : ''), 'aria-current': here ? 'true' : null },
    h('div', { class: 'person-head' },
      h('h3', { text: p.name }),
      here ? h('span', { class: 'badge', text: 'Shown now' }) : ''),
    h('dl', { class: 'person-facts' },
      h('div', {}, h('dt', { text: 'Plex' }), h('dd', { text: pu.title ? pu.title + (pu.kind ? ' · ' + (KIND_TEXT[pu.kind] || pu.kind) : '') : p.id === 1 ? 'Not signed in: sign in to Plex in the owner’s Settings' : '—' })),
      h('div', {}, h('dt', { text: 'Trakt' }), h('dd', { text: tr.authorized ? 'Signed in as ' + (tr.user || 'a Trakt user') : 'Not signed in: open Settings on this person’s dashboard' })),
      h('div', {}, h('dt', { text: 'Syncs' }), h('dd', {}, runText(p.last_run),
        p.next_run_at ? h('span', { class: 'muted', text: ' · next ' + fmtTime(p.next_run_at) }) : ''))),
    warn.length ? h('ul', { class: 'person-warn', 'aria-label': 'Warnings' }, ...warn.map((w) => h('li', { text: w }))) : '',
    h('div', { class: 'auth-row' }, ...actions));
}

function renderUsers() {
  const sel = $('#hh-user');
  const free = (users.users || []).filter((u) => u.kind !== 'owner' && (u.profile_id == null));
  const keep = sel.value;
  sel.replaceChildren(h('option', { value: '', text: !users.fetched_at ? 'Fetch the Plex users first' : free.length ? 'Choose a Plex user…' : 'Everyone already has a profile' }),
    ...free.map((u) => h('option', { value: String(u.id), text: u.title + ' · ' + (KIND_TEXT[u.kind] || u.kind), selected: String(u.id) === keep })));
  setText('#hh-users-fetched', users.fetched_at ? 'Plex users fetched ' + rel(users.fetched_at) : 'Plex users not fetched yet');
}

export async function loadHousehold() {
  const r = await api('GET', '/api/profiles', null, { quiet: true });
  profiles = Array.isArray(r.profiles) ? r.profiles : [];
  renderSwitcher();
  const list = $('#hh-list');
  if (list) list.replaceChildren(...profiles.map(personCard));
  hooks.onChange(currentProfile());
}

async function loadUsers() {
  users = await api('GET', '/api/plex/users', null, { quiet: true });
  renderUsers();
}

async function fetchUsers(btn) {
  btn.disabled = true;
  const before = users.fetched_at || null;
  setText('#hh-users-fetched', 'Asking plex.tv for the server’s users…');
  try {
    await api('POST', '/api/plex/users/refresh');
    const until = Date.now() + USERS_WAIT_MS;
    while (Date.now() < until) {
      await new Promise((ok) => setTimeout(ok, USERS_POLL_MS));
      const r = await api('GET', '/api/plex/users', null, { quiet: true });
      if (r.fetched_at && r.fetched_at !== before) { users = r; break; }
    }
    if (users.fetched_at === before) toast('plex.tv did not answer yet: is the owner signed in to Plex? Try again in a minute.');
  } catch { /* reported */ } finally {
    btn.disabled = false;
    renderUsers();
  }
}

async function addPerson(e) {
  e.preventDefault();
  setText('#e-hh-user', ''); setText('#e-hh-name', '');
  const uid = $('#hh-user').value, name = $('#hh-name').value.trim();
  if (!uid) { setText('#e-hh-user', 'Choose the Plex user this person watches as.'); $('#hh-user').focus(); return; }
  if (!name) { setText('#e-hh-name', 'Give the person a name.'); $('#hh-name').focus(); return; }
  try {
    const r = await api('POST', '/api/profiles', { name, plex_user_id: uid }, { expect: [400, 409] });
    toast(name + ' added: sign them in to Trakt on their dashboard.', 'info');
    $('#hh-name').value = '';
    await Promise.all([loadHousehold(), loadUsers()]);
    if (r && r.id) go(r.id);
  } catch (err) {
    const f = err.fields || {};
    if (f.plex_user_id) setText('#e-hh-user', f.plex_user_id);
    if (f.name) setText('#e-hh-name', f.name);
    if (!f.plex_user_id && !f.name) setText('#e-hh-user', err.status === 409 ? 'That Plex user already has a profile.' : err.message);
  }
}

function confirmDelete(p, opener) {
  const dlg = $('#hh-delete');
  setText('#hh-del-name', p.name);
  const input = $('#hh-del-confirm');
  input.value = '';
  setText('#e-hh-del', '');
  $('#hh-del-ok').onclick = async () => {
    if (input.value !== p.name) { setText('#e-hh-del', 'Type the name exactly as shown: ' + p.name); input.focus(); return; }
    try {
      await api('DELETE', '/api/profiles/' + encodeURIComponent(p.id), { confirm: input.value }, { expect: [400] });
      dlg.close();
      toast(p.name + ' deleted.', 'info');
      if (profile.id === p.id) { go(1); return; }
      await Promise.all([loadHousehold(), loadUsers()]);
    } catch (err) { setText('#e-hh-del', err.message); }
  };
  hooks.openModal(dlg, opener);
  input.focus();
}

export function initHousehold(h0) {
  hooks = { ...hooks, ...h0 };
  $('#profile-sel').addEventListener('change', (e) => go(Number(e.target.value)));
  $('#hh-add-form').addEventListener('submit', addPerson);
  $('#hh-users-refresh').addEventListener('click', (e) => fetchUsers(e.currentTarget));
  $('#hh-user').addEventListener('change', () => {
    const u = (users.users || []).find((x) => String(x.id) === $('#hh-user').value);
    if (u && !$('#hh-name').value) $('#hh-name').value = u.title;
  });
}

export const loadHouseholdTab = () => Promise.all([loadHousehold(), loadUsers().catch(() => {})]);
