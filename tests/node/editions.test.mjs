// Instance editions (issue 21) through the cloud's @alicloud/pop-core, unchanged:
// CreateInstance with InstanceType gives the edition's default limits, shown by
// ListInstances (Settings, EditionDefaults, OverriddenSettings); UpdateInstance sets a
// limit explicitly, changes the edition (the explicit limit kept, the others the new
// edition's) and resets a limit to the edition's default; the connection limit holds
// for MQTT.js (v5 CONNACK 0x97) and the message size for a v5 publish (0x95).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import RPCClient from '@alicloud/pop-core';
import mqtt from 'mqtt';
import { Sluice, mqttPassword, HOST } from './api_harness.mjs';

let s;
before(async () => { s = await new Sluice().start(); });
after(async () => { await s?.stop(); });

const post = { method: 'POST' };
const client = (version) => new RPCClient({
  accessKeyId: s.rootKeyId, accessKeySecret: s.rootSecret, endpoint: s.endpoint, apiVersion: version,
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function connect(instance, clientId) {
  const c = mqtt.connect(`mqtt://${HOST}:${s.mqttPort}`, {
    clientId, username: `Signature|${s.rootKeyId}|${instance}`, password: mqttPassword(s.rootSecret, clientId),
    protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000,
  });
  return new Promise((resolve) => {
    c.once('connect', () => resolve({ c, code: 0 }));
    c.once('error', (e) => { c.end(true); resolve({ c, code: e.code }); });
  });
}

test('editions: defaults, overrides, a change of edition, enforcement', async () => {
  await client('2019-02-14').request('OpenOnsService', {}, post);
  const mq = client('2020-04-20');
  const created = await mq.request('CreateInstance', { InstanceName: 'ed', InstanceType: 'basic' }, post);
  const inst = created.InstanceId;
  assert.equal(created.Instance.InstanceType, 0);
  assert.equal(created.Instance.Settings.MaxConnections, 1000);
  assert.equal(created.Instance.Settings.MaxInstanceMessagesPerSecond, 1000);
  assert.equal(created.Instance.Settings.MaxMessagesPerSecond, 20);
  assert.deepEqual(created.Instance.OverriddenSettings, []);
  await mq.request('CreateTopic', { InstanceId: inst, Topic: 'ed' }, post);
  await mq.request('CreateGroupId', { InstanceId: inst, GroupId: 'GID_edition' }, post);

  let u = await mq.request('UpdateInstance', { InstanceId: inst, MaxConnections: '1', MaxPayload: '100' }, post);
  assert.deepEqual(u.Instance.OverriddenSettings, ['MaxConnections', 'MaxPayload']);
  u = await mq.request('UpdateInstance', { InstanceId: inst, InstanceType: '1' }, post);  // the cloud's code: platinum
  assert.equal(u.Instance.Edition, 'platinum');
  assert.equal(u.Instance.Settings.MaxConnections, 1);
  assert.equal(u.Instance.Settings.MaxPayload, 100);
  assert.equal(u.Instance.Settings.MaxInstanceMessagesPerSecond, 100000);
  assert.equal(u.Instance.EditionDefaults.MaxConnections, 100000);
  const listed = (await mq.request('ListInstances', {}, post)).Instances.find((i) => i.InstanceId === inst);
  assert.deepEqual(listed.Settings, u.Instance.Settings);
  assert.equal(listed.InstanceType, 1);
  await sleep(800);

  const first = await connect(inst, 'GID_edition@@@one');
  assert.equal(first.code, 0);
  const second = await connect(inst, 'GID_edition@@@two');
  assert.equal(second.code, 0x97, 'the second connection is over MaxConnections = 1');
  // A message over MaxPayload: the server closes the connection with 0x95.
  const closed = new Promise((resolve) => first.c.once('disconnect', (p) => resolve(p.reasonCode)));
  first.c.publish('ed/big', Buffer.alloc(2000, 'x'), { qos: 1 });
  assert.equal(await closed, 0x95);
  first.c.end(true);

  u = await mq.request('UpdateInstance', { InstanceId: inst, ResetSettings: 'all' }, post);
  assert.deepEqual(u.Instance.OverriddenSettings, []);
  assert.equal(u.Instance.Settings.MaxConnections, 100000);
  await sleep(800);
  const third = await connect(inst, 'GID_edition@@@three');
  assert.equal(third.code, 0);
  third.c.end(true);

  await assert.rejects(mq.request('UpdateInstance', { InstanceId: inst, InstanceType: 'gold' }, post),
    (e) => e.code === 'InvalidParameter.InstanceType');
  await mq.request('ReleaseInstance', { InstanceId: inst }, post);
});
