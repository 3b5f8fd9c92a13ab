// The management API with the cloud's own SDKs, unchanged, pointed at Sluice:
// @alicloud/pop-core (signature V1), @alicloud/ram20150501, @alicloud/sts20150401,
// @alicloud/resourcemanager20200331 (signature V3, ACS3-HMAC-SHA256), plus MQTT.js
// for the MQTT side. The scenario end to end, then bad requests.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import RPCClient from '@alicloud/pop-core';
import * as OpenApi from '@alicloud/openapi-client';
import RamMod, * as $Ram from '@alicloud/ram20150501';
import StsMod, * as $Sts from '@alicloud/sts20150401';
import RmMod, * as $Rm from '@alicloud/resourcemanager20200331';
import mqtt from 'mqtt';
import { Sluice, signV1, mqttPassword, HOST } from './api_harness.mjs';

const Ram = RamMod.default ?? RamMod;
const Sts = StsMod.default ?? StsMod;
const Rm = RmMod.default ?? RmMod;

let s;
before(async () => { s = await new Sluice().start(); });
after(async () => { await s?.stop(); });

const pop = (version, keyId, secret, securityToken) => new RPCClient({
  accessKeyId: keyId ?? s.rootKeyId, accessKeySecret: secret ?? s.rootSecret, securityToken,
  endpoint: s.endpoint, apiVersion: version,
});
const cfg = (keyId, secret, securityToken) => new OpenApi.Config({
  accessKeyId: keyId ?? s.rootKeyId, accessKeySecret: secret ?? s.rootSecret, securityToken,
  endpoint: `${HOST}:${s.httpPort}`, protocol: 'http',
});
async function rejects(promise, code) {
  try {
    await promise;
  } catch (e) {
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    return e;
  }
  assert.fail(`expected ${code}, the call succeeded`);
}
function raw(method, pathAndQuery, { body, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request({ host: HOST, port: s.httpPort, method, path: pathAndQuery, headers, agent: false }, (res) => {
      answered = true;
      let data = '';
      res.on('data', (d) => { data += d; });
      res.on('end', () => {
        let json = null;
        try { json = JSON.parse(data); } catch { /* not JSON */ }
        resolve({ status: res.statusCode, json, data });
      });
    });
    req.on('error', (e) => { if (!answered) reject(e); });  // the server may stop reading an oversized body
    if (body) req.write(body);
    req.end();
  });
}
async function mqttConnect(keyId, secret, instance, clientId) {
  return mqtt.connectAsync(`mqtt://${HOST}:${s.mqttPort}`, {
    clientId, username: `Signature|${keyId}|${instance}`, password: mqttPassword(secret, clientId),
    protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000,
  });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('the issue scenario: activation, instance, RAM user at resource-group scope, custom policy, STS', async () => {
  const ons = pop('2019-02-14');
  const onsmqtt = pop('2020-04-20');
  // Before activation every MQTT management call is refused with a clear code.
  const e = await rejects(onsmqtt.request('CreateInstance', { InstanceName: 'early' }, { method: 'POST' }),
    'Forbidden.ServiceNotActivated');
  assert.match(e.message, /OpenOnsService/);
  await ons.request('OpenOnsService', {}, { method: 'POST' });
  await ons.request('OpenOnsService', {}, { method: 'POST' });  // idempotent

  const created = await onsmqtt.request('CreateInstance', { InstanceName: 'prod' }, { method: 'POST' });
  const inst = created.InstanceId;
  const rg = created.Instance.ResourceGroupId;
  assert.match(inst, /^mqtt-/);
  assert.match(rg, /^rg-/);
  await onsmqtt.request('CreateTopic', { InstanceId: inst, Topic: 'Sensors' }, { method: 'POST' });
  await onsmqtt.request('CreateGroupId', { InstanceId: inst, GroupId: 'GID_dev' }, { method: 'POST' });

  // RAM (V3 SDK): a user with an access key.
  const ram = new Ram(cfg());
  const u = await ram.createUser(new $Ram.CreateUserRequest({ userName: 'pub', displayName: 'Publisher' }));
  assert.equal(u.body.user.userName, 'pub');
  const key = (await ram.createAccessKey(new $Ram.CreateAccessKeyRequest({ userName: 'pub' }))).body.accessKey;
  assert.match(key.accessKeyId, /^LTAI/);
  const list = await ram.listUsers(new $Ram.ListUsersRequest({}));
  assert.equal(list.body.users.user.length, 1);
  assert.equal(list.body.isTruncated, false);

  // ResourceManager (V3 SDK): AliyunMQPubOnlyAccess at the instance's resource group.
  // The principal name SDK code forms: the user's UserPrincipalName (<name>@<alias>.onaliyun.com;
  // the Ram SDK's model has no field for it, so it is read from the V1 answer).
  const upn = (await pop('2015-05-01').request('GetUser', { UserName: 'pub' }, { method: 'POST' })).User.UserPrincipalName;
  assert.match(upn, /^pub@[a-z0-9-]+\.onaliyun\.com$/);
  const rm = new Rm(cfg());
  const groups = await rm.listResourceGroups(new $Rm.ListResourceGroupsRequest({}));
  assert.ok(groups.body.resourceGroups.resourceGroup.some((g) => g.id === rg));
  await rm.attachPolicy(new $Rm.AttachPolicyRequest({ resourceGroupId: rg, policyType: 'System',
    policyName: 'AliyunMQPubOnlyAccess', principalType: 'IMSUser', principalName: upn }));
  const atts = await rm.listPolicyAttachments(new $Rm.ListPolicyAttachmentsRequest({ resourceGroupId: rg }));
  assert.equal(atts.body.policyAttachments.policyAttachment[0].policyName, 'AliyunMQPubOnlyAccess');

  // The user's key publishes over MQTT (Signature mode) ...
  const sub = await mqttConnect(s.rootKeyId, s.rootSecret, inst, 'GID_dev@@@root-sub');
  await sub.subscribeAsync('Sensors/#', { qos: 1 });
  const got = new Promise((resolve) => sub.on('message', (t, m) => resolve([t, m.toString()])));
  const pubc = await mqttConnect(key.accessKeyId, key.accessKeySecret, inst, 'GID_dev@@@pub-1');
  await pubc.publishAsync('Sensors/a', 'hello', { qos: 1 });
  assert.deepEqual(await got, ['Sensors/a', 'hello']);
  // ... may not subscribe (denied: SUBACK 0x80 on 3.1.1, audited) ...
  let grantedQos;
  try {
    grantedQos = (await pubc.subscribeAsync('Sensors/#', { qos: 1 }))[0].qos;
  } catch (err) {
    grantedQos = err.packet?.granted?.[0];  // MQTT.js rejects on a failure return code
  }
  assert.equal(grantedQos, 128);
  await pubc.endAsync();

  // ... and cannot call ListGroupId.
  const userOnsMqtt = pop('2020-04-20', key.accessKeyId, key.accessKeySecret);
  const denied = await rejects(userOnsMqtt.request('ListGroupId', { InstanceId: inst }), 'NoPermission');
  assert.match(denied.message, /mq:ListGroupId/);

  // A custom policy (RAM V3) granted at the resource group lets it.
  await ram.createPolicy(new $Ram.CreatePolicyRequest({ policyName: 'ListGroups',
    policyDocument: JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: ['mq:ListGroupId'], Resource: ['*'] }] }) }));
  await rm.attachPolicy(new $Rm.AttachPolicyRequest({ resourceGroupId: rg, policyType: 'Custom',
    policyName: 'ListGroups', principalType: 'IMSUser', principalName: 'pub' }));
  const gl = await userOnsMqtt.request('ListGroupId', { InstanceId: inst });
  assert.deepEqual(gl.Data.map((g) => g.GroupId), ['GID_dev']);

  // A role assumed through STS (V3 SDK): its keys work for the API and for MQTT.
  const acct = (await new Sts(cfg()).getCallerIdentity()).body.accountId;
  await ram.createRole(new $Ram.CreateRoleRequest({ roleName: 'device-admin', assumeRolePolicyDocument: JSON.stringify({
    Version: '1', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { RAM: [`acs:ram::${acct}:root`] } }] }) }));
  await ram.attachPolicyToRole(new $Ram.AttachPolicyToRoleRequest({ policyType: 'System', policyName: 'AliyunMQFullAccess', roleName: 'device-admin' }));
  const role = (await ram.getRole(new $Ram.GetRoleRequest({ roleName: 'device-admin' }))).body.role;
  const assumed = await new Sts(cfg()).assumeRole(new $Sts.AssumeRoleRequest({ roleArn: role.arn, roleSessionName: 'ci-run', durationSeconds: 900 }));
  const c = assumed.body.credentials;
  assert.match(c.accessKeyId, /^STS\./);
  assert.ok(c.securityToken);
  const stsList = await pop('2020-04-20', c.accessKeyId, c.accessKeySecret, c.securityToken).request('ListGroupId', { InstanceId: inst });
  assert.equal(stsList.Data.length, 1);
  const who = await new Sts(cfg(c.accessKeyId, c.accessKeySecret, c.securityToken)).getCallerIdentity();
  assert.equal(who.body.identityType, 'AssumedRoleUser');
  const stsMqtt = await mqttConnect(c.accessKeyId, c.accessKeySecret, inst, 'GID_dev@@@sts-1');
  await stsMqtt.publishAsync('Sensors/sts', 'from-sts', { qos: 1 });
  await stsMqtt.endAsync();
  await sub.endAsync();

  // ApplyToken / QueryToken / RevokeToken.
  const tok = await onsmqtt.request('ApplyToken', { InstanceId: inst, Resources: 'Sensors/a', Actions: 'R',
    ExpireTime: String(Date.now() + 3600_000) }, { method: 'POST' });
  assert.ok(tok.Token);
  assert.equal((await onsmqtt.request('QueryToken', { InstanceId: inst, Token: tok.Token })).TokenStatus, true);
  await onsmqtt.request('RevokeToken', { InstanceId: inst, Token: tok.Token }, { method: 'POST' });

  // LookupEvents shows every step, MQTT denials included.
  await sleep(300);
  const trail = pop('2020-07-06');
  const names = new Set();
  let token = '';
  for (let i = 0; i < 20; i++) {
    const ev = await trail.request('LookupEvents', { MaxResults: '50', ...(token ? { NextToken: token } : {}) });
    for (const x of ev.Events) names.add(x.eventName);
    token = ev.NextToken;
    if (!token) break;
  }
  for (const n of ['OpenOnsService', 'CreateInstance', 'CreateTopic', 'CreateGroupId', 'CreateUser', 'CreateAccessKey',
    'AttachPolicy', 'ListGroupId', 'CreatePolicy', 'CreateRole', 'AssumeRole', 'ApplyToken', 'RevokeToken',
    'mqtt.subscribe.denied']) {
    assert.ok(names.has(n), `LookupEvents lacks ${n}: ${[...names].join(', ')}`);
  }
  const byUser = await trail.request('LookupEvents', { 'LookupAttribute.1.Key': 'UserName', 'LookupAttribute.1.Value': 'pub' });
  assert.ok(byUser.Events.length > 0);
  assert.ok(byUser.Events.every((x) => x.userIdentity.userName === 'pub'));
  const created2 = await trail.request('LookupEvents', { 'LookupAttribute.1.Key': 'EventName', 'LookupAttribute.1.Value': 'CreateAccessKey' });
  assert.equal(created2.Events.length, 1);
  assert.ok(!JSON.stringify(created2).includes(key.accessKeySecret), 'the secret never reaches the audit log');

  // The same log exported as JSON lines by `sluice admin audit export`.
  const lines = s.admin('audit', 'export', '--event', 'CreateUser').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 1);
  assert.equal(lines[0].EventName, 'CreateUser');
  assert.equal(lines[0].RequestParameters.UserName, 'pub');
});

