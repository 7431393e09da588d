// The dashboard under the hardened edge: it works on http://localhost:PORT and
// http://127.0.0.1:PORT (the Host rule), ignores an unknown #hash, warns about a plain http://
// Plex URL to another machine, asks for the current password to change one, and opens on
// "choose a password" when PTS_REQUIRE_PASSWORD is on. Needs pts-cgi only.
import { Tap, openDashboard, startStack, waitFor, assert, eq, shot, openSettings } from './lib.mjs';

const t = new Tap('hardening', { budgetMs: 170000 });
const PW = 'open sesame 1', PW2 = 'open sesame 2';
let s, b, page;

await t.test('the stack starts', async () => {
  ({ s, b, page } = await openDashboard(t, { name: 'hardening', goto: false }));
}, { key: 'stack', timeout: 70000 });

// The page loads, asks the API for its status and saves a setting (a PUT with an Origin).
async function dashboardWorks(origin) {
  const puts = [];
  const onResponse = (r) => { if (r.request().method() === 'PUT' && r.url().endsWith('/api/settings')) puts.push(r.status()); };
  page.on('response', onResponse);
  try {
    const res = await page.goto(origin + '/');
    eq(res.status(), 200, 'GET / on ' + origin);
    await page.waitForFunction(() => document.querySelector('#plex-user').textContent !== '…', null, { timeout: 10000 });
    eq(await page.textContent('#state-text'), 'Idle', 'status pill');
    await page.fill('#interval', '7');
    await page.press('#interval', 'Enter');
    await waitFor(() => puts.length > 0, { what: 'the interval PUT' });
    eq(puts, [200], 'PUT /api/settings from ' + origin);
    const r = await s.api('GET', '/api/settings');
    eq(r.body.sync_interval_hours, 7, 'the interval was saved');
    await s.api('PUT', '/api/settings', { sync_interval_hours: 6 });
    eq(b.errors, [], 'console errors');
  } finally { page.off('response', onResponse); }
}

await t.test('the dashboard works on http://localhost:PORT', async () => {
  await dashboardWorks(s.url.replace('127.0.0.1', 'localhost'));
}, { needs: ['stack'] });

await t.test('the dashboard works on http://127.0.0.1:PORT', async () => {
  await dashboardWorks(s.url);
}, { key: 'open', needs: ['stack'] });

await t.test('an unknown #hash (/#x]) is ignored: the page starts and calls the API', async () => {
  const calls = [];
  const onRequest = (r) => { if (r.url().includes('/api/')) calls.push(r.url()); };
  page.on('request', onRequest);
  try {
    await page.goto('about:blank');
    await page.goto(s.url + '/#x]');
    await page.waitForFunction(() => document.querySelector('#plex-user').textContent !== '…', null, { timeout: 10000 });
    assert(calls.some((u) => u.endsWith('/api/status')), 'GET /api/status was made: ' + calls.join(' '));
    eq(await page.getAttribute('#tab-progress', 'aria-selected'), 'true', 'the first tab is shown');
    assert(await page.isVisible('#panel-progress'), 'its panel is visible');
    eq(b.errors, [], 'no page errors');
    // A later hash change of the same kind is ignored too.
    await page.evaluate(() => { location.hash = '#a"b[c'; });
    await page.click('#tab-log');
    await page.waitForSelector('#panel-log:not([hidden])');
    eq(b.errors, [], 'no page errors after a hash change');
  } finally { page.off('request', onRequest); }
}, { needs: ['open'] });

await t.test('Settings warns when plex_url is plain http:// to another machine', async () => {
  await page.goto(s.url + '/');
  await openSettings(page);
  const warning = async (url) => {
    await page.fill('#f-plex_url', url);
    return (await page.textContent('#w-plex_url')).trim();
  };
  for (const url of ['http://192.168.1.10:32400', 'http://nas.lan:32400', 'http://10.0.0.5', 'http://plex.example.com:32400/']) {
    const w = await warning(url);
    assert(/unencrypted/.test(w) && /token/.test(w), url + ': warned (' + w + ')');
    assert(await page.isVisible('#w-plex_url'), url + ': the warning is visible');
  }
  await shot(page, 'settings-plain-http');
  for (const url of ['https://192.168.1.10:32400', 'http://127.0.0.1:32400', 'http://127.5.0.1', 'http://localhost:32400', 'http://[::1]:32400', '']) {
    eq(await warning(url), '', url + ': no warning');
  }
  // The stored URL (the fake Plex on 127.0.0.1) shows none when the dialog opens.
  await page.keyboard.press('Escape');
  await openSettings(page);
  eq((await page.textContent('#w-plex_url')).trim(), '', 'no warning for the loopback fake');
  await page.keyboard.press('Escape');
}, { needs: ['open'] });

