// Issue 21, the RAM / STS / Ims part, with the cloud's own SDKs unchanged
// (@alicloud/ram20150501, sts20150401, ims20190815; signature V3): the account's
// password policy and security preference, ChangePassword, GetAccessKeyLastUsed,
// UpdatePolicyDescription, UpdateRole / UpdateUser's new fields, DeletePolicy's
// CascadingDelete, virtual MFA (API and console sign-in), AssumeRole's
// ExternalId and SourceIdentity, GetAccountSummary under Ims.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import * as OpenApi from '@alicloud/openapi-client';
import RamMod, * as $Ram from '@alicloud/ram20150501';
import StsMod, * as $Sts from '@alicloud/sts20150401';
import ImsMod from '@alicloud/ims20190815';
import RPCClient from '@alicloud/pop-core';
import mqtt from 'mqtt';
import { Sluice, HOST, mqttPassword } from './api_harness.mjs';

const Ram = RamMod.default ?? RamMod;
const Sts = StsMod.default ?? StsMod;
const Ims = ImsMod.default ?? ImsMod;

let s;
before(async () => { s = await new Sluice().start({ SLUICE_ROOT_PASSWORD: 'root-Passw0rd-21' }); });
after(async () => { await s?.stop(); });

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

// RFC 6238 TOTP, as an authenticator app computes it.
export function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0, value = 0;
  const out = [];
  for (const ch of text.replace(/=+$/, '')) {
    value = (value << 5) | alphabet.indexOf(ch);
    bits += 5;
    if (bits >= 8) { out.push((value >>> (bits - 8)) & 255); bits -= 8; }
  }
  return Buffer.from(out);
}
export function totp(seedBase32, t = Date.now() / 1000) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(Math.floor(t / 30)));
  const mac = crypto.createHmac('sha1', base32Decode(seedBase32)).update(msg).digest();
  const off = mac[mac.length - 1] & 15;
  return String((mac.readUInt32BE(off) & 0x7fffffff) % 1e6).padStart(6, '0');
}

