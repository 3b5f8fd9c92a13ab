// A cluster in the console (issue 17): two Sluice nodes on a NATS server with JetStream
// (scripts/nats.sh). The instance page of node 1 shows the instance's figures by node —
// its clients on node 1, none on node 2, both alive, this node marked — and counts the
// instance's clients of every node. No console errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { Sluice, mqttPassword, HOST } from '../node/api_harness.mjs';
import { SRC, changeBootstrapPassword, launch, newPage, screenshot, submitSignIn } from './browser.mjs';

const nodeRequire = createRequire(path.join(SRC, 'tests', 'node', 'package.json'));
const RPCClient = nodeRequire('@alicloud/pop-core');
const mqtt = nodeRequire('mqtt');
const PW = 'Cluster-Boot-1!';
const NEW_PW = 'Cluster-Root-2!';
const NATS = path.join(SRC, 'scripts', 'nats.sh');

test('console: an instance\'s figures by node in a cluster', { timeout: 120000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-console-cluster-'));
  const urls = execFileSync(NATS, ['start', path.join(dir, 'nats'), '1'], { encoding: 'utf8' }).trim();
  const cluster = { SLUICE_CLUSTER_NATS: urls };
  let s, second, b, client;
  try {
    s = await new Sluice().start({ ...cluster, SLUICE_CLUSTER_NODE_NAME: 'n1', SLUICE_ROOT_PASSWORD: PW });
    // Node 2: another control store (no PostgreSQL here), the same NATS: its heartbeat
    // makes it a node of the instance's cluster, with none of its clients.
    second = spawn(s.bin, ['serve', '--allow-anonymous', '--data-dir', path.join(dir, 'n2'), '--host', HOST,
      '--mqtt-port', '0', '--mqtts-port=-1', '--ws-port=-1', '--wss-port=-1', '--http-port=-1', '--log-level', 'warn'],
    { env: { ...process.env, ...cluster, SLUICE_CLUSTER_NODE_NAME: 'n2' }, stdio: 'ignore' });

    const rpc = (version) => new RPCClient({ accessKeyId: s.rootKeyId, accessKeySecret: s.rootSecret,
      endpoint: s.endpoint, apiVersion: version });
    await rpc('2019-02-14').request('OpenOnsService', {}, { method: 'POST' });
    const inst = (await rpc('2020-04-20').request('CreateInstance', { InstanceName: 'clustered' },
      { method: 'POST' })).InstanceId;
    await rpc('2020-04-20').request('CreateGroupId', { InstanceId: inst, GroupId: 'GID_console' }, { method: 'POST' });
    const clientId = 'GID_console@@@d1';
    client = mqtt.connect(`mqtt://${HOST}:${s.mqttPort}`, {
      clientId, username: `Signature|${s.rootKeyId}|${inst}`, password: mqttPassword(s.rootSecret, clientId),
      protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000,
    });
    await new Promise((resolve, reject) => { client.once('connect', resolve); client.once('error', reject); });

    b = await launch();
    const { page, errors } = await newPage(b.browser);
    await changeBootstrapPassword(page, `${s.endpoint}/console/`, PW, NEW_PW, { signOut: true });
    await page.goto(`${s.endpoint}/console/`);
    await submitSignIn(page, 'root', NEW_PW);
    await page.getByRole('button', { name: 'Sign out' }).waitFor();

    // Both nodes' beats (every second) must have been heard: reload until they show.
    const table = page.getByRole('table', { name: 'Instance figures by node' });
    const rowOf = (node) => table.getByRole('row').filter({ has: page.getByRole('cell', { name: new RegExp(`^${node}`) }) });
    const deadline = Date.now() + 15000;
    for (;;) {
      await page.goto(`${s.endpoint}/console/instances/${encodeURIComponent(inst)}`);
      await page.getByTestId('instance-metrics').waitFor();
      if (await table.isVisible() && await rowOf('n2').count() === 1 && await rowOf('n1').count() === 1) break;
      assert.ok(Date.now() < deadline, 'the figures by node did not show both nodes');
      await new Promise((r) => setTimeout(r, 500));
    }
    const cells = async (node) => (await rowOf(node).getByRole('cell').allTextContents()).map((x) => x.trim());
    assert.deepEqual(await cells('n1'), ['n1 (this node)', 'alive', '1', '0']);
    assert.deepEqual(await cells('n2'), ['n2', 'alive', '0', '0']);
    const metrics = page.getByTestId('instance-metrics');
    assert.match(await metrics.textContent(), /Online clients\s*1/);
    await screenshot(page, '70-cluster-by-node');
    assert.deepEqual(errors, [], 'no console errors or page errors');
  } finally {
    client?.end(true);
    await b?.close();
    if (second && second.exitCode === null) {
      const done = new Promise((r) => second.once('exit', r));
      second.kill('SIGTERM');
      const k = setTimeout(() => second.kill('SIGKILL'), 5000);
      await done;
      clearTimeout(k);
    }
    await s?.stop();
    execFileSync(NATS, ['stop', path.join(dir, 'nats')]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
