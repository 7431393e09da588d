// Shared helpers of the browser tests: the stack (serve_stack.py), Debian's chromium driven by
// playwright-core, a tiny TAP runner, polling and screenshots.
//
//   const t = new Tap('flow', {budgetMs: 150000});
//   const s = await startStack({name: 'flow'});          // {url, fakes, api(), ctl(), stop()}
//   const b = await launch();                            // {page, ctx, errors, dialogs, close()}
//   ({ s, b, page } = await openDashboard(t, {name: 'x'})); // both, cleaned up, the page open
//   await t.test('opens', async () => { ... }, {key: 'open', needs: ['other-key']});
//   process.exit(await t.end());
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const TOP = path.resolve(HERE, '..', '..');
export const SHOTS = path.join(TOP, 'tests', 'screenshots');
export const ARTIFACTS = path.join(TOP, 'tests', 'artifacts');
// How long the stack may take to print its URL (fakes + nginx + pts-cgi + pts-worker).
const STACK_START_MS = 60000;
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function assert(cond, msg) {
  if (!cond) throw new Error(msg || 'assertion failed');
}
export function eq(got, want, msg) {
  const g = JSON.stringify(got), w = JSON.stringify(want);
  if (g !== w) throw new Error((msg ? msg + ': ' : '') + 'got ' + g + ', want ' + w);
}

// Polls fn() (sync or async) until it returns a truthy value, which is returned.
export async function waitFor(fn, { timeout = 15000, interval = 200, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) { last = e; }
    if (Date.now() > end) throw new Error('timed out after ' + timeout + ' ms waiting for ' + what + (last ? ' (last error: ' + last.message + ')' : ''));
    await sleep(interval);
  }
}

/* ---- TAP ---------------------------------------------------------------------------- */

export class Tap {
  // budgetMs bounds the whole file: past it, the run is failed and cleaned up.
  constructor(name, { budgetMs = 150000 } = {}) {
    this.name = name; this.n = 0; this.failed = 0; this.passed = new Set(); this.cleanups = []; this.page = null;
    this.watchdog = setTimeout(async () => {
      console.log(`not ok ${++this.n} - ${name}: the suite ran out of its ${budgetMs / 1000} s budget`);
      console.log(`1..${this.n}`);
      await this.cleanup();
      process.exit(1);
    }, budgetMs);
    const bail = async (e) => {
      console.log(`not ok ${++this.n} - ${name}: unexpected error`);
      diag(e);
      console.log(`1..${this.n}`);
      await this.cleanup();
      process.exit(1);
    };
    process.on('unhandledRejection', bail);
    process.on('uncaughtException', bail);
  }
  onCleanup(fn) { this.cleanups.unshift(fn); }
  async cleanup() {
    const fns = this.cleanups; this.cleanups = [];
    for (const fn of fns) { try { await fn(); } catch { /* best effort */ } }
  }
  // opts.key names the test for opts.needs of later ones; a test whose needs did not pass
  // fails at once instead of waiting out its timeout.
  async test(name, fn, { key = name, needs = [], timeout = 30000 } = {}) {
    const n = ++this.n;
    const missing = needs.filter((k) => !this.passed.has(k));
    if (missing.length) {
      this.failed++;
      console.log(`not ok ${n} - ${name}`);
      console.log(`#   not run: it needs ${missing.join(', ')}, which did not pass`);
      return false;
    }
    let timer;
    try {
      await Promise.race([fn(), new Promise((_, rej) => { timer = setTimeout(() => rej(new Error('test timed out after ' + timeout + ' ms')), timeout); })]);
      console.log(`ok ${n} - ${name}`);
      this.passed.add(key);
      return true;
    } catch (e) {
      this.failed++;
      console.log(`not ok ${n} - ${name}`);
      diag(e);
      if (this.page) {
        try {
          fs.mkdirSync(ARTIFACTS, { recursive: true });
          const f = path.join(ARTIFACTS, `browser-${this.name}-fail-${n}.png`);
          await this.page.screenshot({ path: f, timeout: 5000 });
          console.log('#   screenshot: ' + path.relative(TOP, f));
        } catch { /* page gone */ }
      }
      return false;
    } finally { clearTimeout(timer); }
  }
  async end() {
    clearTimeout(this.watchdog);
    await this.cleanup();
    console.log(`1..${this.n}`);
    return this.failed ? 1 : 0;
  }
}
function diag(e) {
  const text = (e && (e.stack || e.message)) || String(e);
  for (const line of text.split('\n').slice(0, 12)) console.log('#   ' + line);
}

/* ---- the stack ---------------------------------------------------------------------- */

