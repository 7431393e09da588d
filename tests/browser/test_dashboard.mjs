// The dashboard without a sync: page, tabs, keyboard, theme, interval, settings dialog (focus,
// secrets, only changed fields, field errors), toasts, the login form. Needs pts-cgi only.
import { Tap, openDashboard, waitFor, assert, eq, shot, openTab, openSettings, sleep } from './lib.mjs';

const TABS = ['progress', 'log', 'runs', 'trakt', 'inprogress', 'household'];
const t = new Tap('dashboard', { budgetMs: 150000 });
let s, b, page;

await t.test('the stack starts (fakes, nginx, pts-cgi, pts-worker)', async () => {
  ({ s, b, page } = await openDashboard(t, { name: 'dashboard', goto: false }));
}, { key: 'stack', timeout: 70000 });

await t.test('the page opens: header, status, tabs, strict CSP, no errors', async () => {
  const res = await page.goto(s.url + '/');
  eq(res.status(), 200, 'GET /');
  const csp = res.headers()['content-security-policy'] || '';
  assert(/script-src 'self'/.test(csp) && /style-src 'self'/.test(csp), 'CSP header: ' + csp);
  eq(await page.title(), 'Plex-Trakt Sync');
  await page.waitForFunction(() => document.querySelector('#plex-user').textContent !== '…', null, { timeout: 10000 });
  eq(await page.textContent('#state-text'), 'Idle', 'status pill');
  eq(await page.isDisabled('#run'), false, 'Run Sync Now enabled');
  eq(await page.isDisabled('#stop'), true, 'Stop Sync disabled when idle');
  eq(await page.getAttribute('#state', 'role'), 'status', 'status is a live region');
  eq(await page.locator('[role=tab]').count(), 6, 'six tabs');
  assert(await page.isVisible('#prog-idle'), 'the idle state of Live Progress is shown');
  eq(await page.getAttribute('#conn-trakt', 'data-ok'), 'no', 'Trakt not connected yet');
  await sleep(500);
  eq(b.errors, [], 'console errors');
}, { key: 'open', needs: ['stack'] });

await t.test('every tab renders its panel', async () => {
  for (const name of TABS) {
    await openTab(page, name);
    eq(await page.getAttribute('#tab-' + name, 'aria-selected'), 'true', name + ' selected');
    eq(await page.locator('[role=tabpanel]:not([hidden])').count(), 1, 'one panel visible');
    const ready = {
      progress: '#prog-idle:not([hidden]), #prog-run:not([hidden])',
      log: '#log-lines .ll',
      runs: '#runs-empty:not([hidden]), #runs-body tr',
      trakt: '#trakt-empty:not([hidden]), #trakt-list li',
      inprogress: '#ip-empty:not([hidden]), #ip-list li',
      household: '#hh-list .person',
    }[name];
    await page.waitForSelector(ready, { timeout: 8000 });
    assert(page.url().endsWith('#' + name), 'the URL names the tab: ' + page.url());
    await shot(page, 'empty-' + name);
  }
  // The worker's own start-up lines are in the log, coloured by level.
  assert(await page.locator('#log-lines .ll.info').count() >= 1, 'info lines in the log');
  eq(b.errors, [], 'console errors');
}, { key: 'tabs', needs: ['open'] });

await t.test('the tabs are an ARIA tablist driven by the arrow keys', async () => {
  await openTab(page, 'progress');
  await page.focus('#tab-progress');
  const focused = () => page.evaluate(() => document.activeElement.id);
  await page.keyboard.press('ArrowRight');
  eq(await focused(), 'tab-log');
  eq(await page.getAttribute('#tab-log', 'aria-selected'), 'true');
  assert(await page.isVisible('#panel-log'), 'log panel shown');
  await page.keyboard.press('End');
  eq(await focused(), 'tab-household');
  await page.keyboard.press('ArrowRight');
  eq(await focused(), 'tab-progress', 'wraps around');
  await page.keyboard.press('ArrowLeft');
  eq(await focused(), 'tab-household', 'wraps back');
  await page.keyboard.press('Home');
  eq(await focused(), 'tab-progress');
  eq(await page.locator('[role=tab][tabindex="0"]').count(), 1, 'one tab in the tab order');
  eq(await page.getAttribute('#panel-progress', 'aria-labelledby'), 'tab-progress');
}, { needs: ['open'] });

