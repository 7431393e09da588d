// The Plex webhook in Settings: the URL is built from the page's origin and the API's
// url_path; Rotate needs a second click, then shows a new URL, and the old one stops working.
import { Tap, openDashboard, waitFor, assert, eq, shot, openSettings } from './lib.mjs';

const t = new Tap('webhook_settings', { budgetMs: 120000 });
let s, b, page;

await t.test('the stack starts; Settings shows the webhook URL', async () => {
  ({ s, b, page } = await openDashboard(t, { name: 'webhook' }));
  await openSettings(page);
  const api = (await s.api('GET', '/api/webhooks/plex')).body;
  const got = await waitFor(async () => (await page.inputValue('#webhook-url')) || null, { what: 'the webhook URL' });
  eq(got, s.url + api.url_path, 'location.origin + url_path');
  assert(/\?token=[0-9a-f]{64}$/.test(got), 'the URL ends in its token: ' + got);
  eq(await page.getAttribute('#webhook-url', 'readonly'), '', 'read-only');
  await page.locator('#webhook-url').scrollIntoViewIfNeeded();
  await shot(page, 'settings-webhook');
}, { key: 'setup', timeout: 90000 });

await t.test('Rotate: a second click makes a new URL; the old one answers 403', async () => {
  const old = await page.inputValue('#webhook-url');
  await page.click('#webhook-rotate');
  eq(await page.inputValue('#webhook-url'), old, 'one click changes nothing');
  assert((await page.textContent('#webhook-rotate')).includes('again'), 'the button asks for a second click');
  await page.click('#webhook-rotate');
  const now = await waitFor(async () => { const v = await page.inputValue('#webhook-url'); return v !== old && v; }, { what: 'a new URL' });
  const api = (await s.api('GET', '/api/webhooks/plex')).body;
  eq(now, s.url + api.url_path, 'the page shows the API\'s new URL');
  const post = async (url) => (await fetch(url, { method: 'POST', headers: { 'Content-Type': 'multipart/form-data; boundary=b' },
    body: '--b\r\nContent-Disposition: form-data; name="payload"\r\n\r\n{"event":"media.play"}\r\n--b--\r\n' })).status;
  eq(await post(old), 403, 'the old URL');
  eq(await post(now), 200, 'the new URL (an ignored event)');
  eq(b.errors, [], 'no page errors');
  eq(b.dialogs, [], 'no alert() dialogs');
}, { needs: ['setup'], timeout: 30000 });

process.exit(await t.end());
