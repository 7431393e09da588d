// The metrics token in Settings: a secret field like the others (set / not set, never shown);
// a short one is refused with the API's reason; once saved, a scraper's Bearer header reads
// /api/metrics with a dashboard password set, and a wrong one gets 401.
import { Tap, openDashboard, assert, eq, shot, openSettings } from './lib.mjs';

const t = new Tap('metrics_token', { budgetMs: 120000 });
const TOKEN = 'scraper-0123456789-abcdef';
const PASSWORD = 'open sesame 1';
let s, b, page;

await t.test('the stack starts; Settings shows the token as not set', async () => {
  ({ s, b, page } = await openDashboard(t, { name: 'metrics-token' }));
  await openSettings(page);
  eq(await page.textContent('#s-metrics_token'), 'not set');
  eq(await page.getAttribute('#f-metrics_token', 'type'), 'password');
  eq(await page.inputValue('#f-metrics_token'), '');
}, { key: 'setup', timeout: 90000 });

await t.test('a short token is refused with the reason; nothing is saved', async () => {
  eq(b.errors, [], 'no page errors before');
  await page.fill('#f-metrics_token', 'too-short');
  await page.click('#settings-save');
  await page.waitForSelector('#e-metrics_token:not(:empty)');
  assert(/length/.test(await page.textContent('#e-metrics_token')), 'the reason is shown');
  eq(await page.getAttribute('#f-metrics_token', 'aria-invalid'), 'true');
  eq((await s.api('GET', '/api/settings')).body.metrics_token, { set: false });
}, { key: 'short', needs: ['setup'] });

await t.test('Save stores it: "set", the input empty again, Bearer reads the metrics', async () => {
  await page.fill('#f-metrics_token', TOKEN);
  await page.click('#settings-save');
  await page.waitForSelector('#settings:not([open])', { state: 'attached' });
  eq((await s.api('GET', '/api/settings')).body.metrics_token, { set: true });
  await openSettings(page);
  eq(await page.textContent('#s-metrics_token'), 'set');
  eq(await page.inputValue('#f-metrics_token'), '', 'the token is never shown again');
  await page.locator('#f-metrics_token').scrollIntoViewIfNeeded();
  await shot(page, 'settings-metrics-token');
  await page.keyboard.press('Escape');
  eq((await s.api('PUT', '/api/settings', { dashboard_password: PASSWORD })).status, 200);
  const get = async (auth) => (await fetch(s.url + '/api/metrics', auth ? { headers: { Authorization: auth } } : {})).status;
  eq(await get(null), 401, 'no token, a password set');
  eq(await get('Bearer ' + TOKEN), 200, 'the token');
  eq(await get('Bearer ' + TOKEN + 'x'), 401, 'a wrong token');
  // The refused save's 400 is the one console line.
  eq(b.errors.filter((e) => !/status of 400/.test(e)), [], 'no other page errors');
}, { needs: ['short'] });

process.exit(await t.end());
