// The console by keyboard alone, with every control labelled, and no console
// errors: sign in and change the bootstrap password without a mouse, move
// through the navigation with Tab and Enter, and check the labels of every
// input, select, textarea and button on each main page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sluice } from '../node/api_harness.mjs';
import { launch, newPage } from './browser.mjs';

const PW = 'Keyboard-Boot-1!';
const NEW_PW = 'Keyboard-New-2!';

// Controls without an accessible name (label, aria-label, aria-labelledby, text).
function unlabelled() {
  const out = [];
  for (const el of document.querySelectorAll('input, select, textarea, button, a[href]')) {
    if (el.type === 'hidden' || el.closest('[hidden]')) continue;
    const named =
      (el.labels && el.labels.length > 0 && [...el.labels].some((l) => l.textContent.trim())) ||
      el.getAttribute('aria-label') ||
      el.getAttribute('aria-labelledby') ||
      ((el.tagName === 'BUTTON' || el.tagName === 'A') && el.textContent.trim());
    if (!named) out.push(el.outerHTML.slice(0, 120));
  }
  return out;
}

test('console: keyboard only, labelled controls', { timeout: 120000 }, async () => {
  const s = await new Sluice().start({ SLUICE_ROOT_PASSWORD: PW });
  const b = await launch();
  const { page, errors } = await newPage(b.browser);
  const base = `${s.endpoint}/console/`;
  try {
    await page.goto(base);
    await page.waitForSelector('main[data-ready="signin"]');
    // The login field has the focus on arrival.
    await page.keyboard.type('root');
    await page.keyboard.press('Tab');
    await page.keyboard.type(PW);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Change your password' }).waitFor();
    await page.getByLabel('Current password').focus();
    await page.keyboard.type(PW);
    await page.keyboard.press('Tab');
    await page.keyboard.type(NEW_PW);
    await page.keyboard.press('Tab');
    await page.keyboard.type(NEW_PW);
    await page.keyboard.press('Enter');
    await page.waitForSelector('main[data-ready="overview"]');

    // Tab to the "Users" navigation link and follow it with Enter.
    let reached = false;
    for (let i = 0; i < 30 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => document.activeElement?.textContent === 'Users');
    }
    assert.ok(reached, 'the Users link is reachable with Tab');
    await page.keyboard.press('Enter');
    await page.waitForSelector('main[data-ready="users"]');

    // Create a user from the keyboard: the panel takes the focus, Escape closes it.
    await page.getByRole('button', { name: 'Create User' }).focus();
    await page.keyboard.press('Enter');
    const dlg = page.getByRole('dialog', { name: 'Create User' });
    await dlg.waitFor();
    await page.waitForFunction(() => document.activeElement?.id && document.querySelector(`label[for="${document.activeElement.id}"]`)?.textContent?.trim() === 'Logon name');
    await page.keyboard.press('Escape');
    await dlg.waitFor({ state: 'detached' });

    for (const [p, name] of [
      ['', 'overview'],
      ['instances', 'instances'],
      ['ram/users', 'users'],
      ['ram/groups', 'groups-ram'],
      ['ram/roles', 'roles'],
      ['ram/policies', 'policies'],
      ['ram/policies/new', 'policy-editor'],
      ['resource-groups', 'resource-groups'],
      ['audit', 'audit'],
    ]) {
      await page.goto(base + p);
      await page.waitForSelector(`main[data-ready="${name}"]`);
      assert.deepEqual(await page.evaluate(unlabelled), [], `unlabelled controls on /console/${p}`);
    }
    // The Add Permissions panel too.
    await page.goto(base + 'ram/users');
    await page.waitForSelector('main[data-ready="users"]');
    await page.getByRole('button', { name: 'Add Permissions', exact: true }).isDisabled();
    await page.goto(base + 'resource-groups');
    await page.waitForSelector('main[data-ready="resource-groups"]');
    await page.getByRole('button', { name: 'Add Permissions' }).click();
    await page.getByRole('dialog', { name: 'Grant Permission' }).getByRole('tab', { name: 'System Policy' }).waitFor();
    await page.getByRole('dialog', { name: 'Grant Permission' }).locator('[data-policy="AliyunMQFullAccess"]').waitFor();
    assert.deepEqual(await page.evaluate(unlabelled), [], 'unlabelled controls in Grant Permission');
    assert.deepEqual(errors, [], 'no console errors or page errors');
  } finally {
    await b.close();
    await s.stop();
  }
});