function consoleLogin(body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: HOST, port: s.httpPort, method: 'POST', path: '/console/api/login',
      headers: { 'content-type': 'application/json' }, agent: false }, (res) => {
      let data = '';
      res.on('data', (d) => { data += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, json: JSON.parse(data || '{}') }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}
function consolePost(session, path, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: HOST, port: s.httpPort, method: 'POST', path,
      headers: { 'content-type': 'application/json', cookie: session.cookie, 'x-csrf-token': session.csrf }, agent: false },
    (res) => {
      let data = '';
      res.on('data', (d) => { data += d; });
      res.on('end', () => resolve({ status: res.statusCode, json: JSON.parse(data || '{}') }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}
const sessionOf = (r) => ({ cookie: r.headers['set-cookie'][0].split(';')[0], csrf: r.json.csrfToken });
const alias = async (ram) => (await ram.getAccountAlias()).body.accountAlias;
async function userWithKey(ram, name) {
  await ram.createUser(new $Ram.CreateUserRequest({ userName: name }));
  return (await ram.createAccessKey(new $Ram.CreateAccessKeyRequest({ userName: name }))).body.accessKey;
}

test('GetAccountSummary under Ims 2019-08-15 gives the Ram answer', async () => {
  const ram = new Ram(cfg());
  const ims = new Ims(cfg());
  await ram.createUser(new $Ram.CreateUserRequest({ userName: 'summary-user' }));
  // The Ram SDK no longer has it (the cloud moved it to Ims); pop-core still calls Ram's.
  const a = (await new RPCClient({ accessKeyId: s.rootKeyId, accessKeySecret: s.rootSecret, endpoint: s.endpoint,
    apiVersion: '2015-05-01' }).request('GetAccountSummary', {}, { method: 'POST' })).SummaryMap;
  const b = (await ims.getAccountSummary()).body.summaryMap;
  assert.ok(b.users >= 1);
  assert.equal(b.users, a.Users);
  assert.equal(b.usersQuota, a.UsersQuota);
  assert.equal(typeof b.MFADevices, 'number');
  assert.equal(typeof b.virtualMFADevicesQuota, 'number');
  await ram.deleteUser(new $Ram.DeleteUserRequest({ userName: 'summary-user' }));
});

test('password policy: Get/Set with the cloud fields, enforced by CreateLoginProfile, UpdateLoginProfile, ChangePassword and the console', async () => {
  const ram = new Ram(cfg());
  const def = (await ram.getPasswordPolicy()).body.passwordPolicy;
  assert.equal(def.minimumPasswordLength, 8);
  assert.equal(def.maxLoginAttemps, 5);
  assert.equal(def.requireSymbols, false);
  const set = (await ram.setPasswordPolicy(new $Ram.SetPasswordPolicyRequest({ minimumPasswordLength: 12,
    requireLowercaseCharacters: true, requireUppercaseCharacters: true, requireNumbers: true, requireSymbols: true,
    passwordReusePrevention: 2, maxLoginAttemps: 5 }))).body.passwordPolicy;
  assert.equal(set.minimumPasswordLength, 12);
  assert.equal(set.passwordReusePrevention, 2);
  const got = (await ram.getPasswordPolicy()).body.passwordPolicy;
  assert.deepEqual({ ...got }, { ...set });
  await rejects(ram.setPasswordPolicy(new $Ram.SetPasswordPolicyRequest({ minimumPasswordLength: 7 })),
    'InvalidParameter.MinimumPasswordLength');

  const key = await userWithKey(ram, 'pat');
  const weak = await rejects(ram.createLoginProfile(new $Ram.CreateLoginProfileRequest({ userName: 'pat', password: 'short1A!' })),
    'InvalidParameter.Password.PolicyViolation');
  assert.match(weak.message, /12 characters/);
  await rejects(ram.createLoginProfile(new $Ram.CreateLoginProfileRequest({ userName: 'pat', password: 'nouppercase-123!' })),
    'InvalidParameter.Password.PolicyViolation');
  await ram.createLoginProfile(new $Ram.CreateLoginProfileRequest({ userName: 'pat', password: 'Pat-Passw0rd-1!' }));
  await rejects(ram.updateLoginProfile(new $Ram.UpdateLoginProfileRequest({ userName: 'pat', password: 'weakweakweak' })),
    'InvalidParameter.Password.PolicyViolation');

  // ChangePassword: the user itself (its own key), old password checked, policy and reuse enforced.
  const pat = new Ram(cfg(key.accessKeyId, key.accessKeySecret));
  await rejects(pat.changePassword(new $Ram.ChangePasswordRequest({ oldPassword: 'Wrong-Passw0rd-1!', newPassword: 'Pat-Passw0rd-2!' })),
    'InvalidParameter.OldPassword');
  await rejects(pat.changePassword(new $Ram.ChangePasswordRequest({ oldPassword: 'Pat-Passw0rd-1!', newPassword: 'weak' })),
    'InvalidParameter.Password.PolicyViolation');
  await pat.changePassword(new $Ram.ChangePasswordRequest({ oldPassword: 'Pat-Passw0rd-1!', newPassword: 'Pat-Passw0rd-2!' }));
  await rejects(pat.changePassword(new $Ram.ChangePasswordRequest({ oldPassword: 'Pat-Passw0rd-2!', newPassword: 'Pat-Passw0rd-1!' })),
    'InvalidParameter.Password.Reused');
  // The root account has no RAM password to change.
  await rejects(ram.changePassword(new $Ram.ChangePasswordRequest({ oldPassword: 'x', newPassword: 'y' })),
    'InvalidIdentity.NotRamUser');

  // The console's own change-password holds the policy too.
  const signin = await consoleLogin({ login: `pat@${await alias(ram)}`, password: 'Pat-Passw0rd-2!' });
  assert.equal(signin.status, 200, JSON.stringify(signin.json));
  const r = await consolePost(sessionOf(signin), '/console/api/password', { oldPassword: 'Pat-Passw0rd-2!', newPassword: 'weakpassword' });
  assert.equal(r.status, 400);
  assert.equal(r.json.Code, 'InvalidParameter.Password.PolicyViolation');

  await ram.setPasswordPolicy(new $Ram.SetPasswordPolicyRequest({ minimumPasswordLength: 8, requireLowercaseCharacters: false,
    requireUppercaseCharacters: false, requireNumbers: false, requireSymbols: false, passwordReusePrevention: 0 }));
});

test('security preference: the cloud fields; AllowUserToChangePassword and AllowUserToManageAccessKeys decide', async () => {
  const ram = new Ram(cfg());
  const def = (await ram.getSecurityPreference()).body.securityPreference;
  assert.equal(def.loginProfilePreference.allowUserToChangePassword, true);
  assert.equal(def.accessKeyPreference.allowUserToManageAccessKeys, false);
  assert.equal(def.MFAPreference.allowUserToManageMFADevices, true);
  assert.equal(def.loginProfilePreference.loginSessionDuration, 6);

  const key = await userWithKey(ram, 'sue');
  await ram.createLoginProfile(new $Ram.CreateLoginProfileRequest({ userName: 'sue', password: 'Sue-Passw0rd-1' }));
  const sue = new Ram(cfg(key.accessKeyId, key.accessKeySecret));
  // Own keys: no policy and the preference off -> NoPermission; on -> allowed.
  await rejects(sue.listAccessKeys(new $Ram.ListAccessKeysRequest({})), 'NoPermission');
  const on = (await ram.setSecurityPreference(new $Ram.SetSecurityPreferenceRequest({ allowUserToManageAccessKeys: true })))
    .body.securityPreference;
  assert.equal(on.accessKeyPreference.allowUserToManageAccessKeys, true);
  assert.equal(on.loginProfilePreference.allowUserToChangePassword, true, 'fields not sent keep their values');
  const mine = (await sue.listAccessKeys(new $Ram.ListAccessKeysRequest({}))).body.accessKeys.accessKey;
  assert.deepEqual(mine.map((k) => k.accessKeyId), [key.accessKeyId]);
  // ... only its own: another user's keys still need a policy.
  await ram.createUser(new $Ram.CreateUserRequest({ userName: 'other' }));
  await rejects(sue.listAccessKeys(new $Ram.ListAccessKeysRequest({ userName: 'other' })), 'NoPermission');
  await ram.setSecurityPreference(new $Ram.SetSecurityPreferenceRequest({ allowUserToManageAccessKeys: false }));
  await rejects(sue.listAccessKeys(new $Ram.ListAccessKeysRequest({})), 'NoPermission');

  // AllowUserToChangePassword off: ChangePassword (API and console) refused.
  await ram.setSecurityPreference(new $Ram.SetSecurityPreferenceRequest({ allowUserToChangePassword: false }));
  await rejects(sue.changePassword(new $Ram.ChangePasswordRequest({ oldPassword: 'Sue-Passw0rd-1', newPassword: 'Sue-Passw0rd-2' })),
    'NoPermission');
  const signin = await consoleLogin({ login: `sue@${await alias(ram)}`, password: 'Sue-Passw0rd-1' });
  const r = await consolePost(sessionOf(signin), '/console/api/password', { oldPassword: 'Sue-Passw0rd-1', newPassword: 'Sue-Passw0rd-2' });
  assert.equal(r.status, 403);
  assert.equal(r.json.Code, 'Forbidden.ChangePassword');
  await ram.setSecurityPreference(new $Ram.SetSecurityPreferenceRequest({ allowUserToChangePassword: true }));
  await sue.changePassword(new $Ram.ChangePasswordRequest({ oldPassword: 'Sue-Passw0rd-1', newPassword: 'Sue-Passw0rd-2' }));
  await rejects(ram.setSecurityPreference(new $Ram.SetSecurityPreferenceRequest({ loginSessionDuration: 25 })),
    'InvalidParameter.LoginSessionDuration');
});

test('GetAccessKeyLastUsed: empty until the key signs an API call or an MQTT connect', async () => {
  const ram = new Ram(cfg());
  const key = await userWithKey(ram, 'kay');
  const ask = () => ram.getAccessKeyLastUsed(new $Ram.GetAccessKeyLastUsedRequest({ userName: 'kay', userAccessKeyId: key.accessKeyId }));
  assert.equal((await ask()).body.accessKeyLastUsed.lastUsedDate, '');
  const kay = new Sts(cfg(key.accessKeyId, key.accessKeySecret));
  await kay.getCallerIdentity();
  const used = (await ask()).body.accessKeyLastUsed.lastUsedDate;
  assert.match(used, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.ok(Math.abs(Date.parse(used) - Date.now()) < 60000);
  await rejects(ram.getAccessKeyLastUsed(new $Ram.GetAccessKeyLastUsedRequest({ userName: 'other-kay', userAccessKeyId: key.accessKeyId })),
    'EntityNotExist.User.AccessKey');

  // An MQTT connect signed with a key counts as a use too.
  const pop = (v) => new RPCClient({ accessKeyId: s.rootKeyId, accessKeySecret: s.rootSecret, endpoint: s.endpoint, apiVersion: v });
  await pop('2019-02-14').request('OpenOnsService', {}, { method: 'POST' });
  const inst = (await pop('2020-04-20').request('CreateInstance', { InstanceName: 'lastused' }, { method: 'POST' })).InstanceId;
  await pop('2020-04-20').request('CreateGroupId', { InstanceId: inst, GroupId: 'GID_lastused' }, { method: 'POST' });
  const mkey = await userWithKey(ram, 'mqtt-kay');
  const c = await mqtt.connectAsync(`mqtt://${HOST}:${s.mqttPort}`, {
    clientId: 'GID_lastused@@@d1', username: `Signature|${mkey.accessKeyId}|${inst}`, password: mqttPassword(mkey.accessKeySecret, 'GID_lastused@@@d1'),
    protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000,
  }).catch((e) => e);
  if (c.endAsync) await c.endAsync();
  const mused = (await ram.getAccessKeyLastUsed(new $Ram.GetAccessKeyLastUsedRequest({ userName: 'mqtt-kay', userAccessKeyId: mkey.accessKeyId })))
    .body.accessKeyLastUsed.lastUsedDate;
  assert.notEqual(mused, '', 'the MQTT connect was recorded');
});

test('UpdatePolicyDescription, UpdateRole NewDescription, UpdateUser NewEmail / NewMobilePhone, DeletePolicy CascadingDelete', async () => {
  const ram = new Ram(cfg());
  const doc = (a) => JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: [a], Resource: ['*'] }] });
  await ram.createPolicy(new $Ram.CreatePolicyRequest({ policyName: 'casc', policyDocument: doc('mq:ListInstances'), description: 'old' }));
  const up = (await ram.updatePolicyDescription(new $Ram.UpdatePolicyDescriptionRequest({ policyName: 'casc', newDescription: 'new words' }))).body.policy;
  assert.equal(up.description, 'new words');
  assert.equal(up.policyType, 'Custom');
  assert.equal((await ram.getPolicy(new $Ram.GetPolicyRequest({ policyName: 'casc', policyType: 'Custom' }))).body.policy.description, 'new words');
  await rejects(ram.updatePolicyDescription(new $Ram.UpdatePolicyDescriptionRequest({ policyName: 'nope', newDescription: 'x' })),
    'EntityNotExist.Policy');

  const trust = JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { RAM: ['acs:ram::' + (await accountId()) + ':root'] } }] });
  await ram.createRole(new $Ram.CreateRoleRequest({ roleName: 'desc-role', assumeRolePolicyDocument: trust, description: 'a' }));
  const role = (await ram.updateRole(new $Ram.UpdateRoleRequest({ roleName: 'desc-role', newDescription: 'b', newMaxSessionDuration: 7200 }))).body.role;
  assert.equal(role.description, 'b');
  assert.equal(role.maxSessionDuration, 7200);

  await ram.createUser(new $Ram.CreateUserRequest({ userName: 'eve', email: 'eve@example.com', mobilePhone: '86-18600008888' }));
  assert.equal((await ram.getUser(new $Ram.GetUserRequest({ userName: 'eve' }))).body.user.email, 'eve@example.com');
  const u = (await ram.updateUser(new $Ram.UpdateUserRequest({ userName: 'eve', newEmail: 'eve@example.org', newMobilePhone: '1-5550100' }))).body.user;
  assert.equal(u.email, 'eve@example.org');
  assert.equal(u.mobilePhone, '1-5550100');
  await rejects(ram.updateUser(new $Ram.UpdateUserRequest({ userName: 'eve', newEmail: 'not-an-email' })), 'InvalidParameter.Email');
  await rejects(ram.updateUser(new $Ram.UpdateUserRequest({ userName: 'eve', newMobilePhone: '+86 186' })), 'InvalidParameter.MobilePhone');

  // CascadingDelete: attached to a user and a role, with a second version.
  await ram.createPolicyVersion(new $Ram.CreatePolicyVersionRequest({ policyName: 'casc', policyDocument: doc('mq:ListTopic') }));
  await ram.attachPolicyToUser(new $Ram.AttachPolicyToUserRequest({ policyType: 'Custom', policyName: 'casc', userName: 'eve' }));
  await ram.attachPolicyToRole(new $Ram.AttachPolicyToRoleRequest({ policyType: 'Custom', policyName: 'casc', roleName: 'desc-role' }));
  await assert.rejects(ram.deletePolicy(new $Ram.DeletePolicyRequest({ policyName: 'casc' })), (e) => /^DeleteConflict\.Policy\.(User|Role)$/.test(e.code));
  await ram.deletePolicy(new $Ram.DeletePolicyRequest({ policyName: 'casc', cascadingDelete: true }));
  await rejects(ram.getPolicy(new $Ram.GetPolicyRequest({ policyName: 'casc', policyType: 'Custom' })), 'EntityNotExist.Policy');
  assert.equal((await ram.listPoliciesForUser(new $Ram.ListPoliciesForUserRequest({ userName: 'eve' }))).body.policies.policy.length, 0);
  assert.equal((await ram.listPoliciesForRole(new $Ram.ListPoliciesForRoleRequest({ roleName: 'desc-role' }))).body.policies.policy.length, 0);
});

