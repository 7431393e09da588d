// Settings shows which Plex watchlist is synced: the account's (the default) or a server
// collection, whose name field appears only then; the choice is saved through the API.
import { Tap, openDashboard, waitFor, assert, eq, shot, openSettings } from './lib.mjs';

const t = new Tap('watchlist_side', { budgetMs: 120000 });
let s, b, page;

await t.test('Settings says the account watchlist is synced, without a collection field', async () => {
  ({ s, b, page } = await openDashboard(t, { name: 'wlside' }));
  await openSettings(page);
  eq(await page.inputValue('#f-watchlist_plex_side'), 'account', 'the default');
  assert((await page.textContent('#wl-side-help')).includes('Plex account'), 'the help names the account');
  eq(await page.isVisible('#f-watchlist_collection'), false, 'no collection name to type');
  await page.locator('#f-watchlist_plex_side').scrollIntoViewIfNeeded();
  await shot(page, 'settings-watchlist-account');
}, { key: 'setup', timeout: 90000 });

await t.test('Choosing a collection shows its name and is saved', async () => {
  await page.selectOption('#f-watchlist_plex_side', 'collection');
  assert(await page.isVisible('#f-watchlist_collection'), 'the collection name appears');
  assert((await page.textContent('#wl-side-help')).includes('collection'), 'the help names the collection');
  await page.click('#settings-save');
  const got = await waitFor(async () => {
    const v = (await s.api('GET', '/api/settings')).body.watchlist_plex_side;
    return v === 'collection' && v;
  }, { what: 'the saved setting' });
  eq(got, 'collection', 'PUT /api/settings took it');
  await openSettings(page);
  eq(await page.inputValue('#f-watchlist_plex_side'), 'collection', 'shown again on reopening');
  eq(b.errors, [], 'no page errors');
}, { needs: ['setup'], timeout: 30000 });

await t.test('The collection name and the ratings rule are shown and saved like the other fields', async () => {
  await page.keyboard.press('Escape');   // the dialog the last test reopened
  await openSettings(page);
  eq(await page.inputValue('#f-watchlist_collection'), 'Watchlist', 'the stored name is filled in');
  eq(await page.inputValue('#f-ratings_conflict'), 'newest', 'the stored rule is selected');
  await page.fill('#f-watchlist_collection', 'To Watch');
  await page.selectOption('#f-ratings_conflict', 'trakt');
  await page.click('#settings-save');
  const got = await waitFor(async () => {
    const b2 = (await s.api('GET', '/api/settings')).body;
    return b2.watchlist_collection === 'To Watch' && b2.ratings_conflict === 'trakt' && b2;
  }, { what: 'the saved name and rule' });
  eq([got.watchlist_collection, got.ratings_conflict], ['To Watch', 'trakt'], 'PUT /api/settings took both');
  eq(b.errors, [], 'no page errors');
}, { needs: ['setup'], timeout: 30000 });

process.exit(await t.end());
