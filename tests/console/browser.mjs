// Shared pieces of the console browser tests: Debian's chromium driven by
// playwright-core (installed in console/node_modules), a page that records
// every console error and page error, and small helpers.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const SRC = process.env.SLUICE_SRC || path.resolve(HERE, '..', '..');
export const BIN = process.env.SLUICE_BIN || path.join(SRC, 'build', 'sluice');
export const SCREENSHOTS = path.join(path.dirname(path.resolve(BIN)), 'screenshots');

const require = createRequire(path.join(SRC, 'console', 'package.json'));
const { chromium } = require('playwright-core');

export function chromiumPath() {
  try {
    return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error("Debian's chromium is not installed: run scripts/install-deps.sh (apt-get install chromium)");
  }
}

export async function launch() {
  const index = path.join(path.dirname(path.resolve(BIN)), 'console', 'index.html');
  if (!fs.existsSync(index)) throw new Error(`the console is not built (${index} is missing): run make build`);
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-chromium-'));
  // A persistent context on a fresh, empty profile directory (removed after).
  const browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath(),
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
    ],
  });
  return {
    browser,
    async close() {
      await browser.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

// A page whose console errors and uncaught errors are collected. The only
// messages let through are Chromium's own network lines for console API calls
// answered 4xx on purpose (401 before sign-in, 403 denials the page explains):
// they are how the product answers, not errors of the page.
export async function newPage(context) {
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const url = m.location()?.url || '';
    if (/Failed to load resource: the server responded with a status of 4\d\d/.test(m.text()) && url.includes('/console/api/')) return;
    errors.push(`console.error: ${m.text()} (${url})`);
  });
  page.setDefaultTimeout(10000);
  return { context, page, errors };
}

export async function screenshot(page, name) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// Fills the sign-in form shown and submits it, as a user would (labels and the
// button's name, not selectors: the form's accessibility is part of the test).
export async function submitSignIn(page, login, password) {
  await page.getByLabel('Login name').fill(login);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

// The root's first step, through the console API from the sign-in page at
// `base`: sign in with the bootstrap password and change it; signed in
// afterwards unless `signOut`.
export async function changeBootstrapPassword(page, base, password, newPassword, { signOut = false } = {}) {
  await page.goto(base);
  await page.waitForSelector('main[data-ready="signin"]');
  await page.evaluate(async ({ password, newPassword, signOut }) => {
    const json = { 'Content-Type': 'application/json' };
    const r = await (await fetch('/console/api/login', { method: 'POST', headers: json, body: JSON.stringify({ login: 'root', password }) })).json();
    const h = { ...json, 'X-CSRF-Token': r.csrfToken };
    await fetch('/console/api/password', { method: 'POST', headers: h, body: JSON.stringify({ oldPassword: password, newPassword }) });
    if (signOut) await fetch('/console/api/logout', { method: 'POST', headers: h, body: '{}' });
  }, { password, newPassword, signOut });
}

// The console JSON API from inside the signed-in page (cookie + CSRF token).
export async function apiCall(page, product, action, params = {}) {
  return page.evaluate(
    async ({ product, action, params }) => {
      const s = await (await fetch('/console/api/session')).json();
      const r = await fetch('/console/api/call', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrfToken },
        body: JSON.stringify({ product, action, params }),
      });
      return { status: r.status, body: await r.json() };
    },
    { product, action, params },
  );
}

// Navigation start → the page's main content shown (the app's ready mark).
export async function timeToReady(page, url, name) {
  await page.goto(url);
  await page.waitForSelector(`main[data-ready="${name}"]`);
  return page.evaluate((n) => {
    const m = performance.getEntriesByName(`sluice-ready:${n}`)[0];
    return m ? m.startTime : performance.now();
  }, name);
}
