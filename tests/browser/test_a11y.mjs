// Accessibility (WCAG 2.1 AA): axe-core over every tab and dialog before sign-in, during a
// sync, during a rate-limit wait and after a sync, at 1280 and 320 px, in the dark and the
// light system scheme; keyboard-only walks of the main flows with focus checked after each
// step; the live regions (the wait countdown is not assertive and not spoken every second).
// Screenshots of every state go to tests/screenshots/a11y-*.
import { Tap, startStack, launch, setupAccounts, waitFor, assert, eq, shot, axe, focused, sleep } from './lib.mjs';

const TABS = ['progress', 'log', 'runs', 'trakt', 'inprogress'];
const VIEWS = [{ w: 1280, h: 800, scheme: 'dark' }, { w: 1280, h: 800, scheme: 'light' },
  { w: 320, h: 640, scheme: 'dark' }, { w: 320, h: 640, scheme: 'light' }];
const t = new Tap('a11y', { budgetMs: 420000 });
let s, b, page;
let checked = 0;

// axe on the page as it is now; throws with every violation.
async function clean(label) {
  const v = await axe(page);
  checked++;
  if (v.length) throw new Error(label + ': ' + v.length + ' axe violation(s):\n' + v.join('\n'));
}
async function view({ w, h, scheme }) {
  await page.setViewportSize({ width: w, height: h });
  await page.emulateMedia({ colorScheme: scheme });
}
const tag = (v) => v.w + '-' + v.scheme;
// The dialog's close event (which moves focus back) comes a task after it closes.
async function closed(sel) {
  await page.waitForFunction((q) => !document.querySelector(q).open, sel);
  await sleep(150);
}
async function tab(name) {
  await page.click('#tab-' + name);
  await page.waitForSelector('#panel-' + name + ':not([hidden])');
  await sleep(250);
}
// Every tab (and, with dialogs, the Settings dialog) in every view, each checked by axe.
async function sweep(stage, { dialogs = true } = {}) {
  const bad = [];
  for (const v of VIEWS) {
    await view(v);
    for (const name of TABS) {
      await tab(name);
      try { await clean(stage + ' ' + name + ' ' + tag(v)); } catch (e) { bad.push(e.message); }
      await shot(page, 'a11y-' + stage + '-' + name + '-' + v.scheme);
    }
    // No side scroll at any width (WCAG 1.4.10 reflow).
    const over = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    if (over > 0) bad.push(stage + ' ' + tag(v) + ': the page scrolls ' + over + ' px sideways');
    if (dialogs) {
      await page.click('#open-settings');
      await page.waitForSelector('#settings[data-loaded="1"]');
      try { await clean(stage + ' settings ' + tag(v)); } catch (e) { bad.push(e.message); }
      await shot(page, 'a11y-' + stage + '-settings-' + v.scheme);
      await page.keyboard.press('Escape');
      await page.waitForFunction(() => !document.querySelector('#settings').open);
    }
  }
  if (bad.length) throw new Error(bad.join('\n'));
}

await t.test('the stack starts; the page follows the system scheme', async () => {
  s = await startStack({ name: 'a11y', generate: 'movies=40,shows=3,episodes=30,watched=0.6,seed=5' });
  t.onCleanup(() => s.stop());
  b = await launch({ colorScheme: 'light', bypassCSP: true });
  t.onCleanup(() => b.close());
  page = t.page = b.page;
  await page.goto(s.url + '/');
  await page.waitForFunction(() => document.querySelector('#plex-user').textContent !== '…');
  const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  eq(await bg(), 'rgb(244, 246, 250)', 'light system scheme: the light palette');
  await page.emulateMedia({ colorScheme: 'dark' });
  eq(await bg(), 'rgb(15, 18, 24)', 'dark system scheme: the dark palette');
  // A choice overrides the system and is remembered across a reload.
  await page.click('#theme');
  eq(await bg(), 'rgb(244, 246, 250)', 'the theme button picks light');
  await page.reload();
  await page.waitForFunction(() => document.querySelector('#plex-user').textContent !== '…');
  eq(await bg(), 'rgb(244, 246, 250)', 'the choice survives a reload');
  await page.evaluate(() => localStorage.removeItem('pts-theme'));
  await page.reload();
  await page.waitForFunction(() => document.querySelector('#plex-user').textContent !== '…');
}, { key: 'stack', timeout: 90000 });

await t.test('structure: landmarks, a skip link to the panel, the tablist inside the navigation', async () => {
  const r = await page.evaluate(() => ({
    strip: !!document.querySelector('.strip').closest('header, main, nav, section[aria-label], footer, aside'),
    navTablist: document.querySelector('nav').getAttribute('role'),
    tablistInNav: !!document.querySelector('nav [role="tablist"]'),
    skip: document.querySelector('body > a.skip')?.getAttribute('href'),
  }));
  eq(r, { strip: true, navTablist: null, tablistInNav: true, skip: '#main' });
  await page.keyboard.press('Tab');
  eq(await focused(page), 'a.skip', 'the skip link is the first stop');
  await page.keyboard.press('Enter');
  eq(await focused(page), '#main', 'the skip link moves focus to the panel');
}, { needs: ['stack'] });

