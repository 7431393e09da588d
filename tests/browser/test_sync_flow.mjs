// The whole path through the dashboard against the fakes: authorize Plex and Trakt in Settings,
// fetch and pick libraries, Run Sync Now, watch the bars, graph, current item and log, see the
// run complete and land in Sync History, then Trakt History and In Progress. Screenshots of
// every tab at 1280x800 and 375x812. Needs the worker's auth flows, jobs and sync engine.
import { Tap, startStack, launch, waitFor, assert, eq, shot, openTab, openSettings, sleep } from './lib.mjs';

const TABS = ['progress', 'log', 'runs', 'trakt', 'inprogress'];
const TZ = 'America/New_York';
const t = new Tap('sync_flow', { budgetMs: 240000 });
let s, b, page;

// One look at the Live Progress panel (and the header) from inside the page.
const snap = () => page.evaluate(() => {
  const q = (sel) => document.querySelector(sel);
  const c = q('#graph');
  let accent = 0;
  if (!q('#prog-run').hidden && c.width) {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 200 && d[i + 2] > 200 && d[i] < 160) accent++;
  }
  return {
    state: q('#state').dataset.state, running: !q('#prog-run').hidden,
    all: Number(q('#all-bar').getAttribute('aria-valuenow')), allText: q('#all-count').textContent,
    lib: Number(q('#lib-bar').getAttribute('aria-valuenow')), libText: q('#lib-count').textContent,
    libTitle: q('#lib-title').textContent, item: q('#cur-item').textContent,
    points: Number(c.dataset.points || 0), accent,
    runDisabled: q('#run').disabled, runText: q('#run-text').textContent, stopDisabled: q('#stop').disabled,
  };
});

await t.test('the stack starts with a generated library of about 2,400 items', async () => {
  s = await startStack({ name: 'sync_flow', generate: 'movies=1200,shows=20,episodes=1200,watched=0.3,seed=7' });
  t.onCleanup(() => s.stop());
  await s.ctl('trakt', 'POST', '/_control/state', { device_interval: 1 });
  b = await launch({ timezoneId: TZ });
  t.onCleanup(() => b.close());
  page = t.page = b.page;
  await page.goto(s.url + '/');
  await page.waitForFunction(() => document.querySelector('#plex-user').textContent !== '…');
}, { key: 'stack', timeout: 70000 });

