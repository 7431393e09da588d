// Titles are untrusted: markup in a library name, a Plex title or a Trakt title must show as
// text and run nothing. The fake Plex gets a hostile library name and an in-progress movie
// titled <img src=x onerror=...>; the fake Trakt history holds <script>alert('trakt')</script>.
import { Tap, startStack, launch, setupAccounts, waitFor, assert, eq, openTab, openSettings } from './lib.mjs';

const HOSTILE_LIB = '<img src=x onerror="window.__pwned=1;alert(1)">Films';
const HOSTILE_MOVIE = '<img src=x onerror=alert(1)>';       // rk 106 of the default corpus
const HOSTILE_TRAKT = "<script>alert('trakt')</script>";
const t = new Tap('hostile_titles', { budgetMs: 150000 });
let s, b, page;

// Nothing ran, and no element was made from a title.
async function clean(where) {
  const r = await page.evaluate(() => ({
    pwned: typeof window.__pwned,
    imgs: document.querySelectorAll('img[src="x"], img[src$="/x"]').length,
    scripts: [...document.scripts].map((x) => x.getAttribute('src')),
  }));
  eq(r.pwned, 'undefined', where + ': window.__pwned');
  eq(r.imgs, 0, where + ': <img src=x> elements');
  eq(r.scripts, ['app.js'], where + ': scripts');
  eq(b.dialogs, [], where + ': dialogs');
  assert(!b.errors.some((e) => e.startsWith('pageerror')), where + ': ' + b.errors.join('; '));
}
// Some element's whole text is exactly this title.
const hasText = (sel, text) => page.evaluate(([s2, t2]) => [...document.querySelectorAll(s2)].some((e) => e.textContent === t2), [sel, text]);

await t.test('the stack starts; the fake Plex gets hostile titles', async () => {
  s = await startStack({ name: 'hostile' });
  t.onCleanup(() => s.stop());
  const st = await s.ctl('plex', 'GET', '/_control/state?items=0');
  const sections = st.sections.map((x) => (x.key === '3' ? { ...x, title: HOSTILE_LIB } : x));
  await s.ctl('plex', 'POST', '/_control/state', {
    sections, update_items: [{ ratingKey: '106', viewOffset: 1800000, duration: 6000000, lastViewedAt: Math.floor(Date.now() / 1000) - 600 }],
  });
  b = await launch();
  t.onCleanup(() => b.close());
  page = t.page = b.page;
  await page.goto(s.url + '/');
  await page.waitForSelector('#state');
}, { key: 'stack', timeout: 70000 });

await t.test('accounts and libraries set up through the API', async () => {
  const libs = await setupAccounts(s);
  assert(libs.some((l) => l.title === HOSTILE_LIB), 'the hostile library came through: ' + JSON.stringify(libs.map((l) => l.title)));
}, { key: 'setup', needs: ['stack'], timeout: 100000 });

await t.test('Settings: a hostile library name shows as text', async () => {
  await openSettings(page);
  await page.waitForSelector('#libs li');
  assert(await hasText('#libs label span', HOSTILE_LIB), 'the library name as text');
  await clean('settings');
  await page.keyboard.press('Escape');
}, { needs: ['setup'] });

await t.test('In Progress: a hostile Plex title shows as text', async () => {
  await openTab(page, 'inprogress');
  await waitFor(() => hasText('#ip-list .item-title', HOSTILE_MOVIE), { timeout: 40000, what: 'the hostile in-progress movie' });
  eq(await page.getAttribute('#ip-list .item-title >> nth=0', 'title') !== null, true, 'title attribute set safely');
  await clean('in progress');
}, { needs: ['setup'], timeout: 50000 });

await t.test('Trakt History: a hostile Trakt title shows as text', async () => {
  await openTab(page, 'trakt');
  await page.click('#trakt-refresh');
  await waitFor(() => hasText('#trakt-list .item-title', HOSTILE_TRAKT), { timeout: 40000, what: 'the hostile Trakt play' });
  await clean('trakt history');
}, { needs: ['setup'], timeout: 50000 });

await t.test('a sync: hostile titles in the progress, the log and the run changes stay text', async () => {
  await openTab(page, 'progress');
  await page.click('#run');
  await page.waitForSelector('#prog-idle:not([hidden]) #last-run .badge', { timeout: 60000 });
  await openTab(page, 'log');
  await page.waitForSelector('#log-lines .ll');
  await openTab(page, 'runs');
  await page.locator('#runs-body tr .open').first().click();
  await page.waitForSelector('#changes-list li', { timeout: 10000 });
  assert(await page.evaluate((tt) => document.querySelector('#changes-list').textContent.includes(tt), HOSTILE_MOVIE), 'the hostile movie is among the changes, as text');
  await page.keyboard.press('Escape');
  await clean('after the sync');
}, { needs: ['setup'], timeout: 80000 });

process.exit(await t.end());
