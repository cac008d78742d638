// Test support: a fresh `nanoshop serve` on a free 127.0.0.1 port with its own temporary data dir,
// headless Debian Chromium driven by playwright-core (installed outside the repo by
// scripts/browser.sh), admin calls to the API, and screenshots at phone and desktop widths.

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, mkdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '..', '..');
const cache = process.env.NANOSHOP_CACHE ?? path.join(homedir(), '.cache', 'nanoshop');
const browserDir = process.env.NANOSHOP_BROWSER_DIR ?? path.join(cache, 'browser');
export const screenshotDir = path.join(repo, 'test-output', 'screenshots');

function playwright() {
  const require = createRequire(path.join(browserDir, 'package.json'));
  try {
    return require('playwright-core');
  } catch (e) {
    throw new Error(`playwright-core is not installed in ${browserDir}: run scripts/browser.sh install (${e.message})`);
  }
}

function binary() {
  const candidates = [
    process.env.NANOSHOP_BIN,
    process.env.CARGO_TARGET_DIR && path.join(process.env.CARGO_TARGET_DIR, 'debug', 'nanoshop'),
    path.join(repo, 'target', 'debug', 'nanoshop'),
  ].filter(Boolean);
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error(`no nanoshop binary (looked at ${candidates.join(', ')}): cargo build --bin nanoshop`);
  return found;
}

/**
 * Starts `nanoshop serve` on a fresh data dir; resolves when /health answers.
 * @param {{args?: string[]}} [options] more arguments to `nanoshop serve` (e.g. `--auth-issuer`)
 */
export async function startServer({ args = [] } = {}) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'nanoshop-storefront-'));
  // The `nanoshop::serving` line says where it serves: port 0 lets the server pick a free port
  // itself, so no other process can take it between choosing and binding.
  const env = { ...process.env, RUST_LOG: `${process.env.RUST_LOG ?? 'warn'},nanoshop::serving=info` };
  // Always the built-in payment simulator: a real Stripe key in the environment must not leak in.
  // Likewise an OpenID issuer: the local sign-in unless a test passes one.
  for (const name of ['STRIPE_SECRET_KEY', 'STRIPE_PUBLISHABLE_KEY', 'STRIPE_API_BASE', 'NANOSHOP_ADDR', 'NANOSHOP_DATA_DIR', 'NANOSHOP_STOREFRONT',
    'NANOSHOP_AUTH_ISSUER', 'NANOSHOP_AUTH_AUDIENCE', 'NANOSHOP_AUTH_ADMIN_CLAIM']) delete env[name];
  const child = spawn(binary(), ['serve', '--addr', '127.0.0.1:0', '--data-dir', dataDir,
    '--storefront', path.join(repo, 'storefront-example'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const deadline = Date.now() + 60_000;
  let base;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nanoshop serve exited (${child.exitCode}):\n${log}`);
    // Up to the whitespace after it, so a line cut between two reads is not taken half.
    base ??= log.match(/serving at (http:\/\/\S+)\s/)?.[1];
    try {
      const r = base && await fetch(`${base}/health`);
      if (r?.ok) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nanoshop serve did not answer within 60 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    log: () => log,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGINT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts the tests' OpenID provider (node-oidc-provider, tests/oidc/provider.mjs, installed by
 * tests/oidc/install.sh) on a free 127.0.0.1 port; resolves `{issuer, addClients, stop}`.
 */
export async function startProvider() {
  const child = spawn(process.execPath, [path.join(repo, 'tests', 'oidc', 'provider.mjs')],
    { env: { ...process.env, NANOSHOP_CACHE: cache }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let log = '';
  child.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const issuer = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line && out.includes('\n')) resolve(JSON.parse(line).issuer);
    });
    child.on('exit', (code) => reject(new Error(`the OpenID provider exited (${code}): run tests/oidc/install.sh\n${log}`)));
  });
  return {
    issuer,
    log: () => log,
    /** Registers browser clients (public, PKCE) once their redirect URIs are known. */
    async addClients(clients) {
      const response = await fetch(`${issuer}/test/clients`, { method: 'POST', body: JSON.stringify(clients) });
      if (!response.ok) throw new Error(`the provider refused the clients: ${response.status}`);
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

/** A JSON call to the API; resolves {status, body}. */
export async function call(base, method, pathname, { body, token, headers = {} } = {}) {
  const response = await fetch(`${base}${pathname}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

export async function token(base, sub, { admin = false, email } = {}) {
  const { status, body } = await call(base, 'POST', '/dev/token', { body: { sub, admin, ...(email ? { email } : {}) } });
  if (status !== 200) throw new Error(`/dev/token answered ${status}`);
  return body.token;
}

/** Headless Chromium with the project's launch arguments (LOCAL-STACK.md § Browser). */
export async function launchBrowser() {
  const { chromium } = playwright();
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 800 };

/** A fresh browser context (empty localStorage) with a page that fails the test on script errors. */
export async function newShopper(browser, base) {
  const context = await browser.newContext({ viewport: DESKTOP, locale: 'en-GB', timezoneId: 'UTC', baseURL: base });
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  if (process.env.STOREFRONT_DEBUG) page.on('console', (m) => console.log(`[browser ${m.type()}] ${m.text()}`));
  page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(m.text()); });
  page.scriptErrors = errors;
  return { context, page };
}

/** Saves `name-phone.png` (390×844) and `name-desktop.png` (1280×800), full page, and goes back to desktop. */
export async function screenshot(page, name) {
  mkdirSync(screenshotDir, { recursive: true });
  for (const [label, size] of [['phone', PHONE], ['desktop', DESKTOP]]) {
    await page.setViewportSize(size);
    // From the top: a full-page capture of a scrolled page draws the sticky header mid-page.
    await page.evaluate(() => new Promise((r) => { window.scrollTo(0, 0); requestAnimationFrame(() => requestAnimationFrame(r)); }));
    await page.screenshot({ path: path.join(screenshotDir, `${name}-${label}.png`), fullPage: true, animations: 'disabled', caret: 'hide' });
  }
  await page.setViewportSize(DESKTOP);
}