await t.test('the theme toggles to light and is remembered', async () => {
  // No choice yet: the system's scheme (the browser's here is dark), no data-theme.
  eq(await page.getAttribute('html', 'data-theme'), null, 'the system scheme until a choice');
  eq(await page.evaluate(() => getComputedStyle(document.body).backgroundColor), 'rgb(15, 18, 24)', 'dark like the system');
  await page.click('#theme');
  eq(await page.getAttribute('html', 'data-theme'), 'light');
  await page.reload();
  await page.waitForSelector('#state');
  eq(await page.getAttribute('html', 'data-theme'), 'light', 'after a reload');
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert(bg !== 'rgb(15, 18, 24)', 'the light background applies: ' + bg);
  await shot(page, 'light-progress');
  await page.click('#theme');
  eq(await page.getAttribute('html', 'data-theme'), 'dark');
}, { needs: ['open'] });

await t.test('the interval is validated (0-168) and saved on change', async () => {
  const before = (await s.api('GET', '/api/status')).body.schedule.interval_hours;
  await page.fill('#interval', '200');
  await page.press('#interval', 'Tab');
  eq(await page.getAttribute('#interval', 'aria-invalid'), 'true', '200 is refused');
  await sleep(300);
  eq((await s.api('GET', '/api/status')).body.schedule.interval_hours, before, 'nothing saved');
  await page.fill('#interval', '12');
  await page.press('#interval', 'Enter');
  await waitFor(async () => (await s.api('GET', '/api/status')).body.schedule.interval_hours === 12, { what: 'interval 12 saved' });
  eq((await s.api('GET', '/api/settings')).body.sync_interval_hours, 12, 'persisted setting');
  await page.reload();
  await waitFor(async () => (await page.inputValue('#interval')) === '12', { what: 'the input shows 12 after a reload' });
  await page.fill('#interval', '0');
  await page.press('#interval', 'Tab');
  await waitFor(async () => /off/.test(await page.textContent('#next-run')), { what: '"Scheduled syncs are off"' });
  await s.api('PUT', '/api/settings', { sync_interval_hours: before });
}, { needs: ['open'] });

await t.test('settings: a modal dialog that traps focus, closes on Esc and returns focus', async () => {
  await page.focus('#open-settings');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#settings[open]');
  await page.waitForSelector('#settings[data-loaded="1"]');
  const inside = () => page.evaluate(() => document.querySelector('#settings').contains(document.activeElement));
  assert(await inside(), 'focus moved into the dialog');
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press(i % 7 === 6 ? 'Shift+Tab' : 'Tab');
    assert(await inside(), 'focus left the dialog after ' + (i + 1) + ' tabs');
  }
  await shot(page, 'settings');
  await page.keyboard.press('Escape');
  await page.waitForSelector('#settings:not([open])', { state: 'attached' });
  eq(await page.evaluate(() => document.activeElement.id), 'open-settings', 'focus back on the opener');
}, { key: 'dialog', needs: ['open'] });

await t.test('settings: secrets are write-only (set / not set, empty inputs)', async () => {
  await openSettings(page);
  eq(await page.textContent('#s-trakt_client_secret'), 'set', 'the client secret the stack stored');
  eq(await page.textContent('#s-tmdb_api_key'), 'set');
  eq(await page.textContent('#s-dashboard_password'), 'not set');
  for (const k of ['trakt_client_secret', 'tmdb_api_key', 'dashboard_password']) {
    eq(await page.inputValue('#f-' + k), '', k + ' input is empty');
    eq(await page.getAttribute('#f-' + k, 'type'), 'password');
    assert(await page.getAttribute('#f-' + k, 'placeholder'), k + ' has a placeholder');
  }
  eq(await page.inputValue('#f-plex_url'), s.fakes.plex, 'plex_url filled in');
  eq(await page.inputValue('#f-trakt_client_id'), s.fakes.trakt_client_id);
  await page.keyboard.press('Escape');
}, { needs: ['dialog'] });

await t.test('settings: Save sends only the changed fields, with the CSRF header', async () => {
  const was = (await s.api('GET', '/api/settings')).body;
  await openSettings(page);
  await page.click('#f-sync_ratings');
  await page.selectOption('#f-sync_direction', 'both');
  const [req] = await Promise.all([
    page.waitForRequest((r) => r.url().endsWith('/api/settings') && r.method() === 'PUT'),
    page.click('#settings-save'),
  ]);
  eq(Object.keys(req.postDataJSON()).sort(), ['sync_direction', 'sync_ratings'], 'PUT body keys');
  eq(req.postDataJSON().sync_ratings, !was.sync_ratings);
  const hd = await req.allHeaders();
  eq(hd['x-requested-with'], 'XMLHttpRequest');
  assert(/^application\/json/.test(hd['content-type']), 'content type ' + hd['content-type']);
  await page.waitForSelector('#settings:not([open])', { state: 'attached' });
  const now = (await s.api('GET', '/api/settings')).body;
  eq([now.sync_ratings, now.sync_direction], [!was.sync_ratings, 'both'], 'saved');
  eq(now.trakt_client_secret, { set: true }, 'the secret is untouched');
  await s.api('PUT', '/api/settings', { sync_ratings: was.sync_ratings, sync_direction: was.sync_direction });
}, { needs: ['dialog'] });

