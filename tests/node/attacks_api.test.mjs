// The standing attack suite of the management API (issue #14, findings 6, 7, 9,
// 11, 12), replayed with the cloud's own npm SDKs where the finding was made with
// them, and with hand-signed requests where the attack needs one the SDKs would
// not send. Each test failed against the code before its fix. Companion:
// tests/integration/test_attacks_api.py (the same findings from the V1 side, with
// two tenants, MQTT-visible effects and the audit trail).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import RPCClient from '@alicloud/pop-core';
import * as OpenApi from '@alicloud/openapi-client';
import RamMod, * as $Ram from '@alicloud/ram20150501';
import StsMod, * as $Sts from '@alicloud/sts20150401';
import RmMod, * as $Rm from '@alicloud/resourcemanager20200331';
import { Sluice, encode, HOST } from './api_harness.mjs';

const Ram = RamMod.default ?? RamMod;
const Sts = StsMod.default ?? StsMod;
const Rm = RmMod.default ?? RmMod;
const HERE = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

let s;
let acct;
before(async () => {
  s = await new Sluice().start();
  acct = (await new Sts(cfg()).getCallerIdentity()).body.accountId;
});
after(async () => { await s?.stop(); });

function cfg(keyId, secret, securityToken) {
  return new OpenApi.Config({
    accessKeyId: keyId ?? s.rootKeyId, accessKeySecret: secret ?? s.rootSecret, securityToken,
    endpoint: `${HOST}:${s.httpPort}`, protocol: 'http',
  });
}
const pop = (version, keyId, secret) => new RPCClient({
  accessKeyId: keyId ?? s.rootKeyId, accessKeySecret: secret ?? s.rootSecret, endpoint: s.endpoint, apiVersion: version,
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
// A second account (another tenant) with a root key, made with `sluice admin`.
function otherAccount(alias) {
  const id = s.admin('account', 'create', '--login', `${alias}@example.com`, '--alias', alias, '--password', 'password-123').trim();
  const out = s.admin('key', 'create', '--account', alias);
  const kv = Object.fromEntries(out.split('\n').filter((l) => l.includes(':') && !l.includes('('))
    .map((l) => [l.slice(0, l.indexOf(':')).trim(), l.slice(l.indexOf(':') + 1).trim()]));
  return { id, keyId: kv.AccessKeyId, secret: kv.AccessKeySecret };
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- finding 6

// docs/api.yaml: per operation, the parameters implemented / refused / ignored.
function documentedContracts() {
  const doc = fs.readFileSync(path.resolve(HERE, '..', '..', 'docs', 'api.yaml'), 'utf8');
  const out = new Map();
  const re = /"\/\?Action=(\w+)&Version=([\d-]+)":\s*\n\s*post:\s*\n\s*operationId: (\w+)_\w+\n([\s\S]*?)(?=\n {2}"\/|\ncomponents:|$)/g;
  for (const m of doc.matchAll(re)) {
    const [, action, , product, body] = m;
    const block = body.match(/x-sluice-parameters:\n((?: {8}.*\n?)*)/);
    if (!block) { out.set(`${product}/${action}`, null); continue; }
    const implemented = (block[1].match(/implemented: \[(.*)\]/)?.[1] ?? '').split(',').map((x) => x.trim()).filter(Boolean);
    const section = (key) => {
      const m2 = block[1].match(new RegExp(` {8}${key}:(.*)\\n((?: {10}- .*\\n?)*)`));
      return m2 ? [...m2[2].matchAll(/name: (\w+)/g)].map((x) => x[1]) : [];
    };
    out.set(`${product}/${action}`, { implemented, refused: section('refused'), ignored: section('ignored') });
  }
  return out;
}

test('finding 6: every parameter the cloud SDKs define for a served operation is implemented, refused or ignored', () => {
  const contracts = documentedContracts();
  const sdks = { Ram: '@alicloud/ram20150501', ResourceManager: '@alicloud/resourcemanager20200331', Sts: '@alicloud/sts20150401' };
  let checked = 0;
  const unlisted = [];
  for (const [key, c] of contracts) {
    const [product, action] = key.split('/');
    if (!sdks[product]) continue;
    assert.ok(c, `${key} has no x-sluice-parameters in docs/api.yaml`);
    const mod = require(sdks[product]);
    for (const cls of [mod[`${action}Request`], mod[`${action}ShrinkRequest`]]) {
      if (typeof cls?.names !== 'function') continue;
      for (const name of Object.values(cls.names())) {
        const base = name.split('.')[0];
        checked++;
        if (![...c.implemented, ...c.refused, ...c.ignored].includes(base)) unlisted.push(`${key}: ${name}`);
      }
    }
  }
  assert.deepEqual(unlisted, [], 'parameters the cloud defines that Sluice neither implements, refuses nor ignores');
  assert.ok(checked > 100, `only ${checked} SDK parameters were checked`);
});

test('finding 6: RAM AttachPolicyToUser honours ResourceGroupId (RAM SDK), refuses an unknown group, Detach by group keeps the account grant', async () => {
  const ram = new Ram(cfg());
  const rm = new Rm(cfg());
  await ram.createUser(new $Ram.CreateUserRequest({ userName: 'scoped' }));
  const rg = (await rm.createResourceGroup(new $Rm.CreateResourceGroupRequest({ name: 'rg-six', displayName: 'six' })))
    .body.resourceGroup.id;
  // The grant lands in the resource group, not the account.
  await ram.attachPolicyToUser(new $Ram.AttachPolicyToUserRequest({ policyType: 'System', policyName: 'AliyunMQFullAccess',
    userName: 'scoped', resourceGroupId: rg }));
  const atts = (await rm.listPolicyAttachments(new $Rm.ListPolicyAttachmentsRequest({ principalType: 'IMSUser',
    principalName: 'scoped' }))).body.policyAttachments.policyAttachment;
  assert.deepEqual(atts.map((a) => [a.policyName, a.resourceGroupId]), [['AliyunMQFullAccess', rg]]);
  const accountWide = (await ram.listPoliciesForUser(new $Ram.ListPoliciesForUserRequest({ userName: 'scoped' })))
    .body.policies.policy;
  assert.deepEqual(accountWide, [], 'the resource-group grant must not show as an account grant');
  // A made-up group is refused, for Attach and Detach.
  await rejects(ram.attachPolicyToUser(new $Ram.AttachPolicyToUserRequest({ policyType: 'System',
    policyName: 'AliyunMQReadOnlyAccess', userName: 'scoped', resourceGroupId: 'rg-made-up' })), 'EntityNotExist.ResourceGroup');
  await rejects(ram.detachPolicyFromUser(new $Ram.DetachPolicyFromUserRequest({ policyType: 'System',
    policyName: 'AliyunMQFullAccess', userName: 'scoped', resourceGroupId: 'rg-made-up' })), 'EntityNotExist.ResourceGroup');
  // The account id means the account scope, as in ResourceManager.
  await ram.attachPolicyToUser(new $Ram.AttachPolicyToUserRequest({ policyType: 'System', policyName: 'AliyunMQReadOnlyAccess',
    userName: 'scoped', resourceGroupId: acct }));
  // Detaching by group removes only the group's grant: the account grant of the
  // same policy is not touched, and a grant that is not in the group is not found.
  await rejects(ram.detachPolicyFromUser(new $Ram.DetachPolicyFromUserRequest({ policyType: 'System',
    policyName: 'AliyunMQReadOnlyAccess', userName: 'scoped', resourceGroupId: rg })), 'EntityNotExist.User.Policy');
  await ram.detachPolicyFromUser(new $Ram.DetachPolicyFromUserRequest({ policyType: 'System',
    policyName: 'AliyunMQFullAccess', userName: 'scoped', resourceGroupId: rg }));
  const left = (await ram.listPoliciesForUser(new $Ram.ListPoliciesForUserRequest({ userName: 'scoped' }))).body.policies.policy;
  assert.deepEqual(left.map((p) => p.policyName), ['AliyunMQReadOnlyAccess']);
});

test('finding 6: a parameter the cloud defines and Sluice does not implement is refused, never ignored', async () => {
  const ram = new Ram(cfg());
  // (Email, CascadingDelete, ExternalId and SourceIdentity, the examples here
  // before, are implemented since issue 21: tests/node/ram_parity.test.mjs.)
  // The RAM SDK sends Tag on CreateRole; Sluice keeps none: UnsupportedParameter naming it, no role made.
  const trust = JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole',
    Principal: { RAM: [`acs:ram::${acct}:root`] } }] });
  const e = await rejects(ram.createRole(new $Ram.CreateRoleRequest({ roleName: 'tagged', assumeRolePolicyDocument: trust,
    tag: [new $Ram.CreateRoleRequestTag({ key: 'env', value: 'prod' })] })), 'UnsupportedParameter');
  assert.match(e.message, /Tag/);
  assert.equal(e.statusCode ?? e.data?.statusCode ?? 400, 400);
  await rejects(ram.getRole(new $Ram.GetRoleRequest({ roleName: 'tagged' })), 'EntityNotExist.Role');
  // A tag filter that would be ignored (widening the list) is refused.
  await rejects(ram.listRoles(new $Ram.ListRolesRequest({ tag: [new $Ram.ListRolesRequestTag({ key: 'env', value: 'prod' })] })),
    'UnsupportedParameter');
  await rejects(ram.listPolicies(new $Ram.ListPoliciesRequest({ tag: [new $Ram.ListPoliciesRequestTag({ key: 'env', value: 'prod' })] })),
    'UnsupportedParameter');
  // A parameter of no operation (pop-core sends whatever it is given) is refused too.
  const u = await rejects(pop('2015-05-01').request('ListUsers', { Unheard: 'of' }), 'UnsupportedParameter');
  assert.match(u.message, /Unheard/);
  // Ignored-harmless ones pass: IncludeTags (resource groups carry no tags here).
  const g = await new Rm(cfg()).listResourceGroups(new $Rm.ListResourceGroupsRequest({ includeTags: true }));
  assert.ok(g.body.resourceGroups.resourceGroup.length >= 1);
});