async function accountId() {
  return (await new Sts(cfg()).getCallerIdentity()).body.accountId;
}

test('virtual MFA: create, bind with two consecutive codes, info, list, console sign-in asks for the code, unbind, delete', async () => {
  const ram = new Ram(cfg());
  await ram.createUser(new $Ram.CreateUserRequest({ userName: 'mia' }));
  await ram.createLoginProfile(new $Ram.CreateLoginProfileRequest({ userName: 'mia', password: 'Mia-Passw0rd-1' }));
  const dev = (await ram.createVirtualMFADevice(new $Ram.CreateVirtualMFADeviceRequest({ virtualMFADeviceName: 'mia-phone' }))).body.virtualMFADevice;
  const acct = await accountId();
  assert.equal(dev.serialNumber, `acs:ram::${acct}:mfa/mia-phone`);
  assert.match(dev.base32StringSeed, /^[A-Z2-7]{32}$/);
  await rejects(ram.createVirtualMFADevice(new $Ram.CreateVirtualMFADeviceRequest({ virtualMFADeviceName: 'mia-phone' })),
    'EntityAlreadyExists.VirtualMFADevice');
  await rejects(ram.getUserMFAInfo(new $Ram.GetUserMFAInfoRequest({ userName: 'mia' })), 'EntityNotExist.User.MFADevice');

  const now = Date.now() / 1000;
  await rejects(ram.bindMFADevice(new $Ram.BindMFADeviceRequest({ userName: 'mia', serialNumber: dev.serialNumber,
    authenticationCode1: totp(dev.base32StringSeed, now), authenticationCode2: totp(dev.base32StringSeed, now) })),
  'InvalidAuthenticationCode');
  await ram.bindMFADevice(new $Ram.BindMFADeviceRequest({ userName: 'mia', serialNumber: dev.serialNumber,
    authenticationCode1: totp(dev.base32StringSeed, now - 30), authenticationCode2: totp(dev.base32StringSeed, now) }));
  const info = (await ram.getUserMFAInfo(new $Ram.GetUserMFAInfoRequest({ userName: 'mia' }))).body.MFADevice;
  assert.equal(info.serialNumber, dev.serialNumber);
  assert.equal(info.type, 'VMFA');
  const listed = (await ram.listVirtualMFADevices()).body.virtualMFADevices.virtualMFADevice;
  const mine = listed.find((d) => d.serialNumber === dev.serialNumber);
  assert.equal(mine.user.userName, 'mia');
  assert.match(mine.activateDate, /Z$/);
  await rejects(ram.deleteVirtualMFADevice(new $Ram.DeleteVirtualMFADeviceRequest({ serialNumber: dev.serialNumber })),
    'DeleteConflict.VirtualMFADevice.User');

  // Console sign-in: the password alone is not enough; then the code (next step: the bind used this one).
  const login = `mia@${await alias(ram)}`;
  let r = await consoleLogin({ login, password: 'Mia-Passw0rd-1' });
  assert.equal(r.status, 401);
  assert.equal(r.json.Code, 'MFARequired');
  assert.equal(r.headers['set-cookie'], undefined, 'no session before the code');
  r = await consoleLogin({ login, password: 'Mia-Passw0rd-1', mfaCode: totp(dev.base32StringSeed, now + 30) });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.principal.name, 'mia');

  const unbound = (await ram.unbindMFADevice(new $Ram.UnbindMFADeviceRequest({ userName: 'mia' }))).body.MFADevice;
  assert.equal(unbound.serialNumber, dev.serialNumber);
  r = await consoleLogin({ login, password: 'Mia-Passw0rd-1' });
  assert.equal(r.status, 200, 'no device, no code asked');
  await ram.deleteVirtualMFADevice(new $Ram.DeleteVirtualMFADeviceRequest({ serialNumber: dev.serialNumber }));
  assert.equal((await ram.listVirtualMFADevices()).body.virtualMFADevices.virtualMFADevice.length, 0);
  await rejects(ram.deleteVirtualMFADevice(new $Ram.DeleteVirtualMFADeviceRequest({ serialNumber: dev.serialNumber })),
    'EntityNotExist.VirtualMFADevice');

  // sluice admin: unbind a lost device; show the password policy.
  const dev2 = (await ram.createVirtualMFADevice(new $Ram.CreateVirtualMFADeviceRequest({ virtualMFADeviceName: 'mia-phone2' }))).body.virtualMFADevice;
  const t2 = Date.now() / 1000;
  await ram.bindMFADevice(new $Ram.BindMFADeviceRequest({ userName: 'mia', serialNumber: dev2.serialNumber,
    authenticationCode1: totp(dev2.base32StringSeed, t2 - 30), authenticationCode2: totp(dev2.base32StringSeed, t2) }));
  assert.match(s.admin('user', 'unbind-mfa', '--account', acct, '--name', 'mia'), /unbound acs:ram::\d+:mfa\/mia-phone2/);
  await rejects(ram.getUserMFAInfo(new $Ram.GetUserMFAInfoRequest({ userName: 'mia' })), 'EntityNotExist.User.MFADevice');
  assert.equal(JSON.parse(s.admin('user', 'password-policy', '--account', acct)).MinimumPasswordLength, 8);
});