await t.test('changing the dashboard password asks for the current one', async () => {
  let r = await s.api('PUT', '/api/settings', { dashboard_password: PW });
  eq(r.status, 200, 'set the password');
  try {
    await page.goto(s.url + '/');
    await page.waitForSelector('#login[open]');
    await page.fill('#login-pw', PW);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#login:not([open])', { state: 'attached' });
    await openSettings(page);
    assert(await page.isVisible('#f-current_password'), 'the current password field is shown');
    // Without the current password: refused beside the field, nothing saved.
    await page.fill('#f-dashboard_password', PW2);
    await page.click('#settings-save');
    await page.waitForSelector('#e-current_password:not(:empty)');
    assert(await page.isVisible('#settings[open]'), 'the dialog stays open');
    // A short new one: the length rule beside the password field.
    await page.fill('#f-dashboard_password', 'short');
    await page.fill('#f-current_password', PW);
    await page.click('#settings-save');
    await page.waitForSelector('#e-dashboard_password:not(:empty)');
    assert(/8/.test(await page.textContent('#e-dashboard_password')), 'says 8 characters');
    // With the right current password it is saved.
    await page.fill('#f-dashboard_password', PW2);
    await page.fill('#f-current_password', PW);
    await page.click('#settings-save');
    await page.waitForSelector('#settings:not([open])', { state: 'attached' });
    r = await page.evaluate(async (pw) => (await fetch('/api/login', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Requested-With': 'XMLHttpRequest' }, body: JSON.stringify({ password: pw }) })).status, PW2);
    eq(r, 200, 'the new password logs in');
    eq(b.errors.filter((e) => !/status of 4(00|01|03)/.test(e)), [], 'console errors');
  } finally {
    const st = await page.evaluate(async (pw) => (await fetch('/api/settings', {
      method: 'PUT', headers: { 'Content-Type': 'application/json', 'X-Requested-With': 'XMLHttpRequest' },
      body: JSON.stringify({ dashboard_password: '', current_password: pw }),
    })).status, PW2);
    eq(st, 200, 'password removed');
  }
}, { needs: ['open'] });

await t.test('PTS_REQUIRE_PASSWORD=1: the dashboard opens on "choose a password"', async () => {
  const s2 = await startStack({ name: 'hardening-require', settings: false, env: { PTS_REQUIRE_PASSWORD: '1' } });
  t.onCleanup(() => s2.stop());
  b.errors.length = 0;
  await page.goto(s2.url + '/');
  await page.waitForSelector('#choose-pw[open]');
  await shot(page, 'choose-password');
  await page.fill('#choose-pw-1', 'short');
  await page.fill('#choose-pw-2', 'short');
  await page.click('#choose-pw-form button[type=submit]');
  await page.waitForSelector('#choose-pw-err:not(:empty)');
  await page.fill('#choose-pw-1', PW);
  await page.fill('#choose-pw-2', PW + 'x');
  await page.click('#choose-pw-form button[type=submit]');
  await waitFor(async () => /differ/.test(await page.textContent('#choose-pw-err')), { what: 'the mismatch message' });
  eq((await s2.api('GET', '/api/settings')).body.error.code, 'password_required', 'still no password');
  await page.fill('#choose-pw-2', PW);
  await page.click('#choose-pw-form button[type=submit]');
  await page.waitForSelector('#choose-pw:not([open])', { state: 'attached' });
  // Set and signed in: the dashboard goes on.
  await page.waitForFunction(() => document.querySelector('#plex-user').textContent !== '…', null, { timeout: 10000 });
  await openSettings(page);
  eq(await page.textContent('#s-dashboard_password'), 'set');
  await page.keyboard.press('Escape');
  eq((await s2.api('GET', '/api/settings')).status, 401, 'a client without the session needs a login now');
  eq(b.errors.filter((e) => !/status of 4(00|01|03)/.test(e)), [], 'console errors');
  // Signed out, five wrong passwords pause logins: the form says so (the right one waits too).
  await b.ctx.clearCookies();
  await page.reload();
  await page.waitForSelector('#login[open]');
  for (let i = 0; i < 5; i++) {
    await page.fill('#login-pw', 'wrong ' + i);
    await page.click('#login-form button[type=submit]');
    await waitFor(async () => (await page.textContent('#login-err')) === 'Wrong password.', { what: 'wrong password ' + i });
    await page.evaluate(() => { document.querySelector('#login-err').textContent = ''; });
  }
  await page.fill('#login-pw', PW);
  await page.click('#login-form button[type=submit]');
  await waitFor(async () => /^Too many wrong passwords\. Try again in \d+s\.$/.test(await page.textContent('#login-err')), { what: 'the pause message' });
  assert(await page.isVisible('#login[open]'), 'still signed out');
  await s2.stop();
}, { needs: ['open'], timeout: 90000 });

process.exit(await t.end());
