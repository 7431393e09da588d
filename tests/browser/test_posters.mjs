// Posters from the box: Trakt History and In Progress show real posters as <img> elements
// loaded from the dashboard's own origin (/posters/NAME, which pts-worker fetched from the fake
// TMDb and nginx serves from the data folder), every one loaded (naturalWidth > 0); no request
// of the page leaves the origin and the CSP (img-src 'self' data:) reports nothing.
import { Tap, openDashboard, waitFor, assert, eq, openTab, shot } from './lib.mjs';

const t = new Tap('posters', { budgetMs: 150000 });
let s, b, page, origin;
const requests = [], violations = [];

await t.test('the stack starts with both accounts; the page opens', async () => {
  ({ s, b, page } = await openDashboard(t, { name: 'posters', accounts: true, goto: false }));
  origin = new URL(s.url).origin;
  page.on('request', (r) => requests.push(r.url()));
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
  });
  await page.goto(s.url + '/');
  await page.waitForSelector('#state');
}, { key: 'open', timeout: 60000 });

// Every poster of a list: scrolled into view (they load lazily), then loaded from the origin.
async function checkPosters(list, items, what) {
  const want = items.filter((it) => it.poster).length;
  assert(want > 0, what + ': the API gives posters');
  items.forEach((it) => assert(it.poster === null || /^\/posters\/[A-Za-z0-9_-]+\.(png|jpg|webp)$/.test(it.poster), what + ': same-origin path ' + it.poster));
  const imgs = page.locator(list + ' img.poster');
  await waitFor(async () => (await imgs.count()) === want, { timeout: 10000, what: what + ': one <img> per poster' });
  for (let i = 0; i < want; i++) await imgs.nth(i).scrollIntoViewIfNeeded();
  const got = await waitFor(async () => {
    const r = await page.$$eval(list + ' img.poster', (xs) => xs.map((x) => ({ src: x.currentSrc || x.src, ok: x.complete && x.naturalWidth > 0, w: x.naturalWidth, ratio: x.clientHeight / x.clientWidth })));
    return r.every((x) => x.ok) && r;
  }, { timeout: 15000, what: what + ': every poster loaded (naturalWidth > 0)' });
  got.forEach((x) => assert(x.src.startsWith(origin + '/posters/'), what + ': ' + x.src + ' is from ' + origin));
  got.forEach((x) => assert(Math.abs(x.ratio - 1.5) < 0.05, what + ': a poster is drawn 2:3, not ' + x.ratio.toFixed(2)));
  eq(await page.locator(list + ' .poster.ph.failed').count(), 0, what + ': no poster fell back to a tile');
  console.log(`# ${what}: ${got.length} posters loaded from ${origin}/posters/ (${got[0].w} px wide)`);
}

await t.test('Trakt History: every poster is an image from the origin that has loaded', async () => {
  const before = (await s.api('GET', '/api/trakt/history')).body.fetched_at;
  eq((await s.api('POST', '/api/trakt/history/refresh', {})).status, 202, 'refresh queued');
  await waitFor(async () => { const f = (await s.api('GET', '/api/trakt/history')).body.fetched_at; return f && f !== before; }, { timeout: 30000, what: 'history fetched' });
  await openTab(page, 'trakt');
  await page.waitForSelector('#trakt-list li', { timeout: 20000 });
  await checkPosters('#trakt-list', (await s.api('GET', '/api/trakt/history')).body.items, 'Trakt History');
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, 'posters-trakt');
}, { key: 'trakt', needs: ['open'], timeout: 60000 });

await t.test('In Progress: every poster is an image from the origin that has loaded', async () => {
  await openTab(page, 'inprogress');
  await page.waitForSelector('#ip-list li', { timeout: 40000 });
  const items = await waitFor(async () => { const bd = (await s.api('GET', '/api/plex/in-progress')).body; return bd.fetched_at && bd.items.length && bd.items; }, { timeout: 30000, what: 'in-progress fetched' });
  await checkPosters('#ip-list', items, 'In Progress');
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, 'posters-inprogress');
}, { key: 'inprog', needs: ['open'], timeout: 60000 });

await t.test('no request left the origin; no CSP report, no console error', async () => {
  const away = requests.filter((u) => !u.startsWith(origin + '/') && !u.startsWith('data:'));
  eq(away, [], 'requests to other origins');
  assert(requests.some((u) => u.startsWith(origin + '/posters/')), 'posters were requested from the origin');
  eq(await page.evaluate(() => window.__csp), [], 'CSP violations');
  eq(b.errors, [], 'console errors');
  eq(b.dialogs, [], 'dialogs');
}, { needs: ['open'], timeout: 20000 });

process.exit(await t.end());
