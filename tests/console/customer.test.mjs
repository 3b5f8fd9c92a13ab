// The console clicked through as a new customer (issue #6), in Debian's
// chromium against the real server: sign in as the bootstrap root (forced
// password change), activate, create an instance, topic and group, two RAM
// users with passwords and an access key, grant AliyunMQReadOnlyAccess to both
// at once, sign in as one and see the empty list and why, grant a custom
// policy, see the instance but be refused group creation and the Overview,
// publish from the console to a Paho subscriber, and find it all in the audit
// log. Also: screenshots of every main page and the 1 s interactive budget.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { Sluice } from '../node/api_harness.mjs';
import { BIN, SRC, apiCall, launch, newPage, screenshot, submitSignIn, timeToReady } from './browser.mjs';

const ROOT_PW = 'Bootstrap-Pw-1!';
const ROOT_NEW_PW = 'Root-Console-Pw-2!';
const USER_PW = 'Alice-Console-Pw-3!';
const BUDGET_MS = 1000;

function startSubscriber(port, instance, keyId, secret, clientId, topic) {
  const p = spawn('/usr/bin/python3', [path.join(SRC, 'tests', 'console', 'paho_sub.py'), '127.0.0.1', String(port), instance, keyId, secret, clientId, topic], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = [];
  const waiters = [];
  let stderr = '';
  p.stderr.on('data', (d) => (stderr += d));
  readline.createInterface({ input: p.stdout }).on('line', (l) => {
    lines.push(l);
    waiters.splice(0).forEach((w) => w());
  });
  const waitFor = async (pred, ms = 10000) => {
    const end = Date.now() + ms;
    for (;;) {
      const hit = lines.find(pred);
      if (hit) return hit;
      if (p.exitCode !== null) throw new Error(`subscriber exited: ${lines.join('\n')} ${stderr}`);
      if (Date.now() > end) throw new Error(`subscriber: timed out; saw ${JSON.stringify(lines)} ${stderr}`);
      await new Promise((r) => {
        waiters.push(r);
        setTimeout(r, 200);
      });
    }
  };
  return { proc: p, lines, waitFor, stop: () => p.exitCode === null && p.kill('SIGTERM') };
}

test('console: a new customer from sign-in to the audit log', { timeout: 240000 }, async (t) => {
  assert.ok(fs.existsSync(path.join(path.dirname(path.resolve(BIN)), 'console', 'index.html')), `the console is not built next to ${BIN}: run make build`);
  const s = await new Sluice().start({ SLUICE_ROOT_PASSWORD: ROOT_PW });
  const b = await launch();
  let sub;
  const { page, errors } = await newPage(b.browser);
  const base = `${s.endpoint}/console/`;
  const timings = {};
  try {
    const signIn = async (login, pw) => {
      await page.goto(base);
      await submitSignIn(page, login, pw);
    };
    const signOut = async () => {
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    };
    const nav = (name) => page.getByRole('navigation', { name: 'Console navigation' }).getByRole('link', { name, exact: true }).click();

    await t.test('sign-in page, wrong password refused clearly', async () => {
      await page.goto(base);
      await screenshot(page, '01-signin');
      await page.getByLabel('Login name').fill('root');
      await page.getByLabel('Password', { exact: true }).fill('wrong-password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').getByText('The login name or password is wrong.').waitFor();
    });

    await t.test('the bootstrap root must change its password', async () => {
      await signIn('root', ROOT_PW);
      await page.getByRole('heading', { name: 'Change your password' }).waitFor();
      await page.getByLabel('Current password').fill(ROOT_PW);
      await page.getByLabel('New password', { exact: true }).fill(ROOT_NEW_PW);
      await page.getByLabel('Confirm new password').fill(ROOT_NEW_PW);
      await page.getByRole('button', { name: 'Change password' }).click();
      await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    });

    const ident = (await apiCall(page, 'Sts', 'GetCallerIdentity')).body;
    const account = ident.AccountId;
    const alias = (await apiCall(page, 'Ram', 'GetAccountAlias')).body.AccountAlias;
    assert.ok(account && alias, JSON.stringify(ident));

    await t.test('Overview: Activate for Free → terms → Activate Now', async () => {
      await page.getByRole('button', { name: 'Activate for Free' }).waitFor();
      await screenshot(page, '02-overview-not-activated');
      await page.getByRole('button', { name: 'Activate for Free' }).click();
      const now = page.getByRole('button', { name: 'Activate Now' });
      assert.equal(await now.isDisabled(), true, 'Activate Now waits for the terms');
      await page.getByLabel(/I have read and agree/).check();
      await now.click();
      await page.getByTestId('overview-metadata').waitFor();
      await page.locator('[data-stat="Instances"] .stat-value').getByText('0').waitFor();
    });

    let instanceId;
    await t.test('create an instance, a topic and a group', async () => {
      await nav('Instances');
      await page.getByRole('button', { name: 'Create Instance' }).click();
      const dlg = page.getByRole('dialog', { name: 'Create Instance' });
      await dlg.getByLabel('Instance name').fill('console-demo');
      await dlg.getByLabel('Instance type').selectOption('basic');
      await dlg.getByLabel('Resource group').waitFor();
      await dlg.getByRole('button', { name: 'OK' }).click();
      await page.waitForURL(/\/console\/instances\/[^/]+$/);
      instanceId = decodeURIComponent(page.url().split('/').pop());
      await page.getByTestId('instance-details').waitFor();
      await page.getByTestId('endpoints').waitFor();
      await screenshot(page, '04-instance-details');

      await page.getByRole('link', { name: 'Topics', exact: true }).click();
      await page.getByRole('button', { name: 'Create Topic' }).click();
      await page.getByRole('dialog', { name: 'Create Topic' }).getByRole('textbox', { name: 'Topic', exact: true }).fill('Sensors');
      await page.getByRole('dialog', { name: 'Create Topic' }).getByRole('button', { name: 'OK' }).click();
      await page.getByRole('table', { name: 'Topics' }).getByRole('cell', { name: 'Sensors', exact: true }).waitFor();
      await screenshot(page, '05-topics');

      await page.getByRole('link', { name: 'Group IDs', exact: true }).click();
      await page.getByRole('button', { name: 'Create Group' }).click();
      await page.getByRole('dialog', { name: 'Create Group' }).getByRole('textbox', { name: 'Group ID', exact: true }).fill('GID_console');
      await page.getByRole('dialog', { name: 'Create Group' }).getByRole('button', { name: 'OK' }).click();
      await page.getByRole('table', { name: 'Group IDs' }).getByRole('cell', { name: 'GID_console', exact: true }).waitFor();
      await screenshot(page, '06-groups');

      await nav('Instances');
      await page.getByRole('table', { name: 'Instances' }).getByRole('link', { name: instanceId }).waitFor();
      await screenshot(page, '03-instances');
    });

    await t.test('signature calculator computes in the browser (test vector)', async () => {
      await page.goto(`${base}instances/${encodeURIComponent(instanceId)}/signature`);
      await page.getByLabel('AccessKey ID').fill('LTAI-test');
      await page.getByLabel('AccessKey secret').fill('XXXXX');
      await page.getByLabel('Client ID').fill('GID_Test@@@0001');
      await page.getByTestId('sig-password').getByText('vI009IZJZVGRwBwZvnbwjfuXxVM=').waitFor();
      assert.equal(await page.getByTestId('sig-username').textContent(), `Signature|LTAI-test|${instanceId}`);
      await screenshot(page, '07-signature');
    });

    let aliceKey;
    await t.test('create two RAM users with passwords, one with an access key', async () => {
      await nav('Users');
      for (const [name, key] of [
        ['alice', true],
        ['bob', false],
      ]) {
        await page.getByRole('button', { name: 'Create User' }).click();
        const dlg = page.getByRole('dialog', { name: 'Create User' });
        await dlg.getByLabel('Logon name').fill(name);
        await dlg.getByLabel('Display name').fill(name[0].toUpperCase() + name.slice(1));
        if (key) await dlg.getByLabel(/permanent AccessKey/).check();
        await dlg.getByLabel('Console password').fill(USER_PW);
        await dlg.getByRole('button', { name: 'OK' }).click();
        const done = page.getByRole('dialog', { name: 'User created' });
        await done.waitFor();
        if (key) {
          aliceKey = { id: (await done.getByTestId('ak-id').textContent()).trim(), secret: (await done.getByTestId('ak-secret').textContent()).trim() };
          assert.match(aliceKey.id, /\S{10,}/);
          await screenshot(page, '08-user-created-access-key');
        }
        await done.getByRole('button', { name: 'Close' }).first().click();
        await page.getByRole('table', { name: 'Users' }).getByRole('link', { name, exact: true }).waitFor();
      }
      await screenshot(page, '09-users');
    });

    await t.test('Add Permissions: AliyunMQReadOnlyAccess at Account scope to both users at once', async () => {
      await page.getByLabel('Select alice').check();
      await page.getByLabel('Select bob').check();
      await page.getByRole('button', { name: 'Add Permissions', exact: true }).click();
      const dlg = page.getByRole('dialog', { name: 'Grant Permission' });
      await dlg.getByLabel('Account', { exact: false }).first().waitFor();
      assert.equal(await dlg.locator('[data-principal]').count(), 2);
      // A high-risk policy asks for confirmation; go back without granting it.
      await dlg.getByPlaceholder(/Search by policy name/).fill('AdministratorAccess');
      await dlg.locator('[data-policy="AdministratorAccess"]').check();
      await dlg.getByText('High risk').first().waitFor();
      await dlg.getByRole('button', { name: 'Grant permissions' }).click();
      await dlg.getByRole('alertdialog', { name: 'High-risk policies' }).waitFor();
      await screenshot(page, '10-grant-high-risk-confirmation');
      await dlg.getByRole('button', { name: 'Back' }).click();
      await dlg.locator('[data-policy="AdministratorAccess"]').uncheck();
      await dlg.getByPlaceholder(/Search by policy name/).fill('MQReadOnly');
      await dlg.locator('[data-policy="AliyunMQReadOnlyAccess"]').check();
      await screenshot(page, '11-grant-permission');
      await dlg.getByRole('button', { name: 'Grant permissions' }).click();
      await dlg.getByRole('heading', { name: 'Permissions granted' }).waitFor();
      assert.equal(await dlg.getByTestId('grant-results').locator('li.ok').count(), 2);
      await dlg.getByRole('button', { name: 'Close' }).last().click();
    });

    await t.test('a RAM user with read-only access sees an empty list and why', async () => {
      await signOut();
      await signIn(`alice@${alias}`, USER_PW);
      await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
      await nav('Instances');
      const msg = page.getByTestId('list-message');
      await msg.waitFor();
      assert.match(await msg.textContent(), /mq:MqttInstanceAccess/);
      assert.equal(await page.getByRole('table', { name: 'Instances' }).locator('tbody a').count(), 0);
      await screenshot(page, '12-user-empty-instance-list');
      await signOut();
    });

    await t.test('a custom policy written in the editor, validated as you type, granted to alice', async () => {
      await signIn('root', ROOT_NEW_PW);
      await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
      await nav('Policies');
      await page.getByRole('table', { name: 'System policies' }).getByText('High risk').first().waitFor();
      await screenshot(page, '13-policies');
      await page.getByRole('link', { name: 'Create Policy' }).click();
      await page.getByLabel('Policy name').fill('ConsoleInstanceAccess');
      const editor = page.getByLabel('Policy document (JSON)');
      await editor.fill('{\n  "Version": "1",\n  "Statement": [\n    {"Effect": "Allow", "Action": \n  ]\n}');
      const check = page.getByTestId('policy-check');
      await check.getByText(/Line \d+/).waitFor();
      await screenshot(page, '14-policy-editor-error');
      const doc = {
        Version: '1',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['mq:MqttInstanceAccess', 'mq:SUB'],
            Resource: [`acs:mq:*:*:instance/${instanceId}`, `acs:mq:*:*:topic/${instanceId}/*`, `acs:mq:*:*:groupId/${instanceId}/*`],
          },
        ],
      };
      await editor.fill(JSON.stringify(doc, null, 2));
      await check.getByText('The policy document is valid.').waitFor();
      await page.getByRole('button', { name: 'OK' }).click();
      await page.waitForURL(/\/console\/ram\/policies$/);

      await nav('Users');
      await page.getByRole('button', { name: 'Add Permissions for alice' }).click();
      const dlg = page.getByRole('dialog', { name: 'Grant Permission' });
      await dlg.getByRole('tab', { name: 'Custom Policy' }).click();
      await dlg.locator('[data-policy="ConsoleInstanceAccess"]').check();
      await dlg.getByRole('button', { name: 'Grant permissions' }).click();
      await dlg.getByRole('heading', { name: 'Permissions granted' }).waitFor();
      await dlg.getByRole('button', { name: 'Close' }).last().click();
      await signOut();
    });

    await t.test('alice sees the instance, is refused group creation and the Overview, clearly', async () => {
      await signIn(`alice@${alias}`, USER_PW);
      const denied = page.getByRole('alert').filter({ hasText: 'You need mq:MqttMetaData on' });
      await denied.waitFor();
      assert.match(await denied.textContent(), new RegExp(`You need mq:MqttMetaData on acs:mq:\\*:${account}:\\*`));
      await screenshot(page, '15-overview-denied');
      await nav('Instances');
      await page.getByRole('table', { name: 'Instances' }).getByRole('link', { name: instanceId }).click();
      await page.getByRole('link', { name: 'Group IDs', exact: true }).click();
      await page.getByRole('table', { name: 'Group IDs' }).getByRole('cell', { name: 'GID_console', exact: true }).waitFor();
      await page.getByRole('button', { name: 'Create Group' }).click();
      const dlg = page.getByRole('dialog', { name: 'Create Group' });
      await dlg.getByRole('textbox', { name: 'Group ID', exact: true }).fill('GID_alice');
      await dlg.getByRole('button', { name: 'OK' }).click();
      const refusal = dlg.getByRole('alert');
      await refusal.waitFor();
      assert.match(await refusal.textContent(), new RegExp(`You need mq:CreateGroupId on acs:mq:\\*:${account}:groupId/${instanceId}/GID_alice`));
      await screenshot(page, '16-create-group-denied');
      await dlg.getByRole('button', { name: 'Cancel' }).click();
      await signOut();
    });

    await t.test('send a test message from the console; a Paho subscriber receives it', async () => {
      sub = startSubscriber(s.mqttPort, instanceId, aliceKey.id, aliceKey.secret, 'GID_console@@@paho-1', 'Sensors/#');
      await sub.waitFor((l) => l === 'READY');
      await signIn('root', ROOT_NEW_PW);
      await page.getByTestId('overview-metadata').waitFor();
      // The live chart sees the subscriber.
      await page.locator('[data-stat="Online clients"] .stat-value').getByText('1').waitFor();
      await page.goto(`${base}instances/${encodeURIComponent(instanceId)}/send`);
      await page.getByLabel('Topic').fill('Sensors/console');
      await page.getByLabel('Message content').fill('hello from the console');
      await page.getByRole('button', { name: 'Send' }).click();
      await page.getByTestId('sent').waitFor();
      const got = JSON.parse(await sub.waitFor((l) => l.startsWith('{')));
      assert.deepEqual(got, { topic: 'Sensors/console', payload: 'hello from the console' });
      await screenshot(page, '17-send-test-message');
      await page.goto(base);
      await page.locator('[data-series="In"]').waitFor();
      // Some traffic for a few samples of the live charts.
      for (let i = 0; i < 12; i++) {
        for (let j = 0; j <= i % 4; j++) await apiCall(page, 'OnsMqtt', 'SendMessage', { InstanceId: instanceId, MqttTopic: 'Sensors/chart', Payload: `tick ${i}` });
        await page.waitForTimeout(600);
      }
      await sub.waitFor((l) => l.includes('tick 11'));
      await page.locator('[data-stat="Messages out"] .stat-value').filter({ hasNotText: /^0$/ }).waitFor();
      await screenshot(page, '18-overview-live');
    });

    await t.test('all of it is in the audit log', async () => {
      await nav('Audit log');
      const table = page.getByRole('table', { name: 'Events' });
      await table.locator('[data-event="SendMessage"]').first().waitFor();
      await screenshot(page, '19-audit');
      // The Overview's polling fills the newest pages: find each step by name.
      for (const ev of ['OpenOnsService', 'CreateInstance', 'CreateTopic', 'CreateGroupId', 'CreateUser', 'CreateLoginProfile', 'CreateAccessKey', 'AttachPolicyToUser', 'CreatePolicy', 'SendMessage', 'ConsoleSignin', 'ChangePassword']) {
        await page.getByLabel('Event name').fill(ev);
        await page.getByRole('button', { name: 'Search' }).click();
        await table.locator(`[data-event="${ev}"]`).first().waitFor();
        assert.equal(await table.locator('tbody [data-event]').evaluateAll((els, ev) => els.every((e) => e.dataset.event === ev), ev), true);
      }
      await page.getByLabel('Event name').fill('');
      await page.getByLabel('Event type').selectOption('ConsoleSignin');
      await page.getByRole('button', { name: 'Search' }).click();
      await table.locator('[data-event="ConsoleSignout"]').first().waitFor();
      assert.equal(await table.locator('tbody [data-event]').evaluateAll((els) => els.every((e) => /^ConsoleSign(in|out)$/.test(e.dataset.event))), true);
      await page.getByLabel('Event type').selectOption('');
      await page.getByLabel('Event name').fill('CreateGroupId');
      await page.getByLabel('User name').fill('alice');
      await page.getByRole('button', { name: 'Search' }).click();
      const row = table.locator('tbody tr').filter({ hasText: 'NoPermission' });
      await row.first().waitFor();
      assert.equal(await table.locator('tbody tr').filter({ hasText: 'Success' }).count(), 0);
    });

    await t.test('the other main pages render (screenshots)', async () => {
      for (const [p, name, file] of [
        ['ram/groups', 'groups-ram', '20-user-groups'],
        ['ram/roles', 'roles', '21-roles'],
        ['resource-groups', 'resource-groups', '22-resource-groups'],
        [`instances/${encodeURIComponent(instanceId)}/devices`, 'devices', '23-device-status'],
        [`instances/${encodeURIComponent(instanceId)}/trace`, 'trace', '24-trace'],
      ]) {
        await page.goto(base + p);
        await page.waitForSelector(`main[data-ready="${name}"]`);
        await screenshot(page, file);
      }
      await page.goto(`${base}instances/${encodeURIComponent(instanceId)}/devices`);
      await page.getByLabel('Client ID').fill('GID_console@@@paho-1');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.getByTestId('device-status').getByText('Online').waitFor();
      // The Paho subscriber's connection is in its device trace.
      await page.goto(`${base}instances/${encodeURIComponent(instanceId)}/trace`);
      await page.getByLabel('Client ID').fill('GID_console@@@paho-1');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.getByRole('table', { name: 'Trace results' }).locator('tbody tr').filter({ hasText: 'GID_console@@@paho-1' }).first().waitFor();
      await screenshot(page, '24-trace');
      await page.goto(`${base}ram/users/alice`);
      await page.getByRole('table', { name: 'Permissions' }).getByText('ConsoleInstanceAccess').waitFor();
      await screenshot(page, '25-user-detail');
    });

    await t.test('every page is interactive within 1 s', async () => {
      for (const [p, name] of [
        ['', 'overview'],
        ['instances', 'instances'],
        [`instances/${encodeURIComponent(instanceId)}`, 'instance'],
        [`instances/${encodeURIComponent(instanceId)}/topics`, 'topics'],
        [`instances/${encodeURIComponent(instanceId)}/groups`, 'groups'],
        ['ram/users', 'users'],
        ['ram/users/alice', 'user'],
        ['ram/groups', 'groups-ram'],
        ['ram/roles', 'roles'],
        ['ram/policies', 'policies'],
        ['ram/policies/new', 'policy-editor'],
        ['resource-groups', 'resource-groups'],
        ['audit', 'audit'],
      ]) {
        // The median of three loads: the machine is shared and noisy.
        const ms = [];
        for (let i = 0; i < 3; i++) ms.push(await timeToReady(page, base + p, name));
        ms.sort((a, b) => a - b);
        timings[name] = Math.round(ms[1]);
      }
      console.log('console: navigation start → main content visible (ms, median of 3):', JSON.stringify(timings));
      for (const [name, ms] of Object.entries(timings)) assert.ok(ms <= BUDGET_MS, `${name} took ${ms} ms (budget ${BUDGET_MS} ms)`);
    });

    await t.test('usable at 1024 px wide', async () => {
      await page.setViewportSize({ width: 1024, height: 768 });
      await page.goto(base + 'ram/users');
      await page.waitForSelector('main[data-ready="users"]');
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow} px at 1024 px`);
      await screenshot(page, '26-users-1024');
    });

    assert.deepEqual(errors, [], 'no console errors or page errors');
  } finally {
    sub?.stop();
    await b.close();
    await s.stop();
  }
});
