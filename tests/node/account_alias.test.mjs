// The account alias and user principal names (issue 21, first item; issue 22,
// item 1) with the cloud's own SDKs, unchanged: RAM GetAccountAlias /
// SetAccountAlias / ClearAccountAlias (@alicloud/ram20150501), the default
// alias being the account id, aliases unique across accounts, the cloud's
// errors; UserPrincipalName (<name>@<alias>.onaliyun.com) in GetUser /
// ListUsers / CreateUser / UpdateUser; ResourceManager AttachPolicy /
// DetachPolicy (@alicloud/resourcemanager20200331) and console sign-in taking
// every form of the name and refusing a suffix that names another account;
// RAM authorization and the audit log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import RPCClient from '@alicloud/pop-core';
import * as OpenApi from '@alicloud/openapi-client';
import RamMod, * as $Ram from '@alicloud/ram20150501';
import RmMod, * as $Rm from '@alicloud/resourcemanager20200331';
import { Sluice, HOST } from './api_harness.mjs';

const Ram = RamMod.default ?? RamMod;
const Rm = RmMod.default ?? RmMod;

let s;
before(async () => { s = await new Sluice().start(); });
after(async () => { await s?.stop(); });

const cfg = (keyId, secret) => new OpenApi.Config({
  accessKeyId: keyId ?? s.rootKeyId, accessKeySecret: secret ?? s.rootSecret,
  endpoint: `${HOST}:${s.httpPort}`, protocol: 'http',
});
// The V1 answer as JSON (the Ram SDK's user model has no UserPrincipalName field).
const v1 = (action, params = {}, keyId, secret) => new RPCClient({
  accessKeyId: keyId ?? s.rootKeyId, accessKeySecret: secret ?? s.rootSecret, endpoint: s.endpoint, apiVersion: '2015-05-01',
}).request(action, params, { method: 'POST' });
async function rejects(promise, code) {
  try {
    await promise;
  } catch (e) {
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    return e;
  }
  assert.fail(`expected ${code}, the call succeeded`);
}
function login(name, password) {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ login: name, password });
    const req = http.request({ host: HOST, port: s.httpPort, method: 'POST', path: '/console/api/login', agent: false,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      let data = '';
      res.on('data', (d) => { data += d; });
      res.on('end', () => resolve({ status: res.statusCode, json: JSON.parse(data || '{}') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
const accountIds = () => Object.fromEntries(s.admin('account', 'list').trim().split('\n').map((l) => l.split('\t')).map((f) => [f[2], f[0]]));

test('account alias: default the account id, set, clear, unique, the cloud errors', async () => {
  const ram = new Ram(cfg());
  const id = accountIds().root;
  assert.match(id, /^\d{16}$/);
  assert.equal((await ram.getAccountAlias()).body.accountAlias, id, 'the default alias is the account id');

  const set = await ram.setAccountAlias(new $Ram.SetAccountAliasRequest({ accountAlias: 'acme-corp' }));
  assert.ok(set.body.requestId);
  assert.equal((await ram.getAccountAlias()).body.accountAlias, 'acme-corp');

  for (const [bad, code] of [['ab', 'InvalidParameter.AccountAlias.Length'], ['a'.repeat(33), 'InvalidParameter.AccountAlias.Length'],
    ['Acme', 'InvalidParameter.AccountAlias.InvalidChars'], ['-acme', 'InvalidParameter.AccountAlias.InvalidChars'],
    ['acme-', 'InvalidParameter.AccountAlias.InvalidChars'], ['acme_corp', 'InvalidParameter.AccountAlias.InvalidChars']])
    await rejects(ram.setAccountAlias(new $Ram.SetAccountAliasRequest({ accountAlias: bad })), code);
  await rejects(ram.setAccountAlias(new $Ram.SetAccountAliasRequest({})), 'MissingAccountAlias');

  // Unique across accounts: another account's alias, or its id, is taken.
  s.admin('account', 'create', '--login', 'other@example.com', '--alias', 'other-co', '--password', 'Other-Passw0rd');
  const otherId = accountIds()['other@example.com'];
  await rejects(ram.setAccountAlias(new $Ram.SetAccountAliasRequest({ accountAlias: 'other-co' })), 'EntityAlreadyExists.AccountAlias');
  await rejects(ram.setAccountAlias(new $Ram.SetAccountAliasRequest({ accountAlias: otherId })), 'EntityAlreadyExists.AccountAlias');
  assert.equal((await ram.getAccountAlias()).body.accountAlias, 'acme-corp', 'a refused change changes nothing');

  await ram.clearAccountAlias();
  assert.equal((await ram.getAccountAlias()).body.accountAlias, id, 'cleared: back to the account id');
  // Another account can now take the alias this one dropped (and this one its own again).
  await ram.setAccountAlias(new $Ram.SetAccountAliasRequest({ accountAlias: 'acme-corp' }));

  // Audited, under the cloud's action names.
  const pop = new RPCClient({ accessKeyId: s.rootKeyId, accessKeySecret: s.rootSecret, endpoint: s.endpoint, apiVersion: '2020-07-06' });
  const ev = await pop.request('LookupEvents', { 'LookupAttribute.1.Key': 'EventName', 'LookupAttribute.1.Value': 'SetAccountAlias' }, { method: 'POST' });
  assert.ok(ev.Events.length >= 2, JSON.stringify(ev));
  assert.ok(ev.Events.some((e) => e.errorCode === 'EntityAlreadyExists.AccountAlias'));
  const cleared = await pop.request('LookupEvents', { 'LookupAttribute.1.Key': 'EventName', 'LookupAttribute.1.Value': 'ClearAccountAlias' }, { method: 'POST' });
  assert.equal(cleared.Events.length, 1);
});

test('UserPrincipalName in CreateUser, GetUser, ListUsers, UpdateUser; follows the alias', async () => {
  const ram = new Ram(cfg());
  await ram.setAccountAlias(new $Ram.SetAccountAliasRequest({ accountAlias: 'acme-corp' }));
  assert.equal((await v1('CreateUser', { UserName: 'bob' })).User.UserPrincipalName, 'bob@acme-corp.onaliyun.com');
  assert.equal((await v1('GetUser', { UserName: 'bob' })).User.UserPrincipalName, 'bob@acme-corp.onaliyun.com');
  const list = await v1('ListUsers');
  assert.equal(list.Users.User.find((u) => u.UserName === 'bob').UserPrincipalName, 'bob@acme-corp.onaliyun.com');
  assert.equal((await v1('UpdateUser', { UserName: 'bob', NewDisplayName: 'Bob' })).User.UserPrincipalName, 'bob@acme-corp.onaliyun.com');
  // The SDK's own calls still parse (the extra field is ignored by its model).
  assert.equal((await ram.getUser(new $Ram.GetUserRequest({ userName: 'bob' }))).body.user.userName, 'bob');
  await ram.clearAccountAlias();
  const id = accountIds().root;
  assert.equal((await v1('GetUser', { UserName: 'bob' })).User.UserPrincipalName, `bob@${id}.onaliyun.com`);
  await ram.setAccountAlias(new $Ram.SetAccountAliasRequest({ accountAlias: 'acme-corp' }));
});

test('ResourceManager AttachPolicy / DetachPolicy take every form of the name, refuse another account', async () => {
  const rm = new Rm(cfg());
  const id = accountIds().root;
  const rg = (await rm.listResourceGroups(new $Rm.ListResourceGroupsRequest({}))).body.resourceGroups.resourceGroup[0].id;
  const forms = ['bob@acme-corp.onaliyun.com', 'bob@acme-corp', `bob@${id}`, `bob@${id}.onaliyun.com`, 'bob@ACME-CORP.ONALIYUN.COM'];
  for (const principalName of forms) {
    await rm.attachPolicy(new $Rm.AttachPolicyRequest({ resourceGroupId: rg, policyType: 'System', policyName: 'AliyunMQReadOnlyAccess',
      principalType: 'IMSUser', principalName }));
    const atts = (await rm.listPolicyAttachments(new $Rm.ListPolicyAttachmentsRequest({ resourceGroupId: rg }))).body.policyAttachments.policyAttachment;
    const a = atts.find((x) => x.policyName === 'AliyunMQReadOnlyAccess');
    assert.equal(a?.principalName, 'bob@acme-corp.onaliyun.com', principalName);
    await rm.detachPolicy(new $Rm.DetachPolicyRequest({ resourceGroupId: rg, policyType: 'System', policyName: 'AliyunMQReadOnlyAccess',
      principalType: 'IMSUser', principalName }));
    assert.equal((await rm.listPolicyAttachments(new $Rm.ListPolicyAttachmentsRequest({ resourceGroupId: rg }))).body.policyAttachments.policyAttachment.length, 0);
  }
  const otherId = accountIds()['other@example.com'];
  for (const principalName of ['bob@other-co.onaliyun.com', 'bob@other-co', `bob@${otherId}`, 'bob@nobody.onaliyun.com'])
    await rejects(rm.attachPolicy(new $Rm.AttachPolicyRequest({ resourceGroupId: rg, policyType: 'System', policyName: 'AliyunMQReadOnlyAccess',
      principalType: 'IMSUser', principalName })), 'EntityNotExist.User');
});

test('console sign-in: user@alias.onaliyun.com, user@alias and the account-id forms; another account refused', async () => {
  const id = accountIds().root;
  await v1('CreateLoginProfile', { UserName: 'bob', Password: 'Bob-Passw0rd-1' });
  for (const name of ['bob@acme-corp.onaliyun.com', 'bob@acme-corp', `bob@${id}`, `bob@${id}.onaliyun.com`]) {
    const r = await login(name, 'Bob-Passw0rd-1');
    assert.equal(r.status, 200, `${name}: ${JSON.stringify(r.json)}`);
    assert.equal(r.json.principal.name, 'bob');
    assert.equal(r.json.principal.accountId, id);
  }
  const otherId = accountIds()['other@example.com'];
  for (const name of ['bob@other-co.onaliyun.com', `bob@${otherId}`, 'bob@root'])
    assert.equal((await login(name, 'Bob-Passw0rd-1')).status, 401, name);
});

test('RAM-authorized: a user without the actions is refused, naming them', async () => {
  const ram = new Ram(cfg());
  const key = (await v1('CreateAccessKey', { UserName: 'bob' })).AccessKey;
  const bob = new Ram(cfg(key.AccessKeyId, key.AccessKeySecret));
  for (const [call, action] of [[() => bob.getAccountAlias(), 'ram:GetAccountAlias'],
    [() => bob.setAccountAlias(new $Ram.SetAccountAliasRequest({ accountAlias: 'bobs-alias' })), 'ram:SetAccountAlias'],
    [() => bob.clearAccountAlias(), 'ram:ClearAccountAlias']]) {
    const e = await rejects(call(), 'NoPermission');
    assert.match(JSON.stringify(e.data ?? e.message), new RegExp(action), action);
  }
  assert.equal((await ram.getAccountAlias()).body.accountAlias, 'acme-corp');
  await v1('AttachPolicyToUser', { PolicyType: 'System', PolicyName: 'ReadOnlyAccess', UserName: 'bob' });
  assert.equal((await bob.getAccountAlias()).body.accountAlias, 'acme-corp');
  await rejects(bob.setAccountAlias(new $Ram.SetAccountAliasRequest({ accountAlias: 'bobs-alias' })), 'NoPermission');
});
