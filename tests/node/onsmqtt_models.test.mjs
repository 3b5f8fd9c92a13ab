// Issue 21: every OnsMqtt 2020-04-20 success body against the cloud's response model of
// that operation (onsmqtt_models.mjs): each field the model declares is there with the
// model's JSON type (Code 200 and Success true where the model has them, as numbers /
// booleans or as the strings "200" / "true" where the model says string), nested
// objects and arrays alike. Fields the model lacks are Sluice's own additions; each is
// listed in EXTRAS below, so a new one is a decision, not an accident. Called through
// @alicloud/pop-core as the cloud publishes no npm OnsMqtt client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import RPCClient from '@alicloud/pop-core';
import { Sluice } from './api_harness.mjs';
import { MODELS } from './onsmqtt_models.mjs';

// Sluice's additions beyond the cloud's model, per operation (path.to.field).
const EXTRAS = {
  QuerySessionByClientId: ['RemoteIp', 'CleanSession', 'QueuedMessages', 'Subscriptions', 'Subscriptions[].TopicFilter',
    'Subscriptions[].Qos'],
  QueryCustomAuthIdentity: ['Data.Results[].InstanceId'],
  QueryCustomAuthPermission: ['Data.Results[].InstanceId'],
  QueryCustomAuthConnectBlack: ['Data.Results[].InstanceId'],
  QueryMqttTraceDevice: ['DeviceInfoList[].ClientId', 'DeviceInfoList[].RemoteIp'],
  QueryMqttTraceMessageOfClient: ['MessageOfClientList[].Topic'],
  QueryMqttTraceMessagePublish: ['MessageTraceLists[].Topic'],
  QueryMqttTraceMessageSubscribe: ['MessageTraceLists[].Topic'],
  ListInstances: ['Instances[].Remark', 'Instances[].ResourceGroupId', 'Instances[].UpdateTime', 'Instances[].Edition',
    'Instances[].Status', 'Instances[].Endpoints', 'Instances[].Settings', 'Instances[].EditionDefaults',
    'Instances[].OverriddenSettings', 'TotalCount',
    'PageNo', 'PageSize'],
  ListGroupId: ['Data[].Remark'],
};

// Fields of the cloud's model Sluice leaves out on purpose: no read operation returns
// a secret (docs/security.md; the custom-auth secret is set, never shown again).
const OMITTED = {
  QueryCustomAuthIdentity: ['Data.Results[].Secret'],
};

const typeOf = (v) => (Array.isArray(v) ? 'array' : v === null ? 'null'
  : typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : typeof v);

// Problems of `value` against `model` ("string" | "integer" | "boolean" | [m] | {k: m}).
export function mismatches(model, value, path, extras, out = [], omitted = []) {
  if (Array.isArray(model)) {
    if (!Array.isArray(value)) { out.push(`${path}: expected an array, got ${typeOf(value)}`); return out; }
    value.forEach((v) => mismatches(model[0], v, `${path}[]`, extras, out, omitted));
    return out;
  }
  if (typeof model === 'object') {
    if (typeOf(value) !== 'object') { out.push(`${path}: expected an object, got ${typeOf(value)}`); return out; }
    for (const [k, m] of Object.entries(model)) {
      const p = path ? `${path}.${k}` : k;
      if (!(k in value)) { if (!omitted.includes(p)) out.push(`${p}: missing`); }
      else mismatches(m, value[k], p, extras, out, omitted);
    }
    for (const k of Object.keys(value)) {
      const p = path ? `${path}.${k}` : k;
      if (!(k in model) && !extras.includes(p)) out.push(`${p}: not in the cloud's model`);
    }
    return out;
  }
  const t = typeOf(value);
  if (!(t === model || (model === 'number' && t === 'integer'))) out.push(`${path}: expected ${model}, got ${t}`);
  return out;
}

// Every operation's problems, reported together at the end.
const problems = [];
function checkModel(op, body) {
  for (const p of mismatches(MODELS[op], body, '', EXTRAS[op] ?? [], [], OMITTED[op] ?? [])) problems.push(`${op} ${p}`);
  // The values the cloud's SDK code checks.
  if ('Code' in MODELS[op] && String(body.Code) !== '200') problems.push(`${op} Code: ${body.Code}`);
  if ('Success' in MODELS[op] && String(body.Success) !== 'true') problems.push(`${op} Success: ${body.Success}`);
}

