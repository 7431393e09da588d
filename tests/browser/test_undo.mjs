// Undo a run and clean duplicate plays from the dashboard, keyboard first: Sync History → a
// run's changes → "Undo this run…" → the confirmation dialog (focus on Cancel, Esc backs out,
// Tab reaches Undo) → the undo run appears, the synced run is marked undone and the fake
// Trakt history is as before the sync. Then the Trakt History tab: scan for duplicates,
// "Remove N extra plays" with its confirmation, and the list empties. Needs the worker.
import { Tap, startStack, setupAccounts, launch, waitFor, assert, eq, shot, openTab } from './lib.mjs';

const t = new Tap('undo', { budgetMs: 180000 });
let s, b, page, before, runId;

const history = async () => (await s.ctl('trakt', 'GET', '/_control/history')).history;
const focused = () => page.evaluate(() => document.activeElement && (document.activeElement.id || document.activeElement.textContent));

await t.test('the stack starts; a sync adds plays to Trakt', async () => {
  s = await startStack({ name: 'undo' });
  t.onCleanup(() => s.stop());
  await setupAccounts(s);
  before = await history();
  const r = await s.api('POST', '/api/sync', { dry_run: false });
  eq(r.status, 202, 'POST /api/sync');
  runId = r.body.run_id;
  const run = await waitFor(async () => {
    const runs = (await s.api('GET', '/api/runs')).body.runs;
    const x = runs.find((y) => y.id === runId);
    return x && x.status !== 'running' ? x : null;
  }, { timeout: 60000, what: 'the sync to end' });
  eq(run.status, 'ok', 'the sync');
  assert(run.added_to_trakt > 0, 'plays added: ' + run.added_to_trakt);
  b = await launch();
  t.onCleanup(() => b.close());
  page = t.page = b.page;
  // An undo the API refused is worth seeing when a later step times out.
  page.on('response', async (r) => {
    if (r.url().includes('/undo') && r.status() !== 202) console.log('# undo answered ' + r.status() + ' ' + (await r.text().catch(() => '')));
  });
  await page.goto(s.url + '/#runs');
  await page.waitForSelector('#runs-body tr');
}, { key: 'stack', timeout: 120000 });

await t.test('the changes dialog offers Undo; the confirmation opens on Cancel and Esc backs out', async () => {
  await page.click(`#runs-body tr[data-run="${runId}"] .open`);
  await page.waitForSelector('#changes[open]');
  await page.waitForSelector('#changes-undo:not([hidden])');
  await page.focus('#changes-undo');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#confirm[open]');
  eq(await page.textContent('#confirm-title'), 'Undo run #' + runId + '?');
  assert((await page.textContent('#confirm-body')).includes('next sync adds them again'), 'the re-add note');
  eq(await focused(), 'Cancel', 'focus starts on Cancel');
  await page.keyboard.press('Escape');
  await page.waitForSelector('#confirm:not([open])', { state: 'attached' });
  eq(await focused(), 'changes-undo', 'focus back on the Undo button');
  eq((await s.api('GET', '/api/runs')).body.runs[0].id, runId, 'no undo run was made');
}, { key: 'confirm', needs: ['stack'] });

await t.test('Tab reaches Undo; the undo run restores the Trakt history', async () => {
  await page.keyboard.press('Enter');
  await page.waitForSelector('#confirm[open]');
  await shot(page, 'undo-confirm');
  await page.keyboard.press('Tab');
  eq(await focused(), 'confirm-alt', 'then Preview');
  await page.keyboard.press('Tab');
  eq(await focused(), 'confirm-ok', 'then Undo');
  // Focus order above proves keyboard reach; the activation itself is a click, waiting for
  // the API to take the undo (a key press here raced the dialog's close under heavy load).
  const taken = page.waitForResponse((r) => r.url().endsWith('/api/runs/' + runId + '/undo') &&
    r.request().method() === 'POST', { timeout: 30000 });
  await page.click('#confirm-ok');
  eq((await taken).status(), 202, 'the undo was accepted');
  // The dialog closes once the API accepted the undo (slow under a loaded sanitizer build).
  await page.waitForSelector('#changes:not([open])', { state: 'attached', timeout: 30000 });
  await waitFor(async () => (await page.textContent('#toasts')).includes('Undo started'), { what: 'the toast' });
  const row = await page.waitForSelector(`#runs-body tr[data-run="${runId}"] .badge.undone`, { timeout: 40000 });
  assert(row, 'the synced run is marked undone');
  const text = await page.textContent('#runs-body tr:first-child');
  assert(text.includes('Undo of #' + runId), 'the undo run is listed: ' + text);
  await waitFor(async () => JSON.stringify((await history()).map((p) => p.id)) === JSON.stringify(before.map((p) => p.id)), { timeout: 20000, what: 'the history as before the sync' });
  await page.click(`#runs-body tr[data-run="${runId}"] .open`);
  await page.waitForSelector('#changes[open]');
  await page.waitForFunction(() => document.querySelector('#changes-note').textContent.startsWith('Undone by run #'));
  assert(await page.isHidden('#changes-undo'), 'no second Undo');
  await page.keyboard.press('Escape');
}, { key: 'undo', needs: ['confirm'], timeout: 60000 });

await t.test('Trakt History: scan for duplicates, remove the extras after confirming', async () => {
  const movie = (await s.ctl('trakt', 'GET', '/_control/state?keys=catalog')).catalog.movies[0];
  const at = '2020-05-01T10:00:';
  const seeds = ['05', '20', '40'].map((sec) => ({ watched_at: at + sec + '.000Z', type: 'movie', movie: { ids: { trakt: movie.ids.trakt } } }));
  await s.ctl('trakt', 'POST', '/_control/state', { history: seeds });
  await openTab(page, 'trakt');
  await page.waitForFunction(() => document.querySelector('#dupes-status').textContent !== '');
  await page.click('#dupes-scan');
  await page.waitForSelector('#dupes-remove:not([hidden])', { timeout: 20000 });
  eq(await page.textContent('#dupes-remove'), 'Remove 2 extra plays');
  eq(await page.locator('#dupes-list li').count(), 1, 'one group');
  assert((await page.textContent('#dupes-list')).includes('3 plays in the same minute'), 'the group');
  await shot(page, 'dupes');
  await page.click('#dupes-remove');
  await page.waitForSelector('#confirm[open]');
  assert(await page.isHidden('#confirm-alt'), 'no preview button here');
  eq(await page.textContent('#confirm-ok'), 'Remove 2');
  await page.click('#confirm-ok');
  await page.waitForSelector('#dupes-remove[hidden]', { state: 'attached', timeout: 20000 });
  await page.waitForFunction(() => document.querySelector('#dupes-status').textContent.includes('2 removed'), null, { timeout: 20000 });
  eq(await page.locator('#dupes-list li').count(), 0, 'no groups left');
  eq((await history()).length, 1, 'one play left');
}, { key: 'dupes', needs: ['stack'], timeout: 60000 });

await t.test('no page errors, no browser dialogs', async () => {
  // Posters come from the dashboard's origin: the CSP refuses nothing.
  eq(b.errors.filter((e) => !/Failed to load resource/.test(e)), [], 'page errors');
  eq(b.dialogs, [], 'alert/confirm dialogs');
}, { needs: ['stack'] });

process.exit(await t.end());
