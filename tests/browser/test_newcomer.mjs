// The dashboard as a newcomer meets it, at 1280 and 375 px side by side: before sign-in the
// lists say so; In Progress says it
// is loading (not "not signed in") while Plex answers, then shows the items; after a sync,
// Trakt History shows the synced plays with no click but the tab's; a sync too short to be
// seen running leaves its final figures in the idle card; the header's token line is plain
// while renewal works and a warning once the refresh token is dead; a failed refresh says why
// and offers a retry. Accounts are set up through the API.
import { Tap, startStack, launch, setupAccounts, waitFor, assert, eq, shot, sleep } from './lib.mjs';

const t = new Tap('newcomer', { budgetMs: 240000 });
let s;
const pages = []; // [{page, w}]
const each = (fn) => Promise.all(pages.map((p) => fn(p.page, p.w)));
const tab = async (page, name) => {
  await page.click('#tab-' + name);
  await page.waitForSelector('#panel-' + name + ':not([hidden])');
};

await t.test('the stack starts; Plex and Trakt signed in; a desktop and a phone browser', async () => {
  s = await startStack({ name: 'newcomer' });
  t.onCleanup(() => s.stop());
  for (const [w, h] of [[1280, 800], [375, 812]]) {
    const b = await launch({ width: w, height: h });
    t.onCleanup(() => b.close());
    pages.push({ page: b.page, w, errors: b.errors });
  }
  t.page = pages[0].page;
  // Before any sign-in, the lists say so (not "loading", not "nothing there").
  await each(async (page, w) => {
    await page.goto(s.url + '/');
    await page.waitForFunction(() => document.querySelector('#conn-plex').dataset.ok === 'no');
    await tab(page, 'trakt');
    await page.waitForFunction(() => /^Trakt is not signed in/.test(document.querySelector('#trakt-empty-text').textContent));
    await tab(page, 'inprogress');
    await page.waitForFunction(() => /^Plex is not signed in/.test(document.querySelector('#ip-empty-text').textContent));
    await shot(page, 'newcomer-inprogress-signed-out');
    await tab(page, 'progress');
  });
  await setupAccounts(s);
  await each(async (page) => {
    await page.reload();
    await page.waitForFunction(() => document.querySelector('#conn-plex').dataset.ok === 'yes');
  });
}, { key: 'stack', timeout: 90000 });

await t.test('In Progress: a loading state while Plex answers, then the items', async () => {
  // Plex answers Continue Watching slowly: the first read of the tab queues the refresh.
  await s.ctl('plex', 'POST', '/_control/faults', { latency_ms: 2500, only: ['/hubs/continueWatching', '/library/onDeck'] });
  const before = (await s.api('GET', '/api/plex/in-progress')).body;
  eq(before.fetched_at, null, 'nothing fetched before the tab opens');
  await each(async (page, w) => {
    await tab(page, 'inprogress');
    await page.waitForSelector('#ip-empty:not([hidden])');
    const text = await page.textContent('#ip-empty-text');
    assert(/^Loading/.test(text), w + ' px: the empty state while fetching says so: ' + text);
    await shot(page, 'newcomer-inprogress-loading');
  });
  await each(async (page, w) => {
    await page.waitForSelector('#ip-list li', { timeout: 30000 });
    eq(await page.isHidden('#ip-empty'), true, w + ' px: no empty state with items');
    await shot(page, 'newcomer-inprogress');
  });
  await s.ctl('plex', 'POST', '/_control/faults/reset', {});
}, { needs: ['stack'], timeout: 60000 });

await t.test('the header: a token that renews is plain', async () => {
  await each(async (page, w) => {
    await page.waitForFunction(() => /renews automatically/.test(document.querySelector('#trakt-exp').textContent));
    const r = await page.evaluate(() => {
      const e = document.querySelector('#trakt-exp'), u = document.querySelector('#trakt-user');
      return { warn: e.hasAttribute('data-warn'), same: getComputedStyle(e).color === getComputedStyle(u).color };
    });
    eq(r, { warn: false, same: true }, w + ' px: no warning colour');
  });
}, { needs: ['stack'] });

