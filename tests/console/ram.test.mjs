// The RAM side of the console in Debian's chromium against the real server:
// resource groups (create, move an instance in), user groups and members, a
// grant at ResourceGroup scope to a group through Add Permissions (with the
// high-risk confirmation of a *FullAccess policy), roles (a cross-account trust
// policy's warning shown, none for a same-account one), the system-policy
// viewer, a user's access keys and console password, traces, session expiry
// handling (signing out sends every page back to sign-in). No console errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sluice } from '../node/api_harness.mjs';
import { apiCall, launch, newPage, screenshot } from './browser.mjs';

const PW = 'Ram-Test-Boot-1!';
const NEW_PW = 'Ram-Test-New-2!';

test('console: resource groups, user groups, roles, policies, keys', { timeout: 180000 }, async (t) => {
  const s = await new Sluice().start({ SLUICE_ROOT_PASSWORD: PW });
  const b = await launch();
  const { page, errors } = await newPage(b.browser);
  const base = `${s.endpoint}/console/`;
  const nav = (name) => page.getByRole('navigation', { name: 'Console navigation' }).getByRole('link', { name, exact: true }).click();
  try {
    // Setup through the console API itself: sign in, change the bootstrap password.
    await page.goto(base);
    await page.waitForSelector('main[data-ready="signin"]');
    const setup = await page.evaluate(
      async ({ PW, NEW_PW }) => {
        const j = (r) => r.json();
        const s = await j(await fetch('/console/api/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login: 'root', password: PW }) }));
        const h = { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrfToken };
        await fetch('/console/api/password', { method: 'POST', headers: h, body: JSON.stringify({ oldPassword: PW, newPassword: NEW_PW }) });
        const call = async (product, action, params = {}) => j(await fetch('/console/api/call', { method: 'POST', headers: h, body: JSON.stringify({ product, action, params }) }));
        await call('Ons', 'OpenOnsService');
        const inst = await call('OnsMqtt', 'CreateInstance', { InstanceName: 'ram-test' });
        await call('Ram', 'CreateUser', { UserName: 'carol' });
        return { instanceId: inst.InstanceId };
      },
      { PW, NEW_PW },
    );
    assert.ok(setup.instanceId);
    await page.goto(base);
    await page.waitForSelector('main[data-ready="overview"]');

    let rgId;
    await t.test('create a resource group and move the instance into it', async () => {
      await nav('Resource groups');
      await page.getByRole('button', { name: 'Create Resource Group' }).click();
      const dlg = page.getByRole('dialog', { name: 'Create Resource Group' });
      await dlg.getByLabel('Resource group identifier').fill('console-rg');
      await dlg.getByLabel('Display name').fill('Console RG');
      await dlg.getByRole('button', { name: 'OK' }).click();
      const row = page.getByRole('table', { name: 'Resource groups' }).locator('tbody tr').filter({ hasText: 'console-rg' });
      await row.waitFor();
      rgId = (await row.locator('code').textContent()).trim();
      await row.getByRole('button', { name: 'Move instances here' }).click();
      const mv = page.getByRole("dialog", { name: "Move instances to Console RG" }); // by its display name (issue 22 item 9)
      await mv.getByLabel('Instance', { exact: true }).selectOption(setup.instanceId);
      await mv.getByRole('button', { name: 'Move' }).click();
      await mv.getByText('Moved.').waitFor();
      await mv.getByRole('button', { name: 'Close' }).click();
      const list = await apiCall(page, 'OnsMqtt', 'ListInstances');
      assert.equal(list.body.Instances[0].ResourceGroupId, rgId);
    });

    await t.test('a user group with a member', async () => {
      await nav('User groups');
      await page.getByRole('button', { name: 'Create Group' }).click();
      const dlg = page.getByRole('dialog', { name: 'Create Group' });
      await dlg.getByLabel('Group name').fill('operators');
      await dlg.getByRole('button', { name: 'OK' }).click();
      const row = page.getByRole('table', { name: 'User groups' }).locator('tbody tr').filter({ hasText: 'operators' });
      await row.getByRole('button', { name: 'Members' }).click();
      const m = page.getByRole('dialog', { name: 'Members of operators' });
      await m.getByLabel('Add user').selectOption('carol');
      await m.getByRole('button', { name: 'Add', exact: true }).click();
      await m.getByRole('table', { name: 'Members' }).getByRole('cell', { name: 'carol', exact: true }).waitFor();
      await m.getByRole('button', { name: 'Close' }).click();
    });

    await t.test('grant AliyunMQFullAccess to the group at ResourceGroup scope (confirmed as high risk)', async () => {
      const row = page.getByRole('table', { name: 'User groups' }).locator('tbody tr').filter({ hasText: 'operators' });
      await row.getByRole('button', { name: 'Add Permissions' }).click();
      const dlg = page.getByRole('dialog', { name: 'Grant Permission' });
      await dlg.getByLabel(/^ResourceGroup/).check();
      await dlg.getByLabel('Resource group', { exact: true }).selectOption(rgId);
      await dlg.getByPlaceholder(/Search by policy name/).fill('mqfull');
      await dlg.locator('[data-policy="AliyunMQFullAccess"]').check();
      await dlg.getByRole('button', { name: 'Grant permissions' }).click();
      const confirm = dlg.getByRole('alertdialog', { name: 'High-risk policies' });
      await confirm.getByText(/AliyunMQFullAccess grants broad permissions/).waitFor();
      await confirm.getByRole('button', { name: 'Confirm and grant' }).click();
      await dlg.getByRole('heading', { name: 'Permissions granted' }).waitFor();
      await screenshot(page, '30-grant-resource-group');
      await dlg.getByRole('button', { name: 'Close' }).last().click();
      const atts = await apiCall(page, 'ResourceManager', 'ListPolicyAttachments', { ResourceGroupId: rgId });
      const list = atts.body.PolicyAttachments.PolicyAttachment;
      assert.ok(list.some((a) => a.PolicyName === 'AliyunMQFullAccess' && a.PrincipalType === 'IMSGroup' && a.ResourceGroupId === rgId), JSON.stringify(list));
    });

    await t.test('create a role from the trust-policy template', async () => {
      await nav('Roles');
      await page.getByRole('button', { name: 'Create Role' }).click();
      const dlg = page.getByRole('dialog', { name: 'Create Role' });
      await dlg.getByLabel('Role name').fill('device-admin');
      assert.match(await dlg.getByLabel(/Trust policy/).inputValue(), /sts:AssumeRole/);
      await dlg.getByRole('button', { name: 'OK' }).click();
      await page.getByRole('table', { name: 'Roles' }).getByText('device-admin', { exact: true }).waitFor();
      // The template trusts this account only: no trust warning.
      assert.equal(await page.getByRole('dialog', { name: 'Role created' }).count(), 0);
      assert.equal(await page.getByTestId('trust-warning').count(), 0);
    });

    await t.test('a role another account may assume is created with its trust warning shown', async () => {
      const other = '6543210987654321';
      await page.getByRole('button', { name: 'Create Role' }).click();
      const dlg = page.getByRole('dialog', { name: 'Create Role' });
      await dlg.getByLabel('Role name').fill('partner-access');
      await dlg.getByLabel(/Trust policy/).fill(
        JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { RAM: [`acs:ram::${other}:root`] } }] }),
      );
      await dlg.getByRole('button', { name: 'OK' }).click();
      const done = page.getByRole('dialog', { name: 'Role created' });
      await done.waitFor();
      const warnings = done.getByTestId('trust-warning');
      assert.equal(await warnings.count(), 1);
      assert.match(await warnings.first().innerText(), new RegExp(`Principals of account ${other} may assume the role \\S*role/partner-access`));
      await screenshot(page, 'ram-role-trust-warning');
      await done.getByRole('button', { name: 'Close', exact: true }).last().click();
      await done.waitFor({ state: 'detached' });
      await page.getByRole('table', { name: 'Roles' }).getByText('partner-access', { exact: true }).waitFor();
    });

    await t.test('system policies: high-risk flags and the document viewer', async () => {
      await nav('Policies');
      const table = page.getByRole('table', { name: 'System policies' });
      for (const p of ['AdministratorAccess', 'AliyunRAMFullAccess'])
        await table.locator('tbody tr').filter({ has: page.getByRole('button', { name: p, exact: true }) }).getByText('High risk').waitFor();
      await page.getByPlaceholder('Search policies').fill('AdministratorAccess');
      await table.getByRole('button', { name: 'AdministratorAccess', exact: true }).click();
      const v = page.getByRole('dialog', { name: 'AdministratorAccess' });
      await v.getByText('High-risk policy: avoid attaching it unless necessary.').waitFor();
      await v.getByLabel('Policy document').getByText('"Action": "*"').waitFor();
      await page.keyboard.press('Escape');
      await v.waitFor({ state: 'detached' });
    });

    await t.test('a custom policy gets a second version from the editor', async () => {
      const doc = { Version: '1', Statement: [{ Effect: 'Allow', Action: 'mq:List*', Resource: '*' }] };
      const r = await apiCall(page, 'Ram', 'CreatePolicy', { PolicyName: 'versioned', PolicyDocument: JSON.stringify(doc) });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      await page.goto(`${base}ram/policies`);
      await page.getByRole('tab', { name: 'Custom Policy' }).click();
      await page.getByRole('table', { name: 'Custom policies' }).getByRole('button', { name: 'versioned', exact: true }).click();
      await page.getByRole('dialog', { name: 'versioned' }).getByRole('link', { name: 'Create version' }).click();
      await page.getByRole('heading', { name: 'New version of versioned' }).waitFor();
      const editor = page.getByLabel('Policy document (JSON)');
      await page.waitForFunction(() => document.querySelector('#policy-doc')?.value.includes('mq:List*'));
      await editor.fill(JSON.stringify({ ...doc, Statement: [{ ...doc.Statement[0], Action: ['mq:List*', 'mq:Query*'] }] }, null, 2));
      await page.getByTestId('policy-check').getByText('The policy document is valid.').waitFor();
      await page.getByRole('button', { name: 'OK' }).click();
      await page.waitForURL(/\/console\/ram\/policies$/);
      await page.getByRole('tab', { name: 'Custom Policy' }).click();
      await page.getByRole('table', { name: 'Custom policies' }).getByRole('button', { name: 'versioned', exact: true }).click();
      const v = page.getByRole('dialog', { name: 'versioned' });
      await v.getByRole('heading', { name: 'Default version (v2)' }).waitFor();
      await v.getByRole('table', { name: 'Policy versions' }).locator('tbody tr').filter({ hasText: 'v1' }).getByRole('button', { name: 'Set as default' }).waitFor();
      await screenshot(page, '32-policy-versions');
      await page.keyboard.press('Escape');
    });

    await t.test('edit instance limits', async () => {
      await page.goto(`${base}instances/${encodeURIComponent(setup.instanceId)}`);
      await page.getByRole('button', { name: 'Edit' }).click();
      const dlg = page.getByRole('dialog', { name: 'Edit Instance' });
      await dlg.getByLabel('Max connections (0 = unlimited)').fill('100');
      await dlg.getByRole('button', { name: 'Save' }).click();
      await dlg.waitFor({ state: 'detached' });
      await page.getByTestId('limits').getByText('100', { exact: true }).waitFor();
    });

    await t.test("a user's access key and console password", async () => {
      await page.goto(`${base}ram/users/carol`);
      await page.waitForSelector('main[data-ready="user"]');
      await page.getByText('Console access is not enabled.').waitFor();
      await page.getByLabel('Console password', { exact: true }).fill('Carol-Pw-123!');
      await page.getByRole('button', { name: 'Enable console access' }).click();
      await page.getByRole('button', { name: 'Reset password' }).waitFor();
      await page.getByRole('button', { name: 'Create AccessKey' }).click();
      const id = (await page.getByTestId('ak-id').textContent()).trim();
      const keys = page.getByRole('table', { name: 'AccessKeys' });
      const row = keys.locator('tbody tr').filter({ hasText: id });
      await row.getByRole('button', { name: 'Disable' }).click();
      await row.getByRole('cell', { name: 'Inactive' }).waitFor();
      // Group membership shows up; the RG-scoped grant is the group's, not carol's own.
      await page.getByRole('table', { name: 'Groups of the user' }).getByRole('cell', { name: 'operators' }).waitFor();
      await screenshot(page, '31-user-keys');
    });

    await t.test('device trace query answers (empty is fine), status query offline', async () => {
      await page.goto(`${base}instances/${encodeURIComponent(setup.instanceId)}/trace`);
      await page.getByLabel('Client ID').fill('GID_none@@@dev');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.getByRole('table', { name: 'Trace results' }).waitFor();
      await page.goto(`${base}instances/${encodeURIComponent(setup.instanceId)}/devices`);
      await page.getByLabel('Client ID').fill('GID_none@@@dev');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.getByTestId('device-status').getByText('Offline').waitFor();
    });

    await t.test('signing out sends every page back to sign-in; signing in returns to it', async () => {
      await page.goto(`${base}ram/roles`);
      await page.waitForSelector('main[data-ready="roles"]');
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.goto(`${base}ram/roles`);
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      await page.getByLabel('Login name').fill('root');
      await page.getByLabel('Password', { exact: true }).fill(NEW_PW);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForSelector('main[data-ready="roles"]');
    });

    assert.deepEqual(errors, [], 'no console errors or page errors');
  } finally {
    await b.close();
    await s.stop();
  }
});