let s, mq;
before(async () => {
  s = await new Sluice().start();
  const ons = new RPCClient({ accessKeyId: s.rootKeyId, accessKeySecret: s.rootSecret, endpoint: s.endpoint,
    apiVersion: '2019-02-14' });
  await ons.request('OpenOnsService', {}, { method: 'POST' });
  mq = new RPCClient({ accessKeyId: s.rootKeyId, accessKeySecret: s.rootSecret, endpoint: s.endpoint,
    apiVersion: '2020-04-20' });
});
after(async () => { await s?.stop(); });

const seen = new Set();
async function call(op, params) {
  const body = await mq.request(op, params, { method: 'POST' });
  if (MODELS[op]) { checkModel(op, body); seen.add(op); }
  return body;
}

test('every OnsMqtt success body matches the cloud\'s response model', async () => {
  const inst = (await mq.request('CreateInstance', { InstanceName: 'models' }, { method: 'POST' })).InstanceId;
  await mq.request('CreateTopic', { InstanceId: inst, Topic: 'Sensors' }, { method: 'POST' });
  const I = { InstanceId: inst };

  await call('CreateGroupId', { ...I, GroupId: 'GID_models', Tags: JSON.stringify([{ key: 'team', value: 'a' }]) });
  await call('ListGroupId', I);  // with Data[].Tags[] items
  await call('ListInstances', {});
  await call('TagResources', { ResourceType: 'INSTANCE', 'ResourceId.1': inst, 'Tag.1.Key': 'env', 'Tag.1.Value': 'test' });
  await call('ListInstances', {});  // now with MqttTags
  await call('ListTagResources', { ResourceType: 'INSTANCE', 'ResourceId.1': inst });
  await call('UntagResources', { ResourceType: 'INSTANCE', 'ResourceId.1': inst, 'TagKey.1': 'env' });

  const cid = 'GID_models@@@dev1';
  await call('RegisterDeviceCredential', { ...I, ClientId: cid });
  await call('GetDeviceCredential', { ...I, ClientId: cid });
  await call('RefreshDeviceCredential', { ...I, ClientId: cid });
  await call('ListDeviceCredentialClientId', { ...I, GroupId: 'GID_models' });
  await call('UnRegisterDeviceCredential', { ...I, ClientId: cid });

  const tok = await call('ApplyToken', { ...I, Resources: 'Sensors/a', Actions: 'R,W', ExpireTime: Date.now() + 3600e3 });
  await call('QueryToken', { ...I, Token: tok.Token });
  await call('RevokeToken', { ...I, Token: tok.Token });

  await call('QuerySessionByClientId', { ...I, ClientId: cid });
  await call('BatchQuerySessionByClientIds', { ...I, 'ClientIdList.1': cid });
  await call('CloseConnection', { ...I, ClientId: cid });

  const msg = await call('SendMessage', { ...I, MqttTopic: 'Sensors/a', Payload: 'hi' });
  await call('QueryMqttTraceDevice', { ...I, ClientId: cid });
  await call('QueryMqttTraceMessageOfClient', { ...I, ClientId: cid });
  await call('QueryMqttTraceMessagePublish', { ...I, MsgId: msg.MsgId });
  await call('QueryMqttTraceMessageSubscribe', { ...I, MsgId: msg.MsgId });

  const idn = { ...I, Username: 'u1', IdentityType: 'USER', Secret: 's3cret-value', SignMode: 'ORIGIN' };
  await call('AddCustomAuthIdentity', idn);
  await call('UpdateCustomAuthIdentity', { ...idn, Secret: 's3cret-value-2' });
  await call('QueryCustomAuthIdentity', I);
  const perm = { ...I, Identity: 'u1', IdentityType: 'USER', Topic: 'Sensors/#', PermitAction: 'PUB_SUB', Effect: 'ALLOW' };
  await call('AddCustomAuthPermission', perm);
  await call('UpdateCustomAuthPermission', { ...perm, Effect: 'DENY' });
  await call('QueryCustomAuthPermission', I);
  await call('DeleteCustomAuthPermission', { ...I, Identity: 'u1', IdentityType: 'USER', Topic: 'Sensors/#' });
  await call('DeleteCustomAuthIdentity', { ...I, Username: 'u1', IdentityType: 'USER' });
  await call('AddCustomAuthConnectBlack', { ...I, ClientId: cid });
  await call('QueryCustomAuthConnectBlack', I);
  await call('DeleteCustomAuthConnectBlack', { ...I, ClientId: cid });

  await call('DeleteGroupId', { ...I, GroupId: 'GID_models' });

  assert.deepEqual(problems, []);
  // Every operation of the table was called (a new one in the table needs a call here).
  assert.deepEqual([...seen].sort(), Object.keys(MODELS).sort());
});