await t.test('Settings: authorize Plex through the plex.tv PIN flow', async () => {
  const user = (await s.ctl('plextv', 'GET', '/_control/state')).username;
  await openSettings(page);
  await page.click('#plex-auth');
  const link = await page.waitForSelector('#plex-flow a[href]', { timeout: 20000 });
  assert(/^https?:\/\//.test(await link.getAttribute('href')), 'auth_url link');
  eq(await link.getAttribute('target'), '_blank');
  eq(await link.getAttribute('rel'), 'noopener noreferrer');
  assert((await page.textContent('#plex-flow')).includes('Waiting'), 'a waiting state');
  await shot(page, 'settings-plex-pin');
  eq(await page.evaluate(() => document.activeElement.id), 'plex-flow', 'focus on the instructions while Authorize is disabled');
  await s.ctl('plextv', 'POST', '/_control/pins/link_latest', {});
  await page.waitForFunction((u) => document.querySelector('#plex-auth-status').textContent === 'Signed in as ' + u, user, { timeout: 20000 });
  eq(await page.evaluate(() => document.activeElement.id), 'plex-auth-status', 'focus on the sign-in result');
  assert(await page.isVisible('#plex-signout'), 'a Sign out button');
  assert(!(await page.isVisible('#plex-auth')), 'no Authorize button while signed in');
}, { key: 'plex', needs: ['stack'], timeout: 45000 });

await t.test('Settings: authorize Trakt through the device-code flow', async () => {
  await page.click('#trakt-auth');
  const code = await page.waitForSelector('#trakt-flow .code:not(:empty)', { timeout: 20000 });
  const userCode = (await code.textContent()).trim();
  const link = await page.waitForSelector('#trakt-flow a[href]');
  eq(await link.getAttribute('href'), s.fakes.trakt + '/activate', 'verification_url');
  eq(await link.getAttribute('rel'), 'noopener noreferrer');
  await page.waitForFunction(() => /expires in \d+:\d\d/.test(document.querySelector('#trakt-flow .countdown').textContent));
  await shot(page, 'settings-trakt-code');
  await s.ctl('trakt', 'POST', '/_control/device/approve', { user_code: userCode });
  await page.waitForFunction(() => /^Signed in as ./.test(document.querySelector('#trakt-auth-status').textContent), null, { timeout: 20000 });
  assert(await page.isVisible('#trakt-signout'), 'a Sign out button');
  eq(await page.evaluate(() => document.activeElement.id), 'trakt-auth-status', 'focus on the sign-in result');
}, { key: 'trakt', needs: ['stack'], timeout: 45000 });

let chosen = [];
await t.test('Settings: fetch the libraries, pick them, save', async () => {
  await page.click('#libs-fetch');
  await page.waitForSelector('#libs li', { timeout: 30000 });
  const libs = await page.$$eval('#libs label', (ls) => ls.map((l) => ({
    key: l.querySelector('input').value, title: l.querySelector('span').textContent, count: l.querySelector('.count').textContent,
  })));
  assert(libs.length >= 2, 'libraries listed: ' + JSON.stringify(libs));
  for (const l of libs) assert(/^\d[\d,]* (movies|episodes|items)$/.test(l.count), 'item count shown: ' + l.count);
  chosen = libs.filter((l) => /^(Movies|TV Shows)$/.test(l.title)).map((l) => l.key).sort();
  eq(chosen.length, 2, 'Movies and TV Shows are there');
  for (const l of libs) await page.setChecked(`#libs input[value="${l.key}"]`, chosen.includes(l.key));
  await shot(page, 'settings-libraries');
  const [req] = await Promise.all([
    page.waitForRequest((r) => r.url().endsWith('/api/libraries') && r.method() === 'PUT'),
    page.click('#settings-save'),
  ]);
  eq(req.postDataJSON().selected.slice().sort(), chosen, 'PUT /api/libraries body');
  await page.waitForSelector('#settings:not([open])', { state: 'attached' });
  const got = (await s.api('GET', '/api/libraries')).body.libraries.filter((l) => l.selected).map((l) => String(l.key)).sort();
  eq(got, chosen, 'the selection is stored');
}, { key: 'libs', needs: ['plex'], timeout: 60000 });

await t.test('the header shows both accounts connected; the Trakt token renews by itself (plain text, expiry in the title)', async () => {
  await page.waitForFunction(() => document.querySelector('#conn-plex').dataset.ok === 'yes' && document.querySelector('#conn-trakt').dataset.ok === 'yes', null, { timeout: 20000 });
  const st = (await s.api('GET', '/api/status')).body.auth;
  eq(await page.textContent('#plex-user'), st.plex.user);
  eq(await page.textContent('#trakt-user'), st.trakt.user);
  eq(await page.textContent('#trakt-exp'), '· token renews automatically');
  assert(/valid until .+; it is renewed before then/.test(await page.getAttribute('#trakt-exp', 'title')), 'title: ' + await page.getAttribute('#trakt-exp', 'title'));
  eq(await page.getAttribute('#trakt-exp', 'data-warn'), null, 'no warning while renewal works');
}, { needs: ['plex', 'trakt'] });

// Slow Plex down a little so the sync takes seconds, not milliseconds.
let logBefore = 0;
const samples = [];
await t.test('Run Sync Now starts a sync: Syncing… state, Stop enabled', async () => {
  await s.ctl('plex', 'POST', '/_control/state', { max_page: 50 });
  await s.ctl('plex', 'POST', '/_control/faults', { latency_ms: 120, only: ['/library/sections/'] });
  await openTab(page, 'log');
  await page.waitForSelector('#log-lines .ll');
  logBefore = await page.locator('#log-lines .ll').count();
  await openTab(page, 'progress');
  await page.click('#run');
  await page.waitForFunction(() => document.querySelector('#run').disabled && document.querySelector('#run-text').textContent === 'Syncing…', null, { timeout: 3000 });
  await page.waitForSelector('#prog-run:not([hidden])', { timeout: 10000 });
  const v = await snap();
  assert(v.state === 'queued' || v.state === 'running' || v.state === 'waiting', 'state ' + v.state);
  eq(v.stopDisabled, false, 'Stop Sync enabled');
  eq(await page.textContent('#state-text'), 'Syncing…');
}, { key: 'run', needs: ['libs', 'trakt'], timeout: 20000 });

await t.test('during the sync: the bars move, the graph is drawn, the item changes, log lines arrive', async () => {
  let shotTaken = false, logOk = false;
  const t0 = Date.now();
  while (Date.now() - t0 < 120000) {
    const v = await snap();
    samples.push(v);
    if (!v.running) break;
    if (!shotTaken && v.points >= 2 && v.all > 5) { await shot(page, 'progress-running'); shotTaken = true; }
    if (!logOk && Date.now() - t0 > 2500) {
      await openTab(page, 'log');
      await waitFor(async () => (await page.locator('#log-lines .ll').count()) > logBefore, { timeout: 8000, what: 'new log lines' });
      logOk = true;
      if (v.running) await shot(page, 'log-running');
      await openTab(page, 'progress');
    }
    await sleep(200);
  }
  const run = samples.filter((v) => v.running);
  const distinct = (f) => new Set(run.map(f)).size;
  assert(run.length >= 3, 'the running state was seen ' + run.length + ' times');
  assert(distinct((v) => v.all) >= 2 && Math.max(...run.map((v) => v.all)) > Math.min(...run.map((v) => v.all)), 'the overall bar moved: ' + [...new Set(run.map((v) => v.allText))].slice(0, 8).join(' | '));
  assert(distinct((v) => v.lib + '/' + v.libTitle) >= 2, 'the library bar moved: ' + [...new Set(run.map((v) => v.libTitle + ' ' + v.libText))].slice(0, 8).join(' | '));
  assert(distinct((v) => v.item) >= 2, 'the current item changed: ' + [...new Set(run.map((v) => v.item))].slice(0, 5).join(' | '));
  assert(run.some((v) => v.points >= 1 && v.accent > 30), 'the speed graph has a drawn line (max accent pixels ' + Math.max(...run.map((v) => v.accent)) + ')');
  assert(run.some((v) => /^\d[\d,]* \/ \d[\d,]* · \d+(\.\d)?%$/.test(v.allText)), 'overall text n / total · p%: ' + run[run.length - 1].allText);
  if (!logOk) {
    await openTab(page, 'log');
    await waitFor(async () => (await page.locator('#log-lines .ll').count()) > logBefore, { timeout: 8000, what: 'new log lines' });
    await openTab(page, 'progress');
  }
}, { key: 'watch', needs: ['run'], timeout: 140000 });

await t.test('the sync completes: Idle again, last run summary with an ok badge', async () => {
  await s.ctl('plex', 'POST', '/_control/faults/reset', {});
  await page.waitForSelector('#prog-idle:not([hidden])', { timeout: 60000 });
  await page.waitForSelector('#last-run .badge.ok');
  eq(await page.textContent('#state-text'), 'Idle');
  eq(await page.isDisabled('#run'), false, 'Run enabled again');
  eq(await page.isDisabled('#stop'), true, 'Stop disabled again');
  const txt = await page.textContent('#last-run');
  assert(/Manual run/.test(txt) && /Added to Trakt/.test(txt), 'summary: ' + txt);
  // The idle card keeps the final figures and the last run's speed graph until the next run.
  const idle = await page.evaluate(() => ({
    bars: [...document.querySelectorAll('#last-run [role="progressbar"]')].map((b) => b.getAttribute('aria-valuenow')),
    graphInIdle: !!document.querySelector('#prog-idle #graph-fig:not([hidden])'),
    points: Number(document.querySelector('#graph').dataset.points || 0),
  }));
  eq(idle.bars, ['100', '100'], 'both bars full');
  assert(idle.graphInIdle && idle.points >= 2, 'the speed graph stays: ' + JSON.stringify(idle));
  assert(/Items \/ second/i.test(txt) && /Duration/i.test(txt), 'items/s and duration: ' + txt);
}, { key: 'done', needs: ['run'], timeout: 70000 });

await t.test('Sync History has the new run; it opens its list of changes', async () => {
  await openTab(page, 'runs');
  await page.waitForSelector('#runs-body tr');
  const runs = (await s.api('GET', '/api/runs?limit=50')).body.runs;
  eq(await page.locator('#runs-body tr').count(), runs.length, 'one row per run');
  const row = page.locator('#runs-body tr').first();
  eq(await row.locator('.badge.ok').textContent(), 'OK', 'status badge');
  eq((await row.locator('td[data-label="Trigger"]').textContent()).trim(), 'Manual');
  assert(Number((await row.locator('td[data-label="Scanned"]').textContent()).replace(/,/g, '')) > 0, 'items scanned');
  await shot(page, 'runs');
  await row.locator('.open').click();
  await page.waitForSelector('#changes[open]');
  await page.waitForFunction(() => document.querySelector('#changes-sum').textContent !== 'Loading…');
  const n = await page.locator('#changes-list li').count();
  assert(n >= 1, 'changes listed: ' + n);
  assert((await page.textContent('#changes-list')).includes('Added to Trakt history'), 'an add_play_trakt change');
  await shot(page, 'changes');
  await page.keyboard.press('Escape');
  await page.waitForSelector('#changes:not([open])', { state: 'attached' });
  eq(await page.evaluate(() => document.activeElement.className), 'open', 'focus back on the row');
}, { key: 'history', needs: ['done'], timeout: 30000 });

await t.test('Trakt History: refresh, up to 100 plays with posters, SxxEyy or year, local times', async () => {
  await openTab(page, 'trakt');
  const before = (await s.api('GET', '/api/trakt/history')).body.fetched_at;
  await page.click('#trakt-refresh');
  await waitFor(async () => (await s.api('GET', '/api/trakt/history')).body.fetched_at !== before, { timeout: 30000, what: 'fetched_at to change' });
  await page.waitForFunction(() => !document.querySelector('#trakt-refresh').disabled, null, { timeout: 15000 });
  const api = (await s.api('GET', '/api/trakt/history')).body.items;
  assert(api.length > 0 && api.length <= 100, 'plays from the API: ' + api.length);
  eq(await page.locator('#trakt-list li').count(), api.length, 'one card per play');
  const cards = await page.$$eval('#trakt-list li', (ls) => ls.map((li) => ({
    img: li.querySelector('img.poster') ? li.querySelector('img.poster').getAttribute('loading') : null,
    ph: !!li.querySelector('.poster.ph'), failed: !!li.querySelector('.poster.ph.failed'),
    sub: li.querySelector('.item-sub').textContent, time: li.querySelector('time').textContent, dt: li.querySelector('time').getAttribute('datetime'),
  })));
  const fmt = new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeStyle: 'short', timeZone: TZ });
  api.forEach((it, i) => {
    const c = cards[i];
    assert(c.img === 'lazy' || c.ph, `card ${i}: a lazy poster or a placeholder`);
    if (!it.poster) assert(c.ph && !c.failed, `card ${i}: no poster, a placeholder`);
    assert(it.type === 'episode' ? /^S\d\dE\d\d/.test(c.sub) : /^(\d{4}|Movie)$/.test(c.sub), `card ${i}: ${it.type} subtitle ${c.sub}`);
    eq(c.time, fmt.format(new Date(it.watched_at)), `card ${i}: watched time in ${TZ}`);
  });
  const withPoster = api.filter((it) => it.poster).length;
  const shown = cards.filter((c) => c.img).length, blocked = cards.filter((c) => c.failed).length;
  eq(shown + blocked, withPoster, 'every poster URL was tried (shown or fallen back)');
  eq(blocked, 0, 'no poster fell back to a tile (they come from the dashboard\'s origin)');
  console.log(`# ${withPoster} of ${api.length} plays have a poster; ${shown} shown`);
  await shot(page, 'trakt');
}, { key: 'trakthist', needs: ['trakt'], timeout: 60000 });