await t.test('axe: every tab and the Settings dialog before sign-in, 1280/320 px, dark/light', async () => {
  await sweep('signed-out');
}, { needs: ['stack'], timeout: 120000 });

await t.test('Settings keep a typed Plex URL across Authorize Trakt', async () => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.click('#open-settings');
  await page.waitForSelector('#settings[data-loaded="1"]');
  await page.fill('#f-plex_url', 'http://192.0.2.7:32400');
  await page.focus('#trakt-auth');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#trakt-flow:not([hidden])', { timeout: 10000 });
  eq(await page.inputValue('#f-plex_url'), 'http://192.0.2.7:32400', 'the typed URL after Authorize Trakt');
  const f = await focused(page);
  assert(f === '#trakt-flow' || f === '#trakt-auth-status', 'focus after Authorize Trakt: ' + f);
  await page.keyboard.press('Escape');
  await closed('#settings');
  eq(await focused(page), '#open-settings', 'Esc returns focus to the gear');
}, { needs: ['stack'], timeout: 30000 });

await t.test('keyboard: Run Sync Now → focus on Stop; Stop → Run again; never on <body>', async () => {
  await page.reload();
  await setupAccounts(s);
  await page.waitForFunction(() => document.querySelector('#conn-trakt').dataset.ok === 'yes', null, { timeout: 20000 });
  // Dry runs until the changes dialog is checked: the first complete one plans many changes.
  eq((await s.api('PUT', '/api/settings', { dry_run: true })).status, 200, 'dry_run on');
  await s.ctl('plex', 'POST', '/_control/state', { max_page: 5 });
  await s.ctl('plex', 'POST', '/_control/faults', { latency_ms: 800, only: ['/library/sections/'] });
  await tab('progress');
  await page.focus('#run');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('#run').disabled);
  eq(await focused(page), '#stop', 'focus after Run Sync Now');
  await page.waitForSelector('#prog-run:not([hidden])');
  await sweepRunning('running');
  await page.focus('#stop');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#prog-idle:not([hidden])', { timeout: 40000 });
  await page.waitForFunction(() => !document.querySelector('#run').disabled);
  eq(await focused(page), '#run', 'focus after the stopped sync ends');
  await s.ctl('plex', 'POST', '/_control/faults/reset', {});
}, { key: 'sync', needs: ['stack'], timeout: 120000 });

// axe over the Live Progress panel in every view while a sync runs or waits.
async function sweepRunning(stage) {
  const bad = [];
  await tab('progress');
  for (const v of VIEWS) {
    await view(v);
    try { await clean(stage + ' ' + tag(v)); } catch (e) { bad.push(e.message); }
    await shot(page, 'a11y-' + stage + '-' + v.scheme);
  }
  await view(VIEWS[0]);
  if (bad.length) throw new Error(bad.join('\n'));
}

await t.test('a rate-limit wait: announced once, politely; the countdown is not a live region', async () => {
  await s.ctl('trakt', 'POST', '/_control/state', { get_limit: 2, get_period: 30 });
  await page.click('#run');
  await page.waitForFunction(() => document.querySelector('#state').dataset.state === 'waiting', null, { timeout: 40000 });
  const live = () => page.evaluate(() => {
    const w = document.querySelector('#prog-wait');
    const assertive = [...document.querySelectorAll('[role="alert"], [aria-live="assertive"]')].filter((e) => e.contains(w) || w.contains(e)).length;
    return { role: w.getAttribute('role'), live: w.closest('[aria-live]')?.getAttribute('aria-live') || null, assertive, wait: w.textContent, said: document.querySelector('#prog-live').textContent, saidLive: document.querySelector('#prog-live').getAttribute('aria-live') };
  });
  const a = await live();
  await sleep(2500);
  const z = await live();
  eq([a.role, a.live, a.assertive, a.saidLive], [null, null, 0, 'polite'], 'the countdown region');
  assert(a.wait !== z.wait, 'the countdown is shown and moves: ' + a.wait + ' / ' + z.wait);
  assert(/waiting/i.test(a.said), 'the wait is announced: ' + a.said);
  eq(z.said, a.said, 'the announcement does not change every second');
  await sweepRunning('waiting');
  await s.ctl('trakt', 'POST', '/_control/state', { get_limit: 500, get_period: 300 });
  await page.focus('#stop');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#prog-idle:not([hidden])', { timeout: 40000 });
  eq(await focused(page), '#run', 'focus after the wait is stopped');
}, { needs: ['sync'], timeout: 120000 });