// The Tags parameters the current SDK sends (a JSON string) on CreateGroupId,
// ListGroupId and ListInstances, and the fields it reads back.
test('Tags on CreateGroupId, ListGroupId and ListInstances, as the SDK sends them', async () => {
  const a = (await mq.request('CreateInstance', { InstanceName: 'tags-a' }, { method: 'POST' })).InstanceId;
  const b = (await mq.request('CreateInstance', { InstanceName: 'tags-b' }, { method: 'POST' })).InstanceId;
  // pop-core answers null-prototype objects: plain ones compare with deepEqual.
  const post = async (op, p) => JSON.parse(JSON.stringify(await mq.request(op, p, { method: 'POST' })));
  await post('CreateGroupId', { InstanceId: a, GroupId: 'GID_red', Tags: '[{"key":"color","value":"red"},{"key":"env","value":"prod"}]' });
  await post('CreateGroupId', { InstanceId: a, GroupId: 'GID_blue', Tags: '[{"key":"color","value":"blue"}]' });
  await post('CreateGroupId', { InstanceId: a, GroupId: 'GID_none' });
  const all = (await post('ListGroupId', { InstanceId: a })).Data;
  const byId = Object.fromEntries(all.map((g) => [g.GroupId, g.Tags]));
  assert.deepEqual(byId.GID_red, [{ TagKey: 'color', TagValue: 'red' }, { TagKey: 'env', TagValue: 'prod' }]);
  assert.deepEqual(byId.GID_blue, [{ TagKey: 'color', TagValue: 'blue' }]);
  assert.deepEqual(byId.GID_none, []);
  const red = (await post('ListGroupId', { InstanceId: a, Tags: '[{"key":"color","value":"red"}]' })).Data;
  assert.deepEqual(red.map((g) => g.GroupId), ['GID_red']);
  const anyColor = (await post('ListGroupId', { InstanceId: a, Tags: '[{"key":"color"}]' })).Data;
  assert.deepEqual(anyColor.map((g) => g.GroupId).sort(), ['GID_blue', 'GID_red']);
  // A deleted and re-created group starts untagged.
  await post('DeleteGroupId', { InstanceId: a, GroupId: 'GID_red' });
  await post('CreateGroupId', { InstanceId: a, GroupId: 'GID_red' });
  const again = (await post('ListGroupId', { InstanceId: a })).Data.find((g) => g.GroupId === 'GID_red');
  assert.deepEqual(again.Tags, []);

  // ListInstances: the JSON filter, and MqttTags on every instance.
  await post('TagResources', { ResourceType: 'INSTANCE', 'ResourceId.1': b, 'Tag.1.Key': 'env', 'Tag.1.Value': 'prod' });
  const onlyB = (await post('ListInstances', { Tags: '[{"key":"env","value":"prod"}]' })).Instances;
  assert.deepEqual(onlyB.map((i) => i.InstanceId), [b]);
  assert.deepEqual(onlyB[0].MqttTags, [{ TagKey: 'env', TagValue: 'prod' }]);
  const every = (await post('ListInstances', {})).Instances;
  assert.ok(every.some((i) => i.InstanceId === a));
  const ia = every.find((i) => i.InstanceId === a);
  assert.equal(ia.InstanceType, 4);  // professional, the cloud's code
  assert.equal(ia.InstanceStatus, 5);  // in service
  assert.equal(ia.Edition, 'professional');
  assert.ok(ia.RegionId && ia.KernelVersion && ia.ExpireTime > Date.now());

  // Malformed Tags: a clear error, nothing created.
  for (const bad of ['not json', '{"key":"x"}', '[{"value":"v"}]', '[1]']) {
    await assert.rejects(post('CreateGroupId', { InstanceId: a, GroupId: 'GID_bad', Tags: bad }),
      (e) => e.code === 'InvalidParameter.Tags');
  }
  await assert.rejects(post('CreateGroupId', { InstanceId: a, GroupId: 'GID_bad', Tags: '[{"key":"aliyun:x","value":"v"}]' }),
    (e) => /^InvalidParameter/.test(e.code));
  assert.ok(!(await post('ListGroupId', { InstanceId: a })).Data.some((g) => g.GroupId === 'GID_bad'));
  await assert.rejects(post('ListInstances', { Tags: '[' }), (e) => e.code === 'InvalidParameter.Tags');
});