// ---------------------------------------------------------------- finding 7

// A V3 request signed over `signedNames` only, then sent with `headers` (which
// may differ from what was signed).
function v3(signedAs, { headers, signedNames, query = {}, body = '' }) {
  const hash = crypto.createHash('sha256').update(body).digest('hex');
  const base = { host: `${HOST}:${s.httpPort}`, 'x-acs-action': signedAs, 'x-acs-version': '2015-04-01',
    'x-acs-date': new Date().toISOString().replace(/\.\d+Z$/, 'Z'), 'x-acs-signature-nonce': crypto.randomUUID(),
    'x-acs-content-sha256': hash };
  const signed = { ...base };
  const names = [...signedNames].sort();
  const q = Object.keys(query).sort().map((k) => `${encode(k)}=${encode(query[k])}`).join('&');
  const canon = ['POST', '/', q, names.map((n) => `${n}:${String(signed[n] ?? '').trim()}\n`).join(''), names.join(';'), hash]
    .join('\n');
  const sts = 'ACS3-HMAC-SHA256\n' + crypto.createHash('sha256').update(canon).digest('hex');
  const sig = crypto.createHmac('sha256', s.rootSecret).update(sts).digest('hex');
  const sent = { ...base, ...headers,
    authorization: `ACS3-HMAC-SHA256 Credential=${s.rootKeyId},SignedHeaders=${names.join(';')},Signature=${sig}` };
  return new Promise((resolve, reject) => {
    const req = http.request({ host: HOST, port: s.httpPort, method: 'POST', path: '/' + (q ? '?' + q : ''),
      headers: sent, agent: false }, (res) => {
      let data = '';
      res.on('data', (d) => { data += d; });
      res.on('end', () => resolve({ status: res.statusCode, json: JSON.parse(data) }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

test('finding 7: a V3 signature must cover x-acs-action, x-acs-version, host and every x-acs-* header', async () => {
  const all = ['host', 'x-acs-action', 'x-acs-version', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-content-sha256'];
  // The attack: signed as Sts GetCallerIdentity without the action header, sent as Ram ListUsers.
  const attack = await v3('GetCallerIdentity', { signedNames: all.filter((h) => h !== 'x-acs-action' && h !== 'x-acs-version'),
    headers: { 'x-acs-action': 'ListUsers', 'x-acs-version': '2015-05-01' } });
  assert.equal(attack.status, 400, JSON.stringify(attack.json));
  assert.equal(attack.json.Code, 'IncompleteSignature');
  assert.match(attack.json.Message, /x-acs-(action|version)/);
  assert.equal(attack.json.Users, undefined);
  // Each required header on its own.
  for (const missing of all) {
    const r = await v3('GetCallerIdentity', { signedNames: all.filter((h) => h !== missing), headers: {} });
    assert.equal(r.json.Code, 'IncompleteSignature', `${missing} unsigned: ${JSON.stringify(r.json)}`);
    assert.ok(r.json.Message.includes(missing), r.json.Message);
  }
  // Any other x-acs-* header sent must be signed too, and content-type with a form body.
  const extra = await v3('GetCallerIdentity', { signedNames: all, headers: { 'x-acs-security-token': 'slipped-in' } });
  assert.equal(extra.json.Code, 'IncompleteSignature');
  assert.match(extra.json.Message, /x-acs-security-token/);
  const form = await v3('GetCallerIdentity', { signedNames: all, body: 'RoleArn=x',
    headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  assert.equal(form.json.Code, 'IncompleteSignature');
  assert.match(form.json.Message, /content-type/);
  // Signed fully, the same request works; so do the SDKs (api.test.mjs runs them all).
  const good = await v3('GetCallerIdentity', { signedNames: all, headers: {} });
  assert.equal(good.status, 200, JSON.stringify(good.json));
  assert.equal(good.json.AccountId, acct);
  assert.equal((await new Ram(cfg()).listUsers(new $Ram.ListUsersRequest({}))).statusCode, 200);
});

// ---------------------------------------------------------------- finding 9

test('finding 9: ResourceManager AttachPolicy refuses a PrincipalName of another account (RM SDK)', async () => {
  const ram = new Ram(cfg());
  const rm = new Rm(cfg());
  await ram.createUser(new $Ram.CreateUserRequest({ userName: 'nine' }));
  const alias = (await ram.getAccountAlias()).body.accountAlias;
  const attach = (principalName) => rm.attachPolicy(new $Rm.AttachPolicyRequest({ resourceGroupId: acct, policyType: 'System',
    policyName: 'AliyunMQReadOnlyAccess', principalType: 'IMSUser', principalName }));
  const detach = (principalName) => rm.detachPolicy(new $Rm.DetachPolicyRequest({ resourceGroupId: acct, policyType: 'System',
    policyName: 'AliyunMQReadOnlyAccess', principalType: 'IMSUser', principalName }));
  for (const foreign of ['nine@another-account.onaliyun.com', 'nine@1234567890123456.onaliyun.com', 'nine@1234567890123456',
    'nine@evil', `nine@${acct}.onaliyun.com.evil.com`]) {
    const e = await rejects(attach(foreign), 'EntityNotExist.User');
    assert.ok(e.message.includes(foreign), e.message);
  }
  const bound = (await ram.listPoliciesForUser(new $Ram.ListPoliciesForUserRequest({ userName: 'nine' }))).body.policies.policy;
  assert.deepEqual(bound, [], 'a foreign principal name must not bind the local user of that name');
  // This account's own forms still work.
  for (const own of ['nine', `nine@${acct}`, `nine@${acct}.onaliyun.com`, `nine@${alias}.onaliyun.com`, `nine@${alias}`,
    `nine@${alias.toUpperCase()}.ONALIYUN.COM`]) {
    await attach(own);
    await detach(own);
  }
});

// ---------------------------------------------------------------- finding 11

test('finding 11: AssumeRole answers another account\'s real role and a missing one alike (STS SDK)', async () => {
  const other = otherAccount('otheracct');
  await sleep(300);  // the server notices the admin's writes within 200 ms
  const otherRam = new Ram(cfg(other.keyId, other.secret));
  await otherRam.createRole(new $Ram.CreateRoleRequest({ roleName: 'real', assumeRolePolicyDocument: JSON.stringify({
    Version: '1', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { RAM: [`acs:ram::${other.id}:root`] } }] }) }));
  const sts = new Sts(cfg());
  const attempt = async (name) => {
    try {
      await sts.assumeRole(new $Sts.AssumeRoleRequest({ roleArn: `acs:ram::${other.id}:role/${name}`, roleSessionName: 'probe' }));
    } catch (e) {
      return { code: e.code, status: e.statusCode, message: e.message.replace(name, '<role>').replace(/request id: \S+/, '') };
    }
    assert.fail(`assuming ${name} succeeded`);
  };
  const real = await attempt('real');
  const missing = await attempt('missing');
  assert.equal(real.code, 'NoPermission');
  assert.deepEqual(real, missing, 'a real role and a missing one must be answered alike');
});

// ---------------------------------------------------------------- finding 12

test('finding 12: CreateRole / UpdateRole refuse a trust policy that admits every account; naming one account warns', async () => {
  const ram = new Ram(cfg());
  const trust = (principal) => JSON.stringify({ Version: '1',
    Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { RAM: principal } }] });
  for (const wild of [['*'], ['acs:ram::*:root'], [`acs:ram::${acct}:root`, 'acs:ram::*:user/*'], ['acs:ram::1?34567890123456:root']]) {
    const e = await rejects(ram.createRole(new $Ram.CreateRoleRequest({ roleName: 'wild', assumeRolePolicyDocument: trust(wild) })),
      'MalformedPolicyDocument');
    assert.match(e.message, /every account/);
  }
  await ram.createRole(new $Ram.CreateRoleRequest({ roleName: 'tame', assumeRolePolicyDocument: trust([`acs:ram::${acct}:root`]) }));
  await rejects(ram.updateRole(new $Ram.UpdateRoleRequest({ roleName: 'tame', newAssumeRolePolicyDocument: trust(['*']) })),
    'MalformedPolicyDocument');
  // A Condition that would not be evaluated is refused (sts:ExternalId is evaluated since issue 21:
  // tests/node/ram_parity.test.mjs; any other key is not).
  await rejects(ram.createRole(new $Ram.CreateRoleRequest({ roleName: 'cond', assumeRolePolicyDocument: JSON.stringify({
    Version: '1', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { RAM: [`acs:ram::${acct}:root`] },
      Condition: { StringEquals: { 'acs:SourceIp': '10.0.0.1' } } }] }) })), 'MalformedPolicyDocument');
  // Naming another account is allowed, with a warning in the answer (TrustWarnings).
  const r = await pop('2015-05-01').request('UpdateRole', { RoleName: 'tame',
    NewAssumeRolePolicyDocument: trust([`acs:ram::${acct}:root`, 'acs:ram::6543210987654321:root']) }, { method: 'POST' });
  assert.deepEqual(r.TrustWarnings.map((w) => [w.Code, w.Account]), [['CrossAccountTrust', '6543210987654321']]);
  assert.match(r.TrustWarnings[0].Message, /6543210987654321/);
  const quiet = await pop('2015-05-01').request('UpdateRole', { RoleName: 'tame',
    NewAssumeRolePolicyDocument: trust([`acs:ram::${acct}:root`]) }, { method: 'POST' });
  assert.equal(quiet.TrustWarnings, undefined);
});

// ---------------------------------------------------------------- issue 21: MFA and the password policy

// RFC 6238, as an authenticator app computes it (tests/node/ram_parity.test.mjs has the same).
function totpAt(seedBase32, t) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0, value = 0;
  const seed = [];
  for (const ch of seedBase32) {
    value = (value << 5) | alphabet.indexOf(ch);
    bits += 5;
    if (bits >= 8) { seed.push((value >>> (bits - 8)) & 255); bits -= 8; }
  }
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(Math.floor(t / 30)));
  const mac = crypto.createHmac('sha1', Buffer.from(seed)).update(msg).digest();
  const off = mac[mac.length - 1] & 15;
  return String((mac.readUInt32BE(off) & 0x7fffffff) % 1e6).padStart(6, '0');
}
function consoleJson(path, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: HOST, port: s.httpPort, method: 'POST', path,
      headers: { 'content-type': 'application/json', ...headers }, agent: false }, (res) => {
      let data = '';
      res.on('data', (d) => { data += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, json: JSON.parse(data || '{}') }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}
async function mfaUser(ram, name) {
  await ram.createUser(new $Ram.CreateUserRequest({ userName: name }));
  await ram.createLoginProfile(new $Ram.CreateLoginProfileRequest({ userName: name, password: `${name}-Passw0rd-1` }));
  const dev = (await ram.createVirtualMFADevice(new $Ram.CreateVirtualMFADeviceRequest({ virtualMFADeviceName: `${name}-dev` })))
    .body.virtualMFADevice;
  const now = Date.now() / 1000;
  await ram.bindMFADevice(new $Ram.BindMFADeviceRequest({ userName: name, serialNumber: dev.serialNumber,
    authenticationCode1: totpAt(dev.base32StringSeed, now - 30), authenticationCode2: totpAt(dev.base32StringSeed, now) }));
  const alias = (await ram.getAccountAlias()).body.accountAlias;
  return { login: `${name}@${alias}`, password: `${name}-Passw0rd-1`, seed: dev.base32StringSeed, boundAt: now };
}

test('issue 21: an MFA code is accepted once (replay of a sign-in code, and of the codes that bound the device, refused)', async () => {
  const ram = new Ram(cfg());
  const u = await mfaUser(ram, 'replay');
  // The codes used to bind are spent: the current one cannot sign in.
  let r = await consoleJson('/console/api/login', { login: u.login, password: u.password, mfaCode: totpAt(u.seed, u.boundAt) });
  assert.equal(r.status, 401);
  assert.equal(r.json.Code, 'InvalidMFACode');
  // The next step's code signs in once; the same code again is refused.
  const next = totpAt(u.seed, u.boundAt + 30);
  r = await consoleJson('/console/api/login', { login: u.login, password: u.password, mfaCode: next });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  r = await consoleJson('/console/api/login', { login: u.login, password: u.password, mfaCode: next });
  assert.equal(r.status, 401);
  assert.equal(r.json.Code, 'InvalidMFACode');
  assert.equal(r.headers['set-cookie'], undefined);
});

test('issue 21: guessing MFA codes is throttled like wrong passwords (MaxLoginAttemps locks the user, even for the right code)', async () => {
  const ram = new Ram(cfg());
  const u = await mfaUser(ram, 'guess');
  const right = totpAt(u.seed, u.boundAt + 30);
  let r;
  for (let i = 0; i < 5; i++) {
    const wrong = String((Number(right) + 1 + i) % 1e6).padStart(6, '0');
    r = await consoleJson('/console/api/login', { login: u.login, password: u.password, mfaCode: wrong });
    assert.equal(r.json.Code, 'InvalidMFACode', `attempt ${i}`);
  }
  r = await consoleJson('/console/api/login', { login: u.login, password: u.password, mfaCode: right });
  assert.equal(r.status, 429);
  assert.equal(r.json.Code, 'LoginLocked');
  // An administrator's password reset unlocks.
  await ram.updateLoginProfile(new $Ram.UpdateLoginProfileRequest({ userName: 'guess', password: 'guess-Passw0rd-2' }));
  r = await consoleJson('/console/api/login', { login: u.login, password: 'guess-Passw0rd-2', mfaCode: right });
  assert.equal(r.status, 200, JSON.stringify(r.json));
});

test('issue 21: the password policy holds on every path that sets a RAM user password (API, ChangePassword, console, sluice admin)', async () => {
  const ram = new Ram(cfg());
  await ram.setPasswordPolicy(new $Ram.SetPasswordPolicyRequest({ minimumPasswordLength: 16, requireSymbols: true }));
  try {
    const weak = 'longbutnosymbols12345';
    await ram.createUser(new $Ram.CreateUserRequest({ userName: 'pol' }));
    await rejects(ram.createLoginProfile(new $Ram.CreateLoginProfileRequest({ userName: 'pol', password: weak })),
      'InvalidParameter.Password.PolicyViolation');
    await ram.createLoginProfile(new $Ram.CreateLoginProfileRequest({ userName: 'pol', password: 'pol-Passw0rd-long!' }));
    await rejects(ram.updateLoginProfile(new $Ram.UpdateLoginProfileRequest({ userName: 'pol', password: weak })),
      'InvalidParameter.Password.PolicyViolation');
    // pop-core (signature V1) takes the same path.
    await rejects(pop('2015-05-01').request('UpdateLoginProfile', { UserName: 'pol', Password: 'short' }, { method: 'POST' }),
      'InvalidParameter.Password.PolicyViolation');
    const key = (await ram.createAccessKey(new $Ram.CreateAccessKeyRequest({ userName: 'pol' }))).body.accessKey;
    await rejects(new Ram(cfg(key.accessKeyId, key.accessKeySecret)).changePassword(new $Ram.ChangePasswordRequest({
      oldPassword: 'pol-Passw0rd-long!', newPassword: weak })), 'InvalidParameter.Password.PolicyViolation');
    const alias = (await ram.getAccountAlias()).body.accountAlias;
    const signin = await consoleJson('/console/api/login', { login: `pol@${alias}`, password: 'pol-Passw0rd-long!' });
    assert.equal(signin.status, 200);
    const cookie = signin.headers['set-cookie'][0].split(';')[0];
    const r = await consoleJson('/console/api/password', { oldPassword: 'pol-Passw0rd-long!', newPassword: weak },
      { cookie, 'x-csrf-token': signin.json.csrfToken });
    assert.equal(r.json.Code, 'InvalidParameter.Password.PolicyViolation');
    assert.throws(() => s.admin('user', 'create', '--account', acct, '--name', 'pol2', '--password', weak),
      /PolicyViolation|password policy/);
    // The old password still signs in: nothing above changed it.
    assert.equal((await consoleJson('/console/api/login', { login: `pol@${alias}`, password: 'pol-Passw0rd-long!' })).status, 200);
  } finally {
    await ram.setPasswordPolicy(new $Ram.SetPasswordPolicyRequest({ minimumPasswordLength: 8, requireSymbols: false }));
  }
});