test('AssumeRole: ExternalId is the trust policy condition sts:ExternalId; SourceIdentity is returned and kept down the chain', async () => {
  const ram = new Ram(cfg());
  const acct = await accountId();
  const trust = JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole',
    Principal: { RAM: [`acs:ram::${acct}:root`] }, Condition: { StringEquals: { 'sts:ExternalId': 'abc-123' } } }] });
  await ram.createRole(new $Ram.CreateRoleRequest({ roleName: 'ext-role', assumeRolePolicyDocument: trust }));
  // Other condition keys are still refused (they would not be evaluated).
  await rejects(ram.createRole(new $Ram.CreateRoleRequest({ roleName: 'ip-role', assumeRolePolicyDocument: JSON.stringify({ Version: '1',
    Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { RAM: [`acs:ram::${acct}:root`] },
      Condition: { IpAddress: { 'acs:SourceIp': '10.0.0.0/8' } } }] }) })), 'MalformedPolicyDocument');
  const sts = new Sts(cfg());
  const arn = `acs:ram::${acct}:role/ext-role`;
  await rejects(sts.assumeRole(new $Sts.AssumeRoleRequest({ roleArn: arn, roleSessionName: 'no-ext' })), 'NoPermission');
  await rejects(sts.assumeRole(new $Sts.AssumeRoleRequest({ roleArn: arn, roleSessionName: 'bad-ext', externalId: 'abc-124' })), 'NoPermission');
  const ok = (await sts.assumeRole(new $Sts.AssumeRoleRequest({ roleArn: arn, roleSessionName: 'good-ext', externalId: 'abc-123',
    sourceIdentity: 'alice@corp' }))).body;
  assert.match(ok.credentials.accessKeyId, /^STS\./);
  assert.equal(ok.sourceIdentity, 'alice@corp');

  // The session, assuming a role in turn, keeps its source identity and may not swap it.
  await ram.createRole(new $Ram.CreateRoleRequest({ roleName: 'chain-role', assumeRolePolicyDocument: JSON.stringify({ Version: '1',
    Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { RAM: [`acs:ram::${acct}:root`] } }] }) }));
  await ram.createPolicy(new $Ram.CreatePolicyRequest({ policyName: 'may-assume', policyDocument: JSON.stringify({ Version: '1',
    Statement: [{ Effect: 'Allow', Action: ['sts:AssumeRole'], Resource: ['*'] }] }) }));
  await ram.attachPolicyToRole(new $Ram.AttachPolicyToRoleRequest({ policyType: 'Custom', policyName: 'may-assume', roleName: 'ext-role' }));
  const sess = new Sts(cfg(ok.credentials.accessKeyId, ok.credentials.accessKeySecret, ok.credentials.securityToken));
  const chained = (await sess.assumeRole(new $Sts.AssumeRoleRequest({ roleArn: `acs:ram::${acct}:role/chain-role`, roleSessionName: 'hop' }))).body;
  assert.equal(chained.sourceIdentity, 'alice@corp');
  await rejects(sess.assumeRole(new $Sts.AssumeRoleRequest({ roleArn: `acs:ram::${acct}:role/chain-role`, roleSessionName: 'hop2',
    sourceIdentity: 'mallory' })), 'InvalidParameter.SourceIdentity');

  // Every call made with the session's credentials names the person behind the role in the
  // audit log (CloudTrail's userIdentity.sessionContext.sourceIdentity); the root's own calls do not.
  const trail = new RPCClient({ accessKeyId: s.rootKeyId, accessKeySecret: s.rootSecret, endpoint: s.endpoint, apiVersion: '2020-07-06' });
  const byKey = await trail.request('LookupEvents', { 'LookupAttribute.1.Key': 'EventAccessKeyId',
    'LookupAttribute.1.Value': ok.credentials.accessKeyId }, { method: 'POST' });
  assert.equal(byKey.Events.length, 2, JSON.stringify(byKey));
  for (const e of byKey.Events) {
    assert.equal(e.userIdentity.type, 'assumed-role');
    assert.equal(e.userIdentity.sessionContext?.sourceIdentity, 'alice@corp', JSON.stringify(e.userIdentity));
  }
  const byRoot = await trail.request('LookupEvents', { 'LookupAttribute.1.Key': 'EventName', 'LookupAttribute.1.Value': 'CreateRole' }, { method: 'POST' });
  assert.ok(byRoot.Events.length >= 1);
  for (const e of byRoot.Events) assert.equal(e.userIdentity.sessionContext, undefined);
});