await t.test('keyboard: a dry run; its changes open, scroll by keyboard, no "null" item; Esc returns focus', async () => {
  await page.focus('#run');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#prog-idle:not([hidden])', { timeout: 60000 });
  await page.waitForFunction(() => !document.querySelector('#run').disabled, null, { timeout: 60000 });
  await page.setViewportSize({ width: 1280, height: 500 });
  await page.focus('#last-run-changes');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#changes-list li');
  const n = await page.locator('#changes-list li').count();
  assert(n >= 10, 'a dry run with many changes: ' + n);
  const texts = await page.locator('#changes-list li').allTextContents();
  assert(!texts.some((x) => x.trim() === 'null'), 'no "null" item');
  eq(await focused(page), '#changes-body', 'focus lands on the scrollable list');
  const before = await page.evaluate(() => document.querySelector('#changes-body').scrollTop);
  await page.keyboard.press('PageDown');
  await page.keyboard.press('ArrowDown');
  await sleep(300);
  const after = await page.evaluate(() => document.querySelector('#changes-body').scrollTop);
  assert(after > before, 'the list scrolls by keyboard: ' + before + ' → ' + after);
  await clean('changes dialog');
  await shot(page, 'a11y-changes');
  await page.keyboard.press('Escape');
  await closed('#changes');
  eq(await focused(page), '#last-run-changes', 'focus back on View changes');
  eq((await s.api('PUT', '/api/settings', { dry_run: false })).status, 200, 'dry_run off');
}, { key: 'dry', needs: ['sync'], timeout: 90000 });

await t.test('keyboard: a real sync, then undo from Sync History while the table redraws', async () => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.focus('#run');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#prog-idle:not([hidden])', { timeout: 60000 });
  await page.waitForFunction(() => !document.querySelector('#run').disabled, null, { timeout: 60000 });
  await tab('runs');
  await page.waitForSelector('#runs-body tr .badge.ok');
  const id = await page.getAttribute('#runs-body tr:first-child', 'data-run');
  await page.focus('#runs-body tr:first-child .open');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#changes-undo:not([hidden])');
  await clean('changes with undo');
  // Sync History redraws underneath (a new row, e.g. from a webhook or another client).
  await page.evaluate(() => document.querySelector('#runs-body').replaceChildren(...[...document.querySelectorAll('#runs-body tr')].map((r) => r.cloneNode(true))));
  await page.focus('#changes-undo');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#confirm[open]');
  await clean('undo confirm');
  await shot(page, 'a11y-undo-confirm');
  await page.keyboard.press('Escape');
  await closed('#confirm');
  eq(await focused(page), '#changes-undo', 'Esc on the question: back to Undo');
  // Chromium ignores a second Esc without user activation in between: the Close button.
  await page.focus('#changes [data-close]');
  await page.keyboard.press('Enter');
  await closed('#changes');
  const f = await page.evaluate(() => ({ run: document.activeElement.closest('tr')?.dataset.run, cls: document.activeElement.className }));
  eq(f, { run: id, cls: 'open' }, 'focus returns to the (redrawn) row that opened the dialog');
}, { needs: ['dry'], timeout: 90000 });

await t.test('axe: every tab and Settings after the syncs, 1280/320 px, dark/light', async () => {
  await sweep('synced');
}, { needs: ['sync'], timeout: 150000 });

await t.test('keyboard: save settings; the interval field has a name at phone width', async () => {
  await page.setViewportSize({ width: 320, height: 640 });
  const name = await page.evaluate(() => {
    const i = document.querySelector('#interval');
    return i.getAttribute('aria-label') || '';
  });
  assert(/hours/.test(name), 'interval name: ' + name);
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.focus('#open-settings');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#settings[data-loaded="1"]');
  await page.focus('#f-sync_ratings');
  await page.keyboard.press('Space');
  await page.focus('#settings-save');
  await page.keyboard.press('Enter');
  await closed('#settings');
  eq(await focused(page), '#open-settings', 'focus back on the gear after Save');
  eq((await s.api('GET', '/api/settings')).body.sync_ratings, true, 'saved');
}, { needs: ['sync'], timeout: 30000 });

await t.test('password sign-in: a wrong password is tied to the field; focus lands on the page after', async () => {
  eq((await s.api('PUT', '/api/settings', { dashboard_password: 'correct horse' })).status, 200, 'set a password');
  await page.reload();
  await page.waitForSelector('#login[open]', { timeout: 15000 });
  for (const v of VIEWS) { await view(v); await clean('login ' + tag(v)); await shot(page, 'a11y-login-' + v.scheme); }
  await view(VIEWS[0]);
  await page.fill('#login-pw', 'wrong one');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('#login-err').textContent !== '');
  const r = await page.evaluate(() => {
    const pw = document.querySelector('#login-pw'), err = document.querySelector('#login-err');
    return { described: (pw.getAttribute('aria-describedby') || '').split(' ').includes('login-err'), live: err.getAttribute('aria-live') || err.getAttribute('role'), invalid: pw.getAttribute('aria-invalid') };
  });
  eq(r, { described: true, live: 'assertive', invalid: 'true' });
  await clean('login with an error');
  await page.fill('#login-pw', 'correct horse');
  await page.keyboard.press('Enter');
  await closed('#login');
  assert((await focused(page)) !== 'body', 'focus after the sign-in: ' + await focused(page));
  console.log('# axe checked ' + checked + ' page states');
}, { needs: ['sync'], timeout: 60000 });

process.exit(await t.end());