await t.test('settings: a 400 shows each field error beside its field; nothing is saved', async () => {
  await openSettings(page);
  await page.fill('#f-plex_url', 'ftp://x');
  await page.fill('#f-trakt_client_id', 'changed-client-id');
  await page.click('#settings-save');
  await page.waitForSelector('#e-plex_url:not(:empty)');
  assert(await page.isVisible('#e-plex_url'), 'the error is visible');
  eq(await page.getAttribute('#f-plex_url', 'aria-invalid'), 'true');
  eq(await page.getAttribute('#f-plex_url', 'aria-describedby'), 'e-plex_url');
  assert(await page.isVisible('#settings[open]'), 'the dialog stays open');
  await shot(page, 'settings-errors');
  const now = (await s.api('GET', '/api/settings')).body;
  eq([now.plex_url, now.trakt_client_id], [s.fakes.plex, s.fakes.trakt_client_id], 'nothing saved');
  await page.fill('#f-plex_url', s.fakes.plex);
  eq(await page.getAttribute('#f-plex_url', 'aria-invalid'), null, 'typing clears the error');
  await page.keyboard.press('Escape');
}, { needs: ['dialog'] });

await t.test('Raw Log: incremental, at most 2,000 lines, coloured by level, auto-scroll pauses and resumes', async () => {
  // A long log served by the page's network layer: ids 1..max.
  let max = 2500;
  const afters = [];
  const levels = ['debug', 'info', 'warn', 'error'];
  await page.route('**/api/log?*', (route) => {
    const u = new URL(route.request().url());
    const after = Number(u.searchParams.get('after')), limit = Number(u.searchParams.get('limit'));
    afters.push(after);
    const n = Math.max(0, Math.min(limit, max - after));
    const entries = Array.from({ length: n }, (_, i) => ({ id: after + i + 1, ts: '2026-01-02T03:04:05.000Z', level: levels[(after + i + 1) % 4], run_id: null, message: 'line ' + (after + i + 1) }));
    route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ entries, last_id: n ? after + n : after }) });
  });
  try {
    await page.goto(s.url + '/#log');
    const lines = () => page.evaluate(() => [...document.querySelectorAll('#log-lines .ll .msg')].map((e) => e.textContent));
    await waitFor(async () => (await lines()).at(-1) === 'line 2500', { what: 'line 2500' });
    let l = await lines();
    eq([l.length, l[0]], [2000, 'line 501'], 'the page keeps the last 2,000 lines');
    eq(afters.slice(0, 3), [0, 1000, 2000], 'fetched incrementally with after=');
    const colours = await page.evaluate(() => ['info', 'warn', 'error'].map((c) => getComputedStyle(document.querySelector('#log-lines .ll.' + c + ' .lv')).color));
    eq(new Set(colours).size, 3, 'info, warn and error have their own colours: ' + colours);
    const atEnd = () => page.evaluate(() => { const e = document.querySelector('#log-lines'); return e.scrollHeight - e.scrollTop - e.clientHeight < 30; });
    assert(await atEnd(), 'follows the end');
    await page.evaluate(() => { document.querySelector('#log-lines').scrollTop = 0; });
    await page.waitForSelector('#log-follow:not([hidden])');
    max = 2510;
    await waitFor(async () => (await lines()).at(-1) === 'line 2510', { what: 'line 2510' });
    eq(await page.evaluate(() => document.querySelector('#log-lines').scrollTop), 0, 'stays where the reader is');
    l = await lines();
    eq([l.length, l[0]], [2000, 'line 511'], 'still 2,000 lines');
    await page.click('#log-follow');
    assert(await atEnd(), 'back at the end');
    assert(await page.isHidden('#log-follow'), 'the jump button is gone');
    await shot(page, 'log-long');
  } finally {
    await page.unroute('**/api/log?*');
  }
}, { needs: ['open'] });

