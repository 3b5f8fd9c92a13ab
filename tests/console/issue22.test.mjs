// Issue 22, item by item, in Debian's chromium against the real server: each
// subtest fails on the console as it was before the fix. Sign-in names (user
// list, user page, "User created" with copy and CSV); every page at 390 px
// (navigation behind a Menu button, nothing off-screen) and at 1440 px, with
// screenshots of both; focus trapped in dialogs and returned, visible focus
// rings, axe-core (WCAG 2.2 AA) on every page with no serious or critical
// violation; denied sections without false empty states or actions; Send Test
// Message state and "Trace it"; polling not audited and the audit read/write
// filter; one instance-name rule and endpoints "off" with the public host
// name; unknown actions warned in the policy editor; resource groups by name,
// fresh after a move, Cancel; the item-10 polish; the console send action as
// docs/console-api.md says; compressed, hashed, long-cached assets and HEAD.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { Sluice, HOST } from '../node/api_harness.mjs';
import { SRC, apiCall, launch, newPage, screenshot, submitSignIn } from './browser.mjs';

const PW = 'Issue22-Boot-1!';
const NEW_PW = 'Issue22-Root-2!';
const USER_PW = 'Erin-Passw0rd-1';
const VIEWER_PW = 'Vic-Passw0rd-1';
const PUBLIC_HOST = 'mqtt.example.test';
const AXE = fs.readFileSync(path.join(SRC, 'console', 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

// Elements whose right edge is past the viewport and that no scrolling box
// (overflow-x auto/scroll/hidden) contains: what a phone user cannot reach.
async function offscreen(page) {
  return page.evaluate(() => {
    const w = window.innerWidth;
    const out = [];
    const clipped = (el) => {
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        const o = getComputedStyle(p).overflowX;
        if (o === 'auto' || o === 'scroll' || o === 'hidden') return true;
      }
      return false;
    };
    for (const el of document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect();
      if (!r.width || !r.height || getComputedStyle(el).visibility === 'hidden') continue;
      if (r.right > w + 1 && !clipped(el)) out.push(`${el.tagName.toLowerCase()}.${el.className || ''} right=${Math.round(r.right)}`);
    }
    if (document.documentElement.scrollWidth > w + 1) out.push(`page scrollWidth ${document.documentElement.scrollWidth} > ${w}`);
    return out.slice(0, 10);
  });
}

// axe-core in the page: WCAG 2.0/2.1/2.2 A and AA rules; serious and critical violations.
async function axe(page) {
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) await page.addScriptTag({ content: AXE });
  const v = await page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } });
    return r.violations
      .filter((x) => x.impact === 'serious' || x.impact === 'critical')
      .map((x) => `${x.id} (${x.impact}): ${x.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
  });
  return v;
}

function raw(port, method, p, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: HOST, port, method, path: p, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('console: issue 22, items 1-12', { timeout: 300000 }, async (t) => {
  const s = await new Sluice().start({ SLUICE_ROOT_PASSWORD: PW, SLUICE_MQ_ENDPOINT_HOST: PUBLIC_HOST });
  const b = await launch();
  const { page, errors } = await newPage(b.browser);
  const base = `${s.endpoint}/console/`;
  const nav = (name) => page.getByRole('navigation', { name: 'Console navigation' }).getByRole('link', { name, exact: true }).click();
  const ready = (name) => page.waitForSelector(`main[data-ready="${name}"]`);
  const signIn = (login, pw) => submitSignIn(page, login, pw);
  const signOut = async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await ready('signin');
  };
  // Each subtest starts from a page of its own, whatever the one before left open.
  const fresh = async (url, mark) => {
    await page.goto(base + url);
    await ready(mark);
  };
  let inst, alias, accountId;
  try {
    await t.test('10: the change-password page focuses its first field and states the rule up front', async () => {
      await page.goto(base);
      await ready('signin');
      await signIn('root', PW);
      await ready('change-password');
      // Read first, asserted after the change (so the subtests after this one run either way).
      const focused = await page.evaluate(() => document.activeElement?.getAttribute('autocomplete'));
      const rule = await page.getByText('8 to 128 characters.').count();
      await screenshot(page, 'i22-change-password-1440');
      await page.getByLabel('Current password').fill(PW);
      await page.getByLabel('New password', { exact: true }).fill(NEW_PW);
      await page.getByLabel('Confirm new password').fill(NEW_PW);
      await page.getByRole('button', { name: 'Change password' }).click();
      await ready('overview');
      assert.equal(focused, 'current-password', 'the first field has focus');
      assert.equal(rule, 1, 'the rule is stated before any attempt');
    });

    // Setup through the console API: the service, an instance with a topic and a group, users.
    await apiCall(page, 'Ons', 'OpenOnsService');
    inst = (await apiCall(page, 'OnsMqtt', 'CreateInstance', { InstanceName: 'issue22' })).body.InstanceId;
    assert.ok(inst);
    await apiCall(page, 'OnsMqtt', 'CreateTopic', { InstanceId: inst, Topic: 'Sensors' });
    await apiCall(page, 'OnsMqtt', 'CreateGroupId', { InstanceId: inst, GroupId: 'GID_issue22' });
    alias = (await apiCall(page, 'Ram', 'GetAccountAlias')).body.AccountAlias;
    accountId = (await page.evaluate(async () => (await (await fetch('/console/api/session')).json()).principal.accountId));
    assert.equal(alias, accountId, 'the default alias is the account id');
    for (const u of ['vic', 'wes']) await apiCall(page, 'Ram', 'CreateUser', { UserName: u });
    await apiCall(page, 'Ram', 'CreateLoginProfile', { UserName: 'vic', Password: VIEWER_PW });
    // vic may list and read users (not their keys, groups or grants), send as a device (mq:PUB), not from the console.
    await apiCall(page, 'Ram', 'CreatePolicy', {
      PolicyName: 'UserReader',
      PolicyDocument: JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: ['ram:ListUsers', 'ram:GetUser', 'ram:GetAccountAlias', 'mq:MqttInstanceAccess', 'mq:ListMqttInstance', 'mq:PUB'], Resource: '*' }] }),
    });
    await apiCall(page, 'Ram', 'AttachPolicyToUser', { PolicyType: 'Custom', PolicyName: 'UserReader', UserName: 'vic' });

    await t.test('1: the sign-in name on the users page, the user page and "User created" (copy, CSV)', async () => {
      await b.browser.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: s.endpoint }).catch(() => {});
      await nav('Users');
      await ready('users');
      await page.getByTestId('account-alias').getByText(`<name>@${alias}.onaliyun.com`).waitFor();
      await page.getByRole('button', { name: 'Create User' }).click();
      const dlg = page.getByRole('dialog', { name: 'Create User' });
      await dlg.getByLabel('Logon name').fill('erin');
      await dlg.getByLabel('Console password').fill(USER_PW);
      await dlg.getByLabel(/permanent AccessKey/).check();
      await dlg.getByRole('button', { name: 'OK' }).click();
      const done = page.getByRole('dialog', { name: 'User created' });
      const upn = `erin@${alias}.onaliyun.com`;
      await done.getByTestId('signin-name').getByText(upn).waitFor();
      await done.getByRole('button', { name: `Copy sign-in name ${upn}` }).click();
      await done.getByText('Copied').waitFor();
      const clip = await page.evaluate(() => navigator.clipboard.readText().catch(() => null));
      if (clip !== null) assert.equal(clip, upn);
      const keyId = (await done.getByTestId('ak-id').textContent()).trim();
      const secret = (await done.getByTestId('ak-secret').textContent()).trim();
      const [download] = await Promise.all([page.waitForEvent('download'), done.getByRole('button', { name: 'Download CSV file' }).click()]);
      assert.match(download.suggestedFilename(), /\.csv$/);
      const csv = fs.readFileSync(await download.path(), 'utf8').trim().split(/\r?\n/);
      assert.deepEqual(csv, ['User Principal Name,AccessKey ID,AccessKey Secret', `${upn},${keyId},${secret}`]);
      await screenshot(page, 'i22-user-created-1440');
      await done.getByRole('button', { name: 'Close' }).last().click();
      const row = page.getByRole('table', { name: 'Users' }).locator('tbody tr').filter({ hasText: 'erin' });
      await row.getByTestId('upn').getByText(upn).waitFor();
      await row.getByRole('link', { name: 'erin' }).click();
      await ready('user');
      await page.getByTestId('signin-name').getByText(upn).waitFor();
      // Every form of the name signs in.
      for (const name of [upn, `erin@${alias}`]) {
        await signOut();
        await signIn(name, USER_PW);
        await page.getByTestId('principal').getByText('erin').waitFor();
      }
      await signOut();
      await signIn('root', NEW_PW);
      await ready('overview');
    });

    await t.test('3: focus trapped in the grant dialog, returned to its opener, visible rings', async () => {
      await fresh('ram/users', 'users');
      const opener = page.getByRole('button', { name: 'Add Permissions for wes' });
      await opener.focus();
      await page.keyboard.press('Enter');
      const dlg = page.getByRole('dialog', { name: 'Grant Permission' });
      await dlg.waitFor();
      const inside = () => page.evaluate(() => !!document.activeElement?.closest('[role="dialog"]'));
      for (let i = 0; i < 40; i++) {
        await page.keyboard.press('Tab');
        assert.ok(await inside(), `Tab ${i + 1} left the dialog`);
      }
      for (let i = 0; i < 10; i++) {
        await page.keyboard.press('Shift+Tab');
        assert.ok(await inside(), `Shift+Tab ${i + 1} left the dialog`);
      }
      // A visible ring on the focused control: a solid outline at least 2 px wide.
      const ring = await page.evaluate(() => {
        const cs = getComputedStyle(document.activeElement);
        return { style: cs.outlineStyle, width: parseFloat(cs.outlineWidth) };
      });
      assert.equal(ring.style, 'solid', JSON.stringify(ring));
      assert.ok(ring.width >= 2, JSON.stringify(ring));
      assert.deepEqual(await axe(page), [], 'axe: the grant dialog');
      // Grant, then close: focus goes back to the row's button.
      await dlg.getByPlaceholder(/Search by policy name/).fill('AliyunMQReadOnlyAccess');
      await dlg.locator('[data-policy="AliyunMQReadOnlyAccess"]').check();
      await dlg.getByRole('button', { name: 'Grant permissions' }).click();
      await dlg.getByRole('button', { name: 'Close' }).last().click();
      await dlg.waitFor({ state: 'detached' });
      await page.waitForFunction(() => document.activeElement?.getAttribute('aria-label') === 'Add Permissions for wes');
      // Escape closes too, and returns focus.
      await page.keyboard.press('Enter');
      await dlg.waitFor();
      await page.keyboard.press('Escape');
      await dlg.waitFor({ state: 'detached' });
      await page.waitForFunction(() => document.activeElement?.getAttribute('aria-label') === 'Add Permissions for wes');
    });

    await t.test('10: a batch grant clears the selection; one risk label; tabs side by side; no 1970; policy created', async () => {
      await fresh('ram/users', 'users');
      const table = page.getByRole('table', { name: 'Users' });
      for (const u of ['vic', 'wes']) await table.locator('tbody tr').filter({ hasText: u }).getByRole('checkbox').check();
      await page.getByText('2 selected').waitFor();
      await page.locator('.batch-bar').getByRole('button', { name: 'Add Permissions' }).click();
      const dlg = page.getByRole('dialog', { name: 'Grant Permission' });
      const dlgTabs = await dlg.getByRole('tab').evaluateAll((els) => els.map((e) => Math.round(e.getBoundingClientRect().top)));
      assert.equal(new Set(dlgTabs).size, 1, `the grant panel's tabs side by side: ${dlgTabs}`);
      await dlg.getByPlaceholder(/Search by policy name/).fill('AliyunMQFullAccess');
      await dlg.locator('li').filter({ hasText: 'AliyunMQFullAccess' }).getByText('Full access').waitFor();
      await dlg.getByPlaceholder(/Search by policy name/).fill('AliyunMQSubOnlyAccess');
      await dlg.locator('[data-policy="AliyunMQSubOnlyAccess"]').check();
      await dlg.getByRole('button', { name: 'Grant permissions' }).click();
      await dlg.getByRole('button', { name: 'Close' }).last().click();
      await page.getByText('0 selected').waitFor();
      assert.equal(await table.getByRole('checkbox', { checked: true }).count(), 0);

      await nav('Policies');
      await ready('policies');
      const sys = page.getByRole('table', { name: 'System policies' });
      const full = sys.locator('tbody tr').filter({ has: page.getByRole('button', { name: 'AliyunMQFullAccess', exact: true }) });
      await full.getByText('Full access').waitFor();
      assert.equal(await full.getByText('High risk').count(), 0);
      assert.equal(await sys.getByText(/1970/).count(), 0, 'no "Created 1970-01-01"');
      const tabs = await page.getByRole('tab').evaluateAll((els) => els.map((e) => Math.round(e.getBoundingClientRect().top)));
      assert.equal(new Set(tabs).size, 1, `tabs side by side: ${tabs}`);
      await page.getByRole('link', { name: 'Create Policy' }).click();
      await ready('policy-editor');
      await page.getByLabel('Policy name').fill('ReadTopics');
      await page.getByLabel('Policy document').fill(JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'mq:ListTopic', Resource: '*' }] }, null, 2));
      await page.getByTestId('policy-check').getByText('valid').waitFor();
      await page.getByRole('button', { name: 'OK' }).click();
      await page.getByRole('status').getByText('Policy ReadTopics was created').waitFor();
      await page.getByRole('table', { name: 'Custom policies' }).getByText('ReadTopics').waitFor();
    });

    await t.test('8: the policy editor warns on an unknown action of a known service', async () => {
      await fresh('ram/policies/new', 'policy-editor');
      const doc = (a) => JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: ['mq:ListTopic', a, 'mq:Describe*', 'ecs:Whatever'], Resource: '*' }] }, null, 2);
      await page.getByLabel('Policy document').fill(doc('mq:MqttMetaDta'));
      const w = page.getByTestId('policy-warnings');
      await w.getByText(/Unknown action "mq:MqttMetaDta"/).waitFor();
      assert.equal(await page.getByText('The policy document is valid.').count(), 0);
      assert.equal(await w.getByText(/ecs:Whatever|mq:Describe/).count(), 0, 'only known services, no wildcards');
      await screenshot(page, 'i22-policy-warning-1440');
      await page.getByLabel('Policy document').fill(doc('mq:MqttMetaData'));
      await page.getByText('The policy document is valid.').waitFor();
      assert.equal(await w.count(), 0);
    });

    await t.test('9: resource groups by name, fresh after a move, Cancel', async () => {
      await fresh('resource-groups', 'resource-groups');
      await page.getByRole('button', { name: 'Create Resource Group' }).click();
      let dlg = page.getByRole('dialog', { name: 'Create Resource Group' });
      await dlg.getByRole('button', { name: 'Cancel' }).click();
      await dlg.waitFor({ state: 'detached' });
      await page.getByRole('button', { name: 'Create Resource Group' }).click();
      dlg = page.getByRole('dialog', { name: 'Create Resource Group' });
      await dlg.getByLabel('Resource group identifier').fill('team-a');
      await dlg.getByLabel('Display name').fill('Team A');
      await dlg.getByRole('button', { name: 'OK' }).click();
      const row = page.getByRole('table', { name: 'Resource groups' }).locator('tbody tr').filter({ hasText: 'team-a' });
      await row.waitFor();
      await row.getByRole('button', { name: 'Move instances here' }).click();
      const mv = page.getByRole('dialog', { name: 'Move instances to Team A' });
      await mv.getByLabel('Instance', { exact: true }).selectOption(inst);
      await mv.getByRole('button', { name: 'Move' }).click();
      await mv.getByText('Moved.').waitFor();
      await mv.locator('option', { hasText: 'now in Team A' }).waitFor({ state: 'attached' });
      await mv.getByRole('button', { name: 'Close' }).click();
      await nav('Instances');
      await ready('instances');
      await page.getByRole('table').locator('tbody tr').filter({ hasText: inst }).getByText('Team A').waitFor();
      await page.getByRole('link', { name: inst }).click();
      await ready('instance');
      await page.getByTestId('instance-details').getByText('Team A').waitFor();
    });

    await t.test('7: one instance-name rule; endpoints "off" and the public host name', async () => {
      await fresh(`instances/${inst}`, 'instance');
      const eps = page.getByTestId('endpoints');
      await eps.getByText(`${PUBLIC_HOST}:${s.mqttPort}`).waitFor();
      assert.equal(await eps.getByText('off', { exact: true }).count(), 3, 'TLS, WS and WSS are off');
      assert.equal(await page.getByText(/not reported/).count(), 0);
      await page.getByRole('button', { name: 'Edit' }).click();
      const ed = page.getByRole('dialog').first();
      await ed.getByText('1 to 64 characters.').waitFor();
      await ed.getByRole('button', { name: 'Cancel' }).click().catch(() => page.keyboard.press('Escape'));
      await nav('Instances');
      await ready('instances');
      await page.getByRole('button', { name: 'Create Instance' }).click();
      const cr = page.getByRole('dialog', { name: 'Create Instance' });
      await cr.getByText('1 to 64 characters.').waitFor();
      const name = cr.getByLabel('Instance name');
      await name.fill('x'.repeat(70));
      assert.equal((await name.inputValue()).length, 64, 'the form takes no more than the server accepts');
      await name.fill('x'); // the server's minimum: one character
      await cr.getByRole('button', { name: 'OK' }).click();
      await ready('instance');
      const list = (await apiCall(page, 'OnsMqtt', 'ListInstances')).body.Instances;
      assert.ok(list.some((i) => i.InstanceName === 'x'));
    });

    await t.test('5: Send Test Message clears an old success; "Trace it" opens the message trace', async () => {
      await fresh(`instances/${inst}/send`, 'send');
      await page.getByLabel('Topic').fill('Sensors/room1');
      await page.getByLabel('Message content').fill('hello');
      await page.getByRole('button', { name: 'Send' }).click();
      await page.getByTestId('sent').waitFor();
      await page.getByLabel('Topic').fill('Sensors/#');
      await page.getByRole('button', { name: 'Send' }).click();
      await page.getByRole('alert').filter({ hasText: 'The message was not sent' }).waitFor();
      assert.equal(await page.getByTestId('sent').count(), 0, 'no earlier success box under the new error');
      await page.getByLabel('Topic').fill('Sensors/room1');
      await page.getByRole('button', { name: 'Send' }).click();
      await page.getByTestId('sent').waitFor();
      const msgId = (await page.getByTestId('sent').locator('code').first().textContent()).trim();
      await page.getByRole('link', { name: 'Trace it' }).click();
      await ready('trace');
      assert.equal(await page.getByLabel('Query', { exact: true }).inputValue(), 'publish');
      assert.equal(await page.getByLabel('Message ID').inputValue(), msgId);
      await page.getByRole('table', { name: 'Trace results' }).waitFor();
    });

    await t.test('6: the Overview polling is not audited; the audit page filters read/write', async () => {
      const look = async (name) =>
        (await apiCall(page, 'Actiontrail', 'LookupEvents', { 'LookupAttribute.1.Key': 'EventName', 'LookupAttribute.1.Value': name, MaxResults: 50 })).body.Events;
      await fresh('', 'overview');
      await page.waitForTimeout(1000); // the audit log is written in batches
      const before = (await look('DescribeMqttMetaData')).length;
      await page.waitForTimeout(5500); // two or more refreshes
      await page.waitForTimeout(500);
      const polls = await look('DescribeMqttMetaData');
      assert.equal(polls.length, before, "the console's own refreshes are not audited");
      await fresh('audit', 'audit');
      assert.ok(polls.every((e) => e.eventRW === 'Read'));
      await page.getByLabel('Read/write').selectOption('Write');
      await page.getByRole('button', { name: /Search|Filter|Query/ }).first().click();
      await page.getByRole('table', { name: 'Events' }).locator('tbody tr').first().waitFor();
      const rw = await page.getByRole('table', { name: 'Events' }).locator('tbody tr td:nth-child(4)').allTextContents();
      assert.ok(rw.length > 0 && rw.every((x) => x === 'Write'), rw.join(','));
      await page.getByLabel('Read/write').selectOption('Read');
      await page.getByRole('button', { name: /Search|Filter|Query/ }).first().click();
      await page.waitForFunction(() => [...document.querySelectorAll('table[aria-label="Events"] tbody tr td:nth-child(4)')].every((td) => td.textContent === 'Read'));
    });

    await t.test('12: pre-compressed, hashed, long-cached assets; HEAD has the length; first load < 60 KB', async () => {
      const html = (await raw(s.httpPort, 'GET', '/console/')).body.toString();
      const js = [...html.matchAll(/src="(\/console\/assets\/[^"]+\.js)"/g)].map((m) => m[1]);
      assert.ok(js.length >= 1);
      let compressed = 0;
      for (const p of js) {
        assert.match(p, /-[A-Za-z0-9_-]{8}\.js$/, 'a hashed name');
        const plain = await raw(s.httpPort, 'GET', p);
        assert.equal(plain.headers['content-encoding'], undefined);
        assert.match(plain.headers['cache-control'], /max-age=31536000, immutable/);
        const head = await raw(s.httpPort, 'HEAD', p);
        assert.equal(Number(head.headers['content-length']), plain.body.length, 'HEAD: the GET\'s Content-Length');
        assert.equal(head.body.length, 0);
        for (const [enc, unzip] of [['br', zlib.brotliDecompressSync], ['gzip', zlib.gunzipSync]]) {
          const r = await raw(s.httpPort, 'GET', p, { 'Accept-Encoding': enc === 'br' ? 'gzip, deflate, br' : 'gzip' });
          assert.equal(r.headers['content-encoding'], enc);
          assert.match(r.headers.vary, /Accept-Encoding/);
          assert.ok(unzip(r.body).equals(plain.body), `${enc} decodes to the file`);
          const h = await raw(s.httpPort, 'HEAD', p, { 'Accept-Encoding': enc });
          assert.equal(Number(h.headers['content-length']), r.body.length);
          if (enc === 'gzip') compressed += r.body.length;
        }
        const refused = await raw(s.httpPort, 'GET', p, { 'Accept-Encoding': 'br;q=0, gzip;q=0' });
        assert.equal(refused.headers['content-encoding'], undefined);
      }
      assert.ok(compressed < 60 * 1024, `first-load JavaScript ${compressed} bytes gzipped`);
      // The browser itself got it compressed.
      const sizes = await page.evaluate(() => performance.getEntriesByType('resource').filter((e) => e.name.endsWith('.js')).map((e) => [e.encodedBodySize, e.decodedBodySize]));
      assert.ok(sizes.length && sizes.every(([enc, dec]) => enc > 0 && enc < dec), JSON.stringify(sizes));
    });

    // Every page as root at 1440 px and 390 px: screenshots, nothing off-screen at 390, axe.
    const pages = [
      ['overview', '', 'overview'],
      ['instances', 'instances', 'instances'],
      ['instance', `instances/${inst}`, 'instance'],
      ['topics', `instances/${inst}/topics`, null],
      ['group-ids', `instances/${inst}/groups`, null],
      ['devices', `instances/${inst}/devices`, 'devices'],
      ['trace', `instances/${inst}/trace`, 'trace'],
      ['send', `instances/${inst}/send`, 'send'],
      ['signature', `instances/${inst}/signature`, 'signature'],
      ['users', 'ram/users', 'users'],
      ['user', 'ram/users/erin', 'user'],
      ['user-groups', 'ram/groups', 'groups-ram'],
      ['roles', 'ram/roles', 'roles'],
      ['policies', 'ram/policies', 'policies'],
      ['policy-editor', 'ram/policies/new', 'policy-editor'],
      ['resource-groups', 'resource-groups', 'resource-groups'],
      ['audit', 'audit', 'audit'],
    ];
    const visit = async ([, url, mark]) => {
      await page.goto(base + url);
      if (mark) await ready(mark);
      else await page.waitForSelector('main[data-ready]');
      await page.waitForLoadState('networkidle').catch(() => {});
    };
    await t.test('2 and 3: every page at 1440 px and 390 px; nothing off-screen on a phone; axe clean', async () => {
      const problems = []; // every page's, reported together
      for (const [width, height] of [[1440, 900], [390, 844]]) {
        await page.setViewportSize({ width, height });
        for (const p of pages) {
          await visit(p);
          if (width === 390) {
            for (const o of await offscreen(page)) problems.push(`${p[0]} at 390 px off-screen: ${o}`);
            const nav = page.getByRole('navigation', { name: 'Console navigation' });
            if (await nav.isVisible()) problems.push(`${p[0]}: the navigation is not collapsed`);
            const signOutBox = await page.getByRole('button', { name: 'Sign out' }).boundingBox();
            if (!(signOutBox && signOutBox.x + signOutBox.width <= 390)) problems.push(`${p[0]}: Sign out off screen`);
          }
          await screenshot(page, `i22-${p[0]}-${width}`);
          for (const v of await axe(page)) problems.push(`axe ${p[0]} at ${width} px: ${v}`);
        }
      }
      assert.deepEqual(problems, []);
      // The Menu button opens the navigation, and a link closes it again.
      await page.getByRole('button', { name: 'Menu' }).click();
      const nav = page.getByRole('navigation', { name: 'Console navigation' });
      await nav.waitFor();
      assert.equal(await page.getByRole('button', { name: 'Menu' }).getAttribute('aria-expanded'), 'true');
      assert.deepEqual(await offscreen(page), []);
      await screenshot(page, 'i22-menu-open-390');
      await nav.getByRole('link', { name: 'Users', exact: true }).click();
      await ready('users');
      await nav.waitFor({ state: 'hidden' });
      // Dialogs fit too.
      await page.getByRole('button', { name: 'Add Permissions for wes' }).click();
      await page.getByRole('dialog', { name: 'Grant Permission' }).waitFor();
      assert.deepEqual(await offscreen(page), [], 'the grant dialog at 390 px');
      await screenshot(page, 'i22-grant-390');
      await page.keyboard.press('Escape');
    });

    await t.test('2: sign-in at 390 px', async () => {
      await signOut();
      assert.deepEqual(await offscreen(page), []);
      const btn = await page.getByRole("button", { name: "Sign in", exact: true }).boundingBox();
      assert.ok(btn && btn.x >= 0 && btn.x + btn.width <= 390, JSON.stringify(btn));
      assert.deepEqual(await axe(page), [], 'axe: sign-in');
      await screenshot(page, 'i22-signin-390');
      await page.setViewportSize({ width: 1440, height: 900 });
      await screenshot(page, 'i22-signin-1440');
    });

    await t.test('4 and 11: denied sections say so and offer nothing; a console send needs mq:SendMqttMessageByConsole', async () => {
      await signIn(`vic@${alias}.onaliyun.com`, VIEWER_PW);
      await page.getByTestId('principal').getByText('vic').waitFor();
      await page.goto(`${base}ram/users/erin`);
      await ready('user');
      await page.getByTestId('signin-name').getByText(`erin@${alias}.onaliyun.com`).waitFor();
      await page.waitForLoadState('networkidle');
      assert.ok((await page.locator('.alert-denied').count()) >= 3, 'keys, permissions and groups each say they are denied');
      for (const untrue of ['No AccessKey.', 'No permission granted.', 'Not in any group.'])
        assert.equal(await page.getByText(untrue).count(), 0, untrue);
      for (const action of ['Enable console access', 'Create AccessKey', 'Reset password'])
        assert.equal(await page.getByRole('button', { name: action }).count(), 0, action);
      await screenshot(page, 'i22-user-denied-1440');
      assert.deepEqual(await axe(page), [], 'axe: denied sections');

      // docs/console-api.md: a console send needs mq:SendMqttMessageByConsole (mq:PUB is not enough).
      const doc = fs.readFileSync(path.join(SRC, 'docs', 'console-api.md'), 'utf8');
      const send = doc.slice(doc.indexOf('`SendMessage`'), doc.indexOf('`DescribeMqttMetaData`'));
      assert.match(send, /console[^.]*mq:SendMqttMessageByConsole/);
      await page.goto(`${base}instances/${inst}/send`);
      await ready('send');
      await page.getByLabel('Topic').fill('Sensors/room1');
      await page.getByLabel('Message content').fill('from vic');
      await page.getByRole('button', { name: 'Send' }).click();
      await page.getByRole('alert').getByText(/^You need mq:SendMqttMessageByConsole on /).waitFor().catch(async (e) => {
        throw new Error(`${e.message}\nalerts: ${(await page.getByRole('alert').allTextContents()).join(' | ')}`);
      });
    });

    assert.deepEqual(errors, [], 'no console errors or page errors');
  } finally {
    await b.close();
    await s.stop();
  }
});
