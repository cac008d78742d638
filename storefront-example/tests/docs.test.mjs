// The API reference page: `nanoshop serve` renders /openapi.json with Redoc at /docs, from its own
// copy of Redoc (no CDN). Every operation of the served document is on the page, under its
// method, path and summary; the page loads nothing from any other origin (Redoc asks a CDN for its
// logo: the page's Content-Security-Policy refuses it, and this test would see it arrive).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { startServer, launchBrowser, newShopper, call, screenshotDir } from './helpers.mjs';

let server;
let browser;
let reader;

before(async () => {
  [server, browser] = await Promise.all([startServer(), launchBrowser()]);
  reader = await newShopper(browser, server.base);
});

after(async () => {
  await reader?.context.close();
  await browser?.close();
  await server?.stop();
});

/** Every operation of the document: [method, path, operation]. */
function operations(document) {
  const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
  return Object.entries(document.paths).flatMap(([path, item]) =>
    methods.filter((m) => item[m]).map((m) => [m, path, item[m]]));
}

test('/docs lists every operation of /openapi.json, from this server alone', async () => {
  const { status, body: document } = await call(server.base, 'GET', '/openapi.json');
  assert.equal(status, 200);
  const expected = operations(document);
  assert.ok(expected.length > 30, `the document has ${expected.length} operations`);

  const { page } = reader;
  const foreign = [];
  page.on('response', (r) => {
    const url = new URL(r.url());
    if (!['data:', 'blob:'].includes(url.protocol) && url.origin !== server.base) foreign.push(r.url());
  });
  await page.goto('/docs');
  await page.getByRole('heading', { level: 1, name: new RegExp(document.info.title) }).waitFor();

  // Redoc gives each operation a section whose id ends in its operationId, headed by its summary,
  // showing its method and path.
  const missing = [];
  for (const [method, path, operation] of expected) {
    const section = page.locator(`[id$="/operation/${operation.operationId}"]`).first();
    const text = (await section.count()) ? await section.innerText() : '';
    const shows = text.includes(operation.summary) && text.toUpperCase().includes(method.toUpperCase())
      && text.includes(path);
    if (!shows) missing.push(`${method.toUpperCase()} ${path} (${operation.operationId})`);
  }
  assert.deepEqual(missing, [], 'operations of /openapi.json that /docs does not show');
  assert.deepEqual(foreign, [], 'what /docs loaded from other origins');
  const refusedLogo = /^Loading the image 'https:\/\/cdn\.redoc\.ly\/[^']*' violates the following Content Security Policy/;
  assert.deepEqual(page.scriptErrors.filter((e) => !refusedLogo.test(e)), []);
  // The first screen only: the whole reference is tens of thousands of pixels long.
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: path.join(screenshotDir, 'api-docs-desktop.png'), animations: 'disabled', caret: 'hide' });
});