await t.test('an API error shows a non-blocking toast with error.message', async () => {
  await page.route('**/api/runs?limit=50', (route) => route.fulfill({
    status: 500, contentType: 'application/json',
    body: JSON.stringify({ error: { code: 'internal', message: 'database is busy (test)' } }),
  }));
  await openTab(page, 'runs');
  await page.waitForSelector('.toast:has-text("database is busy (test)")');
  await page.unroute('**/api/runs?limit=50');
  await page.click('#tab-progress');
  eq(b.dialogs, [], 'no alert() dialogs');
}, { needs: ['open'] });

await t.test("a run's warnings: on the last run, in the header, as a badge in the history", async () => {
  const warning = 'watchlist: Trakt refused the additions because the account\'s limit is reached (420): 250 items; 2 items left undone, the other kinds went on';
  const run = { id: 41, started_at: '2026-12-01T10:00:00Z', finished_at: '2026-12-01T10:00:05Z', duration_s: 5,
    trigger: 'manual', status: 'ok', items_scanned: 10, items_total: 10, added_to_trakt: 0, added_to_plex: 0,
    not_found: 0, unmatched: 0, errors: 0, dry_run: false, message: null, undo_of: null, undone_by: null,
    removed_from_trakt: null, ratings_changed: 3, watchlist_changed: 0, playback_changed: 0, warnings: [warning] };
  const json = (body) => (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(body) });
  await page.route('**/api/progress', json({ state: 'idle', last_run: run }));
  await page.route('**/api/runs?limit=50', json({ runs: [run] }));
  try {
    await page.reload();
    await page.waitForSelector('#run-warn:not([hidden])', { timeout: 10000 });
    eq(await page.textContent('#run-warn-text'), 'Last run: 1 warning', 'header');
    eq(await page.getAttribute('#run-warn', 'title'), warning, 'header title');
    eq(await page.textContent('#last-run-warnings li'), warning, 'last run card');
    await openTab(page, 'runs');
    await page.waitForSelector('#runs-body tr .badge.warning');
    eq(await page.getAttribute('#runs-body tr .badge.warning', 'title'), warning, 'history badge');
    await shot(page, 'run-warnings');
  } finally {
    await page.unroute('**/api/progress');
    await page.unroute('**/api/runs?limit=50');
  }
  // A run without warnings clears the header.
  await page.reload();
  await openTab(page, 'progress');
  await page.waitForSelector('#prog-idle:not([hidden])');
  await sleep(500);
  assert(await page.isHidden('#run-warn'), 'no warning in the header without one');
}, { needs: ['open'] });

await t.test('with a dashboard password, a 401 shows the login form; login works', async () => {
  let r = await s.api('PUT', '/api/settings', { dashboard_password: 'open sesame 1' });
  eq(r.status, 200, 'set the password');
  try {
    await page.reload();
    await page.waitForSelector('#login[open]');
    await shot(page, 'login');
    await page.fill('#login-pw', 'wrong');
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#login-err:not(:empty)');
    await page.fill('#login-pw', 'open sesame 1');
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#login:not([open])', { state: 'attached' });
    await page.waitForFunction(() => document.querySelector('#plex-user').textContent !== '…');
    await openSettings(page);
    eq(await page.textContent('#s-dashboard_password'), 'set');
    assert(await page.isVisible('#logout'), 'a log-out button');
    await page.keyboard.press('Escape');
  } finally {
    // Remove the password with the browser's session (the API needs it now).
    const st = await page.evaluate(async () => (await fetch('/api/settings', {
      method: 'PUT', headers: { 'Content-Type': 'application/json', 'X-Requested-With': 'XMLHttpRequest' },
      body: JSON.stringify({ dashboard_password: '', current_password: 'open sesame 1' }),
    })).status);
    r = await s.api('GET', '/api/status');
    eq([st, r.status], [200, 200], 'password removed');
  }
}, { needs: ['open'] });

await t.test('phone width (375 px): no horizontal overflow, controls reachable', async () => {
  await page.setViewportSize({ width: 375, height: 812 });
  await page.reload();
  await page.waitForSelector('#state');
  for (const name of TABS) {
    await openTab(page, name);
    const over = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert(over <= 0, name + ': the page is ' + over + ' px wider than the screen');
    await shot(page, 'empty-' + name);
  }
  for (const sel of ['#run', '#stop', '#interval', '#open-settings', '#theme']) assert(await page.isVisible(sel), sel + ' visible');
  await openSettings(page);
  await shot(page, 'settings');
  await page.keyboard.press('Escape');
  eq(b.dialogs, [], 'no alert() dialogs');
}, { needs: ['open'] });

process.exit(await t.end());
