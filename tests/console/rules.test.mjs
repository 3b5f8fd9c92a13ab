// The instance's Rules tab (issue 19) in Debian's chromium: the root makes an
// outflow rule to a webhook through the form and sees it listed; a malformed
// filter is refused with the API's message in the form; the rule is deleted.
// No console errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Sluice } from '../node/api_harness.mjs';
import { SRC, launch, newPage, screenshot, changeBootstrapPassword } from './browser.mjs';

const RPCClient = createRequire(path.join(SRC, 'tests', 'node', 'package.json'))('@alicloud/pop-core');
const PW = 'Rules-Boot-1!';
const NEW_PW = 'Rules-Root-2!';

test('console: rules of an instance are made, listed, refused and deleted', { timeout: 120000 }, async () => {
  // The form's receiver is on loopback, which rules reach only when the operator allows it.
  const s = await new Sluice().start({ SLUICE_ROOT_PASSWORD: PW, SLUICE_RULES_ALLOWED_TARGET_NETWORKS: '127.0.0.0/8' });
  const b = await launch();
  const { page, errors } = await newPage(b.browser);
  const base = `${s.endpoint}/console/`;
  const mq = new RPCClient({ accessKeyId: s.rootKeyId, accessKeySecret: s.rootSecret, endpoint: s.endpoint,
    apiVersion: '2020-04-20' });
  try {
    const ons = new RPCClient({ accessKeyId: s.rootKeyId, accessKeySecret: s.rootSecret, endpoint: s.endpoint,
      apiVersion: '2019-02-14' });
    await ons.request('OpenOnsService', {}, { method: 'POST' });
    const inst = (await mq.request('CreateInstance', { InstanceName: 'rules-demo' }, { method: 'POST' })).InstanceId;
    assert.ok(inst);
    await changeBootstrapPassword(page, base, PW, NEW_PW);
    await page.goto(`${base}instances/${encodeURIComponent(inst)}/rules`);
    await page.waitForSelector('main[data-ready="rules"]');
    await page.getByText('No rule on this instance.').waitFor();

    const create = async (name, source) => {
      await page.getByRole('button', { name: 'Create Rule' }).click();
      const dlg = page.getByRole('dialog', { name: 'Create Rule' });
      await dlg.getByLabel('Rule name').fill(name);
      await dlg.getByLabel('Source topic').fill(source);
      await dlg.getByLabel('Target configuration (JSON)').fill('{"Url": "http://127.0.0.1:9/hook"}');
      await dlg.getByRole('button', { name: 'Create' }).click();
      return dlg;
    };
    const bad = await create('broken', 'Sensors/#/x');
    await bad.getByRole('alert').getByText('may only be the last level').waitFor();
    await bad.getByRole('button', { name: 'Cancel' }).click();

    await create('to-backend', 'Sensors/#');
    const table = page.getByRole('table', { name: 'Rules' });
    await table.getByRole('cell', { name: 'to-backend', exact: true }).waitFor();
    await table.getByRole('cell', { name: 'outflow', exact: true }).waitFor();
    await screenshot(page, '60-rules');
    const listed = await mq.request('ListRules', { InstanceId: inst }, { method: 'POST' });
    assert.deepEqual(listed.Data.Rules.map((r) => [r.RuleName, r.RuleType, r.SourceTopic, r.TargetType]),
      [['to-backend', 'outflow', 'Sensors/#', 'webhook']]);

    page.once('dialog', (d) => d.accept());
    await table.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('No rule on this instance.').waitFor();
    assert.deepEqual(errors, [], 'no console errors or page errors');
  } finally {
    await b.close();
    await s.stop();
  }
});
