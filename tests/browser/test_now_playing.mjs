// The "Now playing" card on Live Progress: a stream starts on the fake Plex, the card appears
// with its poster (from the origin, with alt text), title, user and Trakt state; the progress
// bar moves as the stream goes on; the card goes when the stream ends. An item without a
// poster shows a placeholder; a stream that ends past 80 % stays a moment as "Scrobbled to
// Trakt". Needs the live scrobbler (pts-worker, PTS_SCROBBLE_POLL_MS).
import { Tap, openDashboard, waitFor, eq, shot } from './lib.mjs';

const t = new Tap('now_playing', { budgetMs: 150000 });
let s, b, page;
const DURATION = 6000000;   // ms
const stream = (percent, state = 'playing', ratingKey = '102', sessionKey = '1') => ({ sessionKey, ratingKey, state, user_id: '1',
  user: 'plexuser', player: 'Living Room TV', duration: DURATION, viewOffset: Math.round(DURATION * percent / 100) });
const barNow = () => page.getAttribute('#np-list [role="progressbar"]', 'aria-valuenow');

await t.test('the stack starts with Plex and Trakt signed in; no card while nothing plays', async () => {
  ({ s, b, page } = await openDashboard(t, { name: 'nowplaying', env: { PTS_SCROBBLE_POLL_MS: '200' }, accounts: true }));
  await page.waitForSelector('#prog-idle:not([hidden])');
  eq(await page.isHidden('#now-playing'), true, 'no Now playing card');
}, { key: 'setup', timeout: 100000 });

await t.test('a stream starts: the card shows it, watching on Trakt', async () => {
  await s.ctl('plex', 'POST', '/_control/sessions', { sessions: [stream(10)] });
  await page.waitForSelector('#now-playing:not([hidden])', { timeout: 20000 });
  await waitFor(async () => (await page.textContent('#np-list .np-trakt')) === 'Watching on Trakt', { what: 'Trakt watching' });
  eq(await page.textContent('#np-list .np-title'), 'The Dark Knight (2008)');
  const who = await page.textContent('#np-list .np-who');
  eq(who.startsWith('plexuser · Living Room TV · playing'), true, 'user, player, state: ' + who);
  eq(await barNow(), '10', 'progress bar at 10 %');
  // The poster, looked up off the poll loop, arrives on a later read: an image from the origin.
  const img = page.locator('#np-list img.np-poster');
  await img.waitFor({ timeout: 20000 });
  eq(await img.getAttribute('alt'), 'Poster: The Dark Knight (2008)', 'the poster has alt text');
  const loaded = await waitFor(async () => img.evaluate((x) => x.complete && x.naturalWidth > 0 && x.currentSrc), { what: 'the poster loaded', timeout: 15000 });
  eq(new URL(loaded).pathname.startsWith('/posters/'), true, 'served from /posters/: ' + loaded);
  await shot(page, 'now-playing');
}, { key: 'shown', needs: ['setup'], timeout: 40000 });

await t.test('the bar moves; a pause shows; the card goes when the stream ends', async () => {
  await s.ctl('plex', 'POST', '/_control/sessions', { sessions: [stream(55)] });
  await waitFor(async () => (await barNow()) === '55', { what: 'the bar at 55 %', timeout: 20000 });
  await s.ctl('plex', 'POST', '/_control/sessions', { sessions: [stream(56, 'paused')] });
  await waitFor(async () => (await page.textContent('#np-list .np-trakt')) === 'Paused on Trakt', { what: 'Trakt paused', timeout: 20000 });
  await s.ctl('plex', 'POST', '/_control/sessions', { sessions: [] });
  await page.waitForSelector('#now-playing', { state: 'hidden', timeout: 20000 });
}, { key: 'gone', needs: ['shown'], timeout: 60000 });

await t.test('an item without a poster shows a placeholder; a finished viewing shows "Scrobbled to Trakt"', async () => {
  await s.ctl('plex', 'POST', '/_control/sessions', { sessions: [stream(90), stream(10, 'playing', '109', '2')] });
  const home = page.locator('#np-list li', { hasText: 'Home Video 2019' });
  await home.waitFor({ timeout: 20000 });
  await waitFor(async () => (await home.locator('.np-poster.ph').count()) === 1, { what: 'the placeholder', timeout: 20000 });
  eq(await home.locator('.np-poster.ph').getAttribute('aria-label'), 'No poster: Home Video 2019 (2019)', 'the placeholder is labelled');
  eq(await home.locator('img').count(), 0, 'no image for it');
  const dk = page.locator('#np-list li', { hasText: 'The Dark Knight' });
  await waitFor(async () => (await dk.locator('.np-trakt').textContent()) === 'Watching on Trakt', { what: 'watching again', timeout: 20000 });
  await s.ctl('plex', 'POST', '/_control/sessions', { sessions: [] });
  await waitFor(async () => (await page.locator('#np-list li').count()) === 1 && (await page.textContent('#np-list .np-trakt')) === 'Scrobbled to Trakt', { what: 'Scrobbled to Trakt', timeout: 20000 });
  eq(await page.textContent('#np-list .np-title'), 'The Dark Knight (2008)');
  eq(await page.isHidden('#now-playing'), false, 'the card stays while it says so');
  await waitFor(async () => (await page.textContent('#prog-idle')).includes('Live scrobble run'), { what: 'the last run named as the live scrobble', timeout: 20000 });
  await shot(page, 'now-playing-scrobbled');
  eq(b.errors, [], 'no page errors');
  eq(b.dialogs, [], 'no alert() dialogs');
}, { needs: ['gone'], timeout: 60000 });

process.exit(await t.end());