test('bad requests get the cloud error code and an actionable message, never a 500', async () => {
  const ramPop = pop('2015-05-01');
  const missing = await rejects(ramPop.request('GetUser', {}), 'MissingUserName');
  assert.match(missing.message, /UserName is mandatory/);
  await rejects(ramPop.request('NoSuchThing', {}), 'InvalidAction.NotFound');
  await rejects(pop('2099-01-01').request('ListUsers', {}), 'InvalidVersion');
  await rejects(pop('2015-05-01', s.rootKeyId, 'not-the-secret').request('ListUsers', {}), 'SignatureDoesNotMatch');
  await rejects(pop('2015-05-01', 'LTAIunknownkey0000000', 'x').request('ListUsers', {}), 'InvalidAccessKeyId.NotFound');
  const bad = await rejects(ramPop.request('CreatePolicy', { PolicyName: 'broken', PolicyDocument: '{"Version":"1","Statement":[' },
    { method: 'POST' }), 'MalformedPolicyDocument');
  assert.ok(bad.data.RequestId && bad.data.HostId && bad.data.Message);

  // V3 (RAM SDK) with the wrong secret.
  await rejects(new Ram(cfg(s.rootKeyId, 'not-the-secret')).listUsers(new $Ram.ListUsersRequest({})), 'SignatureDoesNotMatch');

  const expectErr = (r, status, code) => {
    assert.equal(r.json?.Code, code, r.data);
    assert.equal(r.status, status, r.data);
    assert.ok(r.json.RequestId && r.json.HostId && r.json.Message, r.data);
  };
  const sign = (p, opts) => signV1({ Version: '2015-05-01', ...p }, s.rootKeyId, s.rootSecret, opts);
  // A replayed nonce.
  const q = sign({ Action: 'ListUsers' });
  assert.equal((await raw('GET', '/?' + q)).status, 200);
  expectErr(await raw('GET', '/?' + q), 400, 'SignatureNonceUsed');
  // Timestamps: outside the 15-minute window, or not a timestamp.
  const old = new Date(Date.now() - 20 * 60 * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  expectErr(await raw('GET', '/?' + sign({ Action: 'ListUsers' }, { timestamp: old })), 400, 'InvalidTimeStamp.Expired');
  expectErr(await raw('GET', '/?' + sign({ Action: 'ListUsers' }, { timestamp: 'yesterday' })), 400, 'InvalidTimeStamp.Format');
  // A parameter given twice; a request with no signature at all.
  expectErr(await raw('GET', '/?' + sign({ Action: 'GetUser', UserName: 'a' }) + '&UserName=b'), 400, 'InvalidParameter.Duplicate');
  expectErr(await raw('GET', '/?Action=ListUsers&Version=2015-05-01'), 400, 'MissingAccessKeyId');
  // A parameter changed after signing.
  const tampered = sign({ Action: 'GetUser', UserName: 'alice' }).replace('UserName=alice', 'UserName=mallory');
  expectErr(await raw('GET', '/?' + tampered), 400, 'SignatureDoesNotMatch');
  // POST form body works like the query string.
  const form = await raw('POST', '/', { body: sign({ Action: 'ListUsers' }, { method: 'POST' }),
    headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  assert.equal(form.status, 200, form.data);
  // An oversized body.
  const big = await raw('POST', '/', { body: 'UserName=' + 'a'.repeat(1100 * 1024),
    headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  expectErr(big, 413, 'RequestEntityTooLarge');
  // The server is still fine.
  assert.equal((await raw('GET', '/?' + sign({ Action: 'ListUsers' }))).status, 200);
  // The refusal is in the audit log (no account: the operator's export shows it).
  await new Promise((r) => setTimeout(r, 1200));  // audit batches are written within a second
  const refused = s.admin('audit', 'export', '--event', 'RefusedRequest').trim().split('\n').filter(Boolean)
    .map((l) => JSON.parse(l));
  assert.ok(refused.some((e) => JSON.stringify(e).includes('RequestEntityTooLarge')), JSON.stringify(refused));
});