await t.test('In Progress: Plex Continue Watching with posters, progress bars, last viewed', async () => {
  await openTab(page, 'inprogress');
  await page.waitForSelector('#ip-list li', { timeout: 40000 });
  const api = (await s.api('GET', '/api/plex/in-progress')).body.items;
  eq(await page.locator('#ip-list li').count(), api.length, 'one card per item');
  const bars = await page.$$eval('#ip-list [role=progressbar]', (bs) => bs.map((x) => Number(x.getAttribute('aria-valuenow'))));
  eq(bars, api.map((it) => Math.round(Math.max(0, Math.min(100, Number(it.progress_percent) || 0)))), 'progress bars');
  const when = await page.$$eval('#ip-list li', (ls) => ls.map((li) => /Last viewed/.test(li.textContent)));
  eq(when, api.map((it) => !!it.last_viewed_at), 'last viewed shown where known');
  const posters = await page.$$eval('#ip-list li', (ls) => ls.map((li) => (li.querySelector('img.poster') ? 'img' : li.querySelector('.ph.failed') ? 'failed' : 'none')));
  api.forEach((it, i) => assert(it.poster ? posters[i] !== 'none' : posters[i] === 'none', `card ${i}: poster ${it.poster} shown as ${posters[i]}`));
  await shot(page, 'inprogress');
}, { key: 'inprog', needs: ['plex'], timeout: 60000 });

await t.test('screenshots of every tab at 1280x800 and 375x812', async () => {
  for (const [w, h] of [[1280, 800], [375, 812]]) {
    await page.setViewportSize({ width: w, height: h });
    for (const name of TABS) {
      await openTab(page, name);
      await sleep(name === 'log' ? 800 : 400);
      await shot(page, name);
    }
    await openSettings(page);
    await shot(page, 'settings-connected');
    await page.keyboard.press('Escape');
  }
  eq(b.dialogs, [], 'no alert() dialogs');
  // Posters come from the dashboard's origin: no image may be refused by the CSP.
  const bad = b.errors.filter((e) => !/Failed to load resource/.test(e));
  eq(bad, [], 'console errors');
}, { needs: ['stack'], timeout: 60000 });

process.exit(await t.end());
