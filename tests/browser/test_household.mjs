// The Household tab as a family meets it: the owner fetches the server's Plex users, adds
// Hannah (a Plex Home user) as a person, lands on her dashboard (the switcher names her, the
// accounts strip shows her Plex user and no Trakt sign-in, Settings shows her settings only),
// switches back and deletes her with her name typed as confirmation. Screenshots of the tab
// at desktop and phone widths, dark and light.
import { Tap, openDashboard, waitFor, eq, assert, shot, openTab, openSettings, axe } from './lib.mjs';

const t = new Tap('household', { budgetMs: 170000 });
let s, b, page;

await t.test('the stack starts with the owner signed in; one profile, no switcher', async () => {
  ({ s, b, page } = await openDashboard(t, { name: 'household', accounts: true, browser: { bypassCSP: true } }));
  await page.waitForSelector('#prog-idle:not([hidden])');
  eq(await page.isHidden('#profile-pick'), true, 'no switcher with one profile');
  await openTab(page, 'household');
  await waitFor(async () => (await page.$$('#hh-list .person')).length === 1, { what: 'the owner listed' });
  const owner = await page.textContent('#hh-list .person');
  assert(owner.includes('Owner') && owner.includes('Shown now'), 'the owner is listed as shown: ' + owner);
}, { key: 'setup', timeout: 100000 });

await t.test('Fetch Plex users lists the people without a profile; Add person opens her dashboard', async () => {
  await page.click('#hh-users-refresh');
  await waitFor(async () => (await page.$$('#hh-user option')).length > 1, { what: 'Plex users in the list', timeout: 30000 });
  const opts = await page.$$eval('#hh-user option', (os) => os.map((o) => o.textContent));
  assert(opts.some((o) => o.startsWith('Hannah Home · Plex Home user')), 'Hannah offered: ' + opts.join(' | '));
  assert(!opts.some((o) => o.includes('Server owner')), 'the owner is not offered again');
  // Adding without a choice says what is missing, and adds nothing.
  await page.click('#hh-add');
  eq(await page.textContent('#e-hh-user'), 'Choose the Plex user this person watches as.');
  await page.selectOption('#hh-user', { label: opts.find((o) => o.startsWith('Hannah Home')) });
  eq(await page.inputValue('#hh-name'), 'Hannah Home', 'the name is filled from the Plex user');
  await page.fill('#hh-name', 'Hannah');
  await Promise.all([page.waitForURL(/\?profile=2/), page.click('#hh-add')]);
  await page.waitForSelector('#profile-pick:not([hidden])');
  eq(await page.$eval('#profile-sel', (sel) => sel.selectedOptions[0].textContent), 'Hannah');
  await waitFor(async () => (await page.textContent('#trakt-user')) === 'not connected', { what: 'her Trakt not connected' });
  await waitFor(async () => (await page.textContent('#plex-user')) === 'Hannah Home', { what: 'her Plex user in the strip', timeout: 30000 });
  eq(await page.title(), 'Hannah · Plex-Trakt Sync');
}, { key: 'added', needs: ['setup'], timeout: 60000 });

await t.test('her Settings hold her settings only; the server-wide ones stay on the owner', async () => {
  await openSettings(page);
  eq(await page.textContent('#settings-title'), 'Settings · Hannah');
  eq(await page.isVisible('#settings-person'), true, 'the note on whose settings these are');
  for (const id of ['#f-plex_url', '#f-trakt_client_id', '#f-trakt_client_secret', '#webhook-url', '#f-dashboard_password']) {
    eq(await page.isVisible(id), false, id + ' hidden on her dashboard');
  }
  for (const id of ['#trakt-auth', '#f-sync_direction', '#f-sync_ratings', '#libs-fetch']) eq(await page.isVisible(id), true, id + ' shown');
  // Her own choice is saved on her profile, the owner's stays.
  await page.check('#f-sync_ratings');
  await page.click('#settings-save');
  await page.waitForSelector('#settings', { state: 'hidden' });
  eq((await s.api('GET', '/api/settings?profile=2')).body.sync_ratings, true, 'saved on her profile');
  eq((await s.api('GET', '/api/settings')).body.sync_ratings, false, "the owner's unchanged");
}, { key: 'settings', needs: ['added'], timeout: 30000 });

await t.test('the Household tab at desktop and phone widths, dark and light; no axe violations', async () => {
  await openTab(page, 'household');
  await waitFor(async () => (await page.$$('#hh-list .person')).length === 2, { what: 'two people' });
  const v = await axe(page);
  eq(v, [], 'axe-core violations');
  await shot(page, 'household-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await page.evaluate(() => { localStorage.removeItem('pts-theme'); });
  await page.reload();
  await page.waitForSelector('#panel-household:not([hidden]) .person');
  await shot(page, 'household-light');
  await page.setViewportSize({ width: 390, height: 844 });
  await shot(page, 'household-phone-light');
  await page.emulateMedia({ colorScheme: 'dark' });
  await shot(page, 'household-phone-dark');
  await page.setViewportSize({ width: 1280, height: 800 });
}, { key: 'shots', needs: ['settings'], timeout: 40000 });

await t.test('the switcher goes back to the owner; deleting Hannah needs her name typed', async () => {
  await Promise.all([page.waitForURL((u) => !u.search.includes('profile=')), page.selectOption('#profile-sel', '1')]);
  await openTab(page, 'household');
  await waitFor(async () => (await page.$$('#hh-list .person')).length === 2, { what: 'two people' });
  const cards = await page.$$('#hh-list .person');
  const del = await cards[1].$('button.danger');
  await del.click();
  await page.waitForSelector('#hh-delete[open]');
  await page.fill('#hh-del-confirm', 'hannah');
  await page.click('#hh-del-ok');
  eq(await page.textContent('#e-hh-del'), 'Type the name exactly as shown: Hannah');
  eq((await s.api('GET', '/api/profiles')).body.profiles.length, 2, 'nothing deleted on a wrong name');
  await page.fill('#hh-del-confirm', 'Hannah');
  await page.click('#hh-del-ok');
  await page.waitForSelector('#hh-delete', { state: 'hidden' });
  await waitFor(async () => (await page.$$('#hh-list .person')).length === 1, { what: 'one person left' });
  eq((await s.api('GET', '/api/profiles')).body.profiles.map((p) => p.id), [1]);
  eq(b.errors, [], 'no page errors');
  eq(b.dialogs, [], 'no alert() dialogs');
}, { needs: ['shots'], timeout: 40000 });

process.exit(await t.end());