await t.test('a dead refresh token: the header warns; Trakt History says the fetch failed, why, and offers a retry', async () => {
  // Trakt forgets every token: the next call gets 401, the refresh 400 invalid_grant.
  await s.ctl('trakt', 'POST', '/_control/state', { tokens: {} });
  eq((await s.api('POST', '/api/trakt/history/refresh', {})).status, 202, 'a Trakt call');
  await waitFor(async () => (await s.api('GET', '/api/status')).body.auth.trakt.state === 'expired', { timeout: 30000, what: 'the Trakt sign-in to expire' });
  const err = await waitFor(async () => (await s.api('GET', '/api/trakt/history')).body.error, { timeout: 20000, what: 'the failed refresh in the API' });
  await each(async (page, w) => {
    await page.reload();
    await page.waitForSelector('#trakt-exp[data-warn]', { timeout: 20000 });
    const r = await page.evaluate(() => {
      const e = document.querySelector('#trakt-exp'), u = document.querySelector('#trakt-user');
      return { text: e.textContent, differs: getComputedStyle(e).color !== getComputedStyle(u).color };
    });
    assert(/expired/.test(r.text) && r.differs, w + ' px: the warning: ' + JSON.stringify(r));
    await tab(page, 'trakt');
    await page.waitForSelector('#trakt-retry:not([hidden])');
    const text = await page.textContent('#trakt-empty-text');
    assert(text.startsWith('Could not fetch your Trakt history: ') && text.includes(err), w + ' px: ' + text);
    await shot(page, 'newcomer-trakt-failed');
  });
  // Signed in again: the tab fetches by itself (below).
  await setupAccounts(s);
}, { key: 'token', needs: ['stack'], timeout: 90000 });

await t.test('Trakt History after a sync: the synced plays, with no click but the tab\'s', async () => {
  await each(async (page) => { await page.goto(s.url + '/#progress'); await page.reload(); });
  await sleep(1500);
  const before = (await s.api('GET', '/api/trakt/history')).body;
  let r = await s.api('POST', '/api/sync', {});
  eq(r.status, 202, 'POST /api/sync');
  const run = await waitFor(async () => {
    const x = (await s.api('GET', '/api/runs?limit=1')).body.runs[0];
    return x && x.status !== 'running' && x.status !== 'queued' ? x : null;
  }, { timeout: 60000, what: 'the sync to end' });
  eq(run.status, 'ok', 'the sync');
  assert(run.added_to_trakt > 0, 'the sync added plays to Trakt');
  eq((await s.api('GET', '/api/trakt/history')).body.fetched_at, before.fetched_at, 'the cached copy is the old one');
  await each(async (page, w) => {
    await tab(page, 'trakt');
    await page.waitForSelector('#trakt-list li', { timeout: 30000 });
    const n = await page.locator('#trakt-list li').count();
    const api = (await s.api('GET', '/api/trakt/history?limit=100')).body.items.length;
    assert(n > 0 && n === api, w + ' px: ' + n + ' cards, the API has ' + api);
    eq(await page.isHidden('#trakt-empty'), true, w + ' px: no empty state');
    await shot(page, 'newcomer-trakt');
  });
}, { key: 'synced', needs: ['token'], timeout: 100000 });

await t.test('the idle card keeps the finished run\'s figures: both bars full, items/s, duration', async () => {
  await each(async (page, w) => {
    await tab(page, 'progress');
    await page.waitForSelector('#last-run .badge.ok');
    const r = await page.evaluate(() => ({
      bars: [...document.querySelectorAll('#last-run [role="progressbar"]')].map((b) => b.getAttribute('aria-valuenow')),
      stats: Object.fromEntries([...document.querySelectorAll('#last-run .summary div')].map((d) => [d.querySelector('dt').textContent, d.querySelector('dd').textContent])),
    }));
    eq(r.bars, ['100', '100'], w + ' px: both bars');
    assert(r.stats['Items / second'] && r.stats['Items / second'] !== '—', w + ' px: items/s ' + r.stats['Items / second']);
    assert(r.stats.Duration && r.stats.Duration !== '—', w + ' px: duration ' + r.stats.Duration);
    await shot(page, 'newcomer-progress-idle');
  });
}, { needs: ['synced'] });

await t.test('no errors in the console, no alert()', async () => {
  // Posters from TMDb's http:// loopback fake are refused by the CSP until posters are served
  // from the box (a separate change); every other console error counts.
  const other = (e) => !/Failed to load resource/.test(e) && !/Loading the image .* violates the following Content Security Policy directive: "img-src/.test(e);
  for (const p of pages) eq(p.errors.filter(other), [], p.w + ' px');
}, { needs: ['stack'] });

process.exit(await t.end());
