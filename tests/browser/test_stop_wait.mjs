// Stop mid-sync: a slow Plex (the fakes' latency fault) keeps the sync running long enough to
// reload the page (it must pick the running sync up), press Stop Sync and see the run end
// "cancelled". Then a Trakt rate limit: the Waiting state. Accounts and libraries are set up
// through the API. Needs the sync engine.
import { Tap, openDashboard, waitFor, assert, eq, shot, openTab } from './lib.mjs';

const t = new Tap('stop_wait', { budgetMs: 180000 });
let s, b, page;

await t.test('the stack starts; Plex, Trakt and libraries set up through the API', async () => {
  ({ s, b, page } = await openDashboard(t, { name: 'stop', generate: 'movies=1500,shows=10,episodes=600,watched=0.3,seed=11',
    accounts: true, browser: { width: 375, height: 812 }, goto: false }));
}, { key: 'setup', timeout: 100000 });

await t.test('a slow sync runs; a page reload picks it up', async () => {
  await s.ctl('plex', 'POST', '/_control/state', { max_page: 25 });
  await s.ctl('plex', 'POST', '/_control/faults', { latency_ms: 400, only: ['/library/sections/'] });
  eq((await s.api('POST', '/api/sync', {})).status, 202, 'POST /api/sync');
  await page.goto(s.url + '/');
  await page.waitForSelector('#prog-run:not([hidden])', { timeout: 15000 });
  await page.waitForFunction(() => Number(document.querySelector('#all-bar').getAttribute('aria-valuenow')) > 0
    || document.querySelector('#cur-item').textContent !== '—', null, { timeout: 30000 });
  await page.reload();
  await page.waitForSelector('#prog-run:not([hidden])', { timeout: 5000 });
  eq(await page.isDisabled('#stop'), false, 'Stop Sync enabled after the reload');
  eq(await page.textContent('#run-text'), 'Syncing…');
  await shot(page, 'progress-running');
}, { key: 'running', needs: ['setup'], timeout: 60000 });

await t.test('Stop Sync: Stopping…, then Idle with the run cancelled', async () => {
  await page.click('#stop');
  await page.waitForFunction(() => document.querySelector('#stop').disabled, null, { timeout: 3000 });
  const started = Date.now();
  await page.waitForSelector('#prog-idle:not([hidden])', { timeout: 30000 });
  console.log(`# the sync stopped ${((Date.now() - started) / 1000).toFixed(1)} s after Stop`);
  await page.waitForSelector('#last-run .badge.cancelled');
  eq(await page.textContent('#state-text'), 'Idle');
  eq(await page.isDisabled('#run'), false, 'Run enabled again');
  const run = (await s.api('GET', '/api/runs?limit=1')).body.runs[0];
  eq(run.status, 'cancelled', 'the run in the API');
  await s.ctl('plex', 'POST', '/_control/faults/reset', {});
  await openTab(page, 'runs');
  await page.waitForSelector('#runs-body tr .badge.cancelled');
  await shot(page, 'runs-cancelled');
  eq(b.dialogs, [], 'no alert() dialogs');
}, { needs: ['running'], timeout: 60000 });

await t.test('a Trakt rate limit shows the Waiting state with its reason and countdown', async () => {
  // Two GETs per 20 s: the next one gets 429 with a long Retry-After.
  await s.ctl('trakt', 'POST', '/_control/state', { get_limit: 2, get_period: 20 });
  await openTab(page, 'progress');
  await page.click('#run');
  await page.waitForFunction(() => document.querySelector('#state').dataset.state === 'waiting', null, { timeout: 30000 });
  eq(await page.textContent('#state-text'), 'Waiting');
  const w = await page.textContent('#prog-wait');
  assert(/^Waiting: .+ — resuming in \d+s$/.test(w), 'waiting banner: ' + w);
  await shot(page, 'progress-waiting');
  await s.ctl('trakt', 'POST', '/_control/state', { get_limit: 500, get_period: 300 });
  await page.click('#stop');
  await page.waitForSelector('#prog-idle:not([hidden])', { timeout: 40000 });
}, { needs: ['setup'], timeout: 80000 });

process.exit(await t.end());