// Starts tests/browser/serve_stack.py; resolves with its URL once everything is up.
// env: extra variables for the stack ({PTS_REQUIRE_PASSWORD: '1'}).
export async function startStack({ name = 'stack', generate, corpus, settings = true, env: extra = {} } = {}) {
  const args = [path.join(HERE, 'serve_stack.py'), '--name', name];
  for (const [k, v] of Object.entries(extra)) args.push('--env', k + '=' + v);
  if (generate) args.push('--generate', generate);
  if (corpus) args.push('--corpus', corpus);
  if (!settings) args.push('--no-settings');
  const env = { ...process.env };
  env.PTS_BUILD_DIR = env.PTS_BUILD_DIR || path.join(TOP, 'build-check');
  const proc = spawn('python3', args, { cwd: TOP, env, stdio: ['pipe', 'pipe', 'pipe'] });
  // The stack's own messages become TAP comments.
  readline.createInterface({ input: proc.stderr }).on('line', (l) => { if (process.env.PTS_BROWSER_VERBOSE || /error|fail|Traceback/i.test(l)) console.log('# stack: ' + l); });
  const lines = readline.createInterface({ input: proc.stdout });
  const first = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the stack did not start in ' + STACK_START_MS / 1000 + ' s')), STACK_START_MS);
    lines.once('line', (l) => { clearTimeout(timer); resolve(l); });
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error('serve_stack.py exited with ' + code)); });
  });
  const info = JSON.parse(first);
  const stop = async () => {
    if (proc.exitCode !== null) return;
    const done = new Promise((r) => proc.once('exit', r));
    proc.stdin.end();
    const t1 = setTimeout(() => proc.kill('SIGTERM'), 40000);
    const t2 = setTimeout(() => proc.kill('SIGKILL'), 50000);
    await done;
    clearTimeout(t1); clearTimeout(t2);
  };
  if (info.error) { await stop(); throw new Error('the stack did not start: ' + info.error + ' (PTS_BUILD_DIR=' + env.PTS_BUILD_DIR + ')'); }
  const s = {
    ...info, stop,
    // The dashboard API, as a script would call it.
    async api(method, p, body) {
      const headers = { Accept: 'application/json' };
      if (method !== 'GET') { headers['X-Requested-With'] = 'XMLHttpRequest'; headers['Content-Type'] = 'application/json'; }
      const res = await fetch(info.url + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      let json = null;
      try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
      return { status: res.status, body: json, headers: res.headers };
    },
    // A fake's control endpoint: svc is plex, plextv, trakt or tmdb.
    async ctl(svc, method, p, body) {
      const res = await fetch(info.fakes[svc] + p, { method, headers: { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      if (!res.ok) throw new Error(`${svc} ${method} ${p} -> ${res.status} ${text.slice(0, 200)}`);
      return text ? JSON.parse(text) : null;
    },
  };
  return s;
}

// Authorizes Plex and Trakt through the API and the fakes' control endpoints, fetches the
// libraries and selects the movie and show ones (for tests about something else).
export async function setupAccounts(s, { timeout = 30000 } = {}) {
  const state = async (svc) => (await s.api('GET', '/api/auth/' + svc)).body || {};
  await s.ctl('trakt', 'POST', '/_control/state', { device_interval: 1 });
  let r = await s.api('POST', '/api/auth/plex', {});
  assert(r.status === 202, 'POST /api/auth/plex answered ' + r.status);
  await waitFor(async () => { const a = await state('plex'); return a.state === 'pending' && a.code; }, { timeout, what: 'the Plex PIN' });
  await s.ctl('plextv', 'POST', '/_control/pins/link_latest', {});
  await waitFor(async () => (await state('plex')).state === 'authorized', { timeout, what: 'Plex authorized' });
  r = await s.api('POST', '/api/auth/trakt', {});
  assert(r.status === 202, 'POST /api/auth/trakt answered ' + r.status);
  await waitFor(async () => { const a = await state('trakt'); return a.state === 'pending' && a.user_code; }, { timeout, what: 'the Trakt device code' });
  await s.ctl('trakt', 'POST', '/_control/device/approve', {});
  await waitFor(async () => (await state('trakt')).state === 'authorized', { timeout, what: 'Trakt authorized' });
  const before = (await s.api('GET', '/api/libraries')).body.fetched_at;
  r = await s.api('POST', '/api/libraries/refresh', {});
  assert(r.status === 202, 'POST /api/libraries/refresh answered ' + r.status);
  const libs = await waitFor(async () => {
    const b = (await s.api('GET', '/api/libraries')).body;
    return b.fetched_at && b.fetched_at !== before && b.libraries.length ? b.libraries : null;
  }, { timeout, what: 'the library list' });
  const keys = libs.filter((l) => l.type === 'movie' || l.type === 'show').map((l) => String(l.key));
  r = await s.api('PUT', '/api/libraries', { selected: keys });
  assert(r.status === 200 || r.status === 204, 'PUT /api/libraries answered ' + r.status);
  return libs;
}

/* ---- the browser -------------------------------------------------------------------- */

// colorScheme: the system preference the page sees ('dark' or 'light'). bypassCSP lets a
// test inject axe-core (the dashboard's CSP forbids injected scripts, as it should).
export async function launch({ timezoneId = 'UTC', width = 1280, height = 800, colorScheme = 'dark', bypassCSP = false } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pts-chromium-'));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.PTS_CHROMIUM || '/usr/bin/chromium',
    headless: true, args: CHROMIUM_ARGS, viewport: { width, height }, timezoneId, locale: 'en-US',
    colorScheme, bypassCSP,
  });
  ctx.setDefaultTimeout(10000);
  const page = ctx.pages()[0] || await ctx.newPage();
  const errors = [], dialogs = [];
  page.on('pageerror', (e) => errors.push('pageerror: ' + e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push('console: ' + m.text()); });
  page.on('dialog', async (d) => { dialogs.push(d.type() + ': ' + d.message()); await d.dismiss().catch(() => {}); });
  const close = async () => {
    await ctx.close().catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { ctx, page, errors, dialogs, close };
}

// tests/screenshots/<name>-<W>x<H>.png at the page's current viewport.
export async function shot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  const vp = page.viewportSize();
  const f = path.join(SHOTS, `${name}-${vp.width}x${vp.height}.png`);
  await page.screenshot({ path: f });
  return f;
}

// Selects a dashboard tab by clicking it; waits for its panel.
export async function openTab(page, name) {
  await page.click('#tab-' + name);
  await page.waitForSelector('#panel-' + name + ':not([hidden])');
}

// The settings dialog, opened from the header.
export async function openSettings(page) {
  await page.click('#open-settings');
  await page.waitForSelector('#settings[open]');
  // The dialog fills itself from GET /api/settings.
  await page.waitForSelector('#settings[data-loaded="1"]');
}

/* ---- a test's opening --------------------------------------------------------------- */

// The opening most tests share: starts the stack (startStack's options: name, generate, corpus,
// settings, env), signs both accounts in when accounts (setupAccounts), launches chromium with
// browser as launch()'s options, and, unless goto is false, opens path on the dashboard. The
// stack and the browser are stopped by t's cleanup; t.page is the page (for failure
// screenshots). Resolves with {s, b, page, res}, res being goto's response (null when not).
export async function openDashboard(t, { accounts = false, browser = {}, path: p = '/', goto = true, ...stackOpts } = {}) {
  const s = await startStack(stackOpts);
  t.onCleanup(() => s.stop());
  if (accounts) await setupAccounts(s);
  const b = await launch(browser);
  t.onCleanup(() => b.close());
  const page = t.page = b.page;
  const res = goto ? await page.goto(s.url + p) : null;
  return { s, b, page, res };
}

/* ---- accessibility ------------------------------------------------------------------ */

const AXE_JS = path.join(HERE, 'node_modules', 'axe-core', 'axe.min.js');
// WCAG 2.1 A and AA, and the landmark best practice (all content inside a landmark).
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const AXE_EXTRA_RULES = ['region', 'landmark-unique', 'skip-link', 'scrollable-region-focusable'];

// Runs axe-core on the page as it is; resolves with the violations as readable lines
// ("rule: help · selector"), [] when there is none. Needs a context made with bypassCSP.
export async function axe(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.addScriptTag({ path: AXE_JS });
  const res = await page.evaluate(async ({ tags, extra }) => {
    const a = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    const b = await window.axe.run(document, { runOnly: { type: 'rule', values: extra }, resultTypes: ['violations'] });
    return [...a.violations, ...b.violations].map((v) => ({ id: v.id, help: v.help, nodes: v.nodes.slice(0, 4).map((n) => n.target.join(' ') + (n.failureSummary ? ' [' + n.failureSummary.replace(/\s+/g, ' ').slice(0, 160) + ']' : '')) }));
  }, { tags: AXE_TAGS, extra: AXE_EXTRA_RULES });
  return res.map((v) => v.id + ': ' + v.help + ' · ' + v.nodes.join(' | '));
}

// The id (or a short description) of the focused element.
export const focused = (page) => page.evaluate(() => {
  const a = document.activeElement;
  if (!a || a === document.body) return 'body';
  return a.id ? '#' + a.id : a.tagName.toLowerCase() + (a.className ? '.' + String(a.className).split(' ')[0] : '');
});
