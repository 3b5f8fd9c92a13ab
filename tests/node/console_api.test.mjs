// The console's server side against the real binary: static files of the built
// app (SPA fallback, cache headers, traversal refused, the "not built" page),
// the JSON API's cookie sessions and CSRF token, sign-in as the bootstrap root
// (asked to change its password) and as a RAM user, /console/api/call through
// the RPC's own authorization with AccessDeniedDetail, SendMessage (console and
// @alicloud/pop-core) reaching an MQTT.js subscriber, DescribeMqttMetaData,
// and the audit trail of it all (LookupEvents).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import RPCClient from '@alicloud/pop-core';
import mqtt from 'mqtt';
import { Sluice, mqttPassword, HOST } from './api_harness.mjs';

const ROOT_PASSWORD = 'first-Passw0rd';
let s;
let consoleDir;
before(async () => {
  consoleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-console-'));
  fs.mkdirSync(path.join(consoleDir, 'assets'));
  fs.writeFileSync(path.join(consoleDir, 'index.html'), '<!doctype html><title>Sluice</title><div id="app"></div>');
  fs.writeFileSync(path.join(consoleDir, 'assets', 'index-4f3a2b1c.js'), 'console.log("app");');
  fs.writeFileSync(path.join(consoleDir, 'assets', 'index-4f3a2b1c.css'), 'body{}');
  fs.writeFileSync(path.join(consoleDir, 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  s = await new Sluice().start({ SLUICE_ROOT_PASSWORD: ROOT_PASSWORD, SLUICE_CONSOLE_DIR: consoleDir });
});
after(async () => {
  await s?.stop();
  if (consoleDir) fs.rmSync(consoleDir, { recursive: true, force: true });
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A raw request (no fetch: it would normalise "/console/../x" away).
function raw(method, p, { body, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: HOST, port: s.httpPort, method, path: p, headers, agent: false }, (res) => {
      let data = '';
      res.on('data', (d) => { data += d; });
      res.on('end', () => {
        let json = null;
        try { json = JSON.parse(data); } catch { /* not JSON */ }
        resolve({ status: res.statusCode, headers: res.headers, json, data });
      });
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

// A browser-like console client: keeps the cookie and sends the CSRF token.
class ConsoleClient {
  async login(login, password) {
    const r = await raw('POST', '/console/api/login', { body: JSON.stringify({ login, password }),
      headers: { 'content-type': 'application/json' } });
    if (r.status === 200) {
      this.cookie = r.headers['set-cookie'][0].split(';')[0];
      this.csrf = r.json.csrfToken;
      this.session = r.json;
    }
    return r;
  }
  post(p, body, { csrf = true } = {}) {
    const headers = { 'content-type': 'application/json', cookie: this.cookie };
    if (csrf) headers['x-csrf-token'] = this.csrf;
    return raw('POST', p, { body: JSON.stringify(body ?? {}), headers });
  }
  get(p) { return raw('GET', p, { headers: { cookie: this.cookie } }); }
  async call(product, action, params = {}) { return this.post('/console/api/call', { product, action, params }); }
  async ok(product, action, params = {}) {
    const r = await this.call(product, action, params);
    assert.equal(r.status, 200, `${product} ${action}: ${r.data}`);
    return r.json;
  }
}

test('static files of the built console', async () => {
  let r = await raw('GET', '/');
  assert.equal(r.status, 302);
  assert.equal(r.headers.location, '/console/');
  r = await raw('GET', '/console');
  assert.equal(r.status, 302);
  r = await raw('GET', '/console/');
  assert.equal(r.status, 200);
  assert.match(r.headers['content-type'], /^text\/html/);
  assert.equal(r.headers['cache-control'], 'no-cache');
  assert.match(r.data, /<title>Sluice<\/title>/);
  r = await raw('GET', '/console/assets/index-4f3a2b1c.js');
  assert.equal(r.status, 200);
  assert.match(r.headers['content-type'], /^text\/javascript/);
  assert.match(r.headers['cache-control'], /max-age=31536000/);
  assert.match((await raw('GET', '/console/assets/index-4f3a2b1c.css')).headers['content-type'], /^text\/css/);
  assert.equal((await raw('GET', '/console/logo.svg')).headers['content-type'], 'image/svg+xml');
  // Client-side routes answer index.html; missing files with an extension are 404.
  r = await raw('GET', '/console/instances/mqtt-local-x/topics');
  assert.equal(r.status, 200);
  assert.match(r.data, /<title>Sluice<\/title>/);
  assert.equal((await raw('GET', '/console/missing.png')).status, 404);
  for (const p of ['/console/../data/store.db', '/console/%2e%2e/%2e%2e/etc/passwd', '/console/assets/..%2f..%2findex.html',
    '/console/%00', '/console/..\\x']) {
    const t = await raw('GET', p);
    assert.ok(t.status === 404, `${p}: ${t.status}`);
  }
  // Every signed RPC call still reaches "/".
  r = await raw('GET', '/?Action=ListUsers&Version=2015-05-01');
  assert.equal(r.status, 400);
  assert.equal(r.json.Code, 'MissingAccessKeyId');
  // Without a build: a page that says how to build it.
  fs.renameSync(path.join(consoleDir, 'index.html'), path.join(consoleDir, 'index.off'));
  r = await raw('GET', '/console/');
  fs.renameSync(path.join(consoleDir, 'index.off'), path.join(consoleDir, 'index.html'));
  assert.equal(r.status, 200);
  assert.match(r.data, /make build/);
});

test('sessions: bootstrap root must change its password; CSRF; logout; bad input', async () => {
  const c = new ConsoleClient();
  let r = await c.login('root', 'wrong-password');
  assert.equal(r.status, 401);
  assert.deepEqual([r.json.Code, r.json.Message], ['InvalidCredentials', 'The login name or password is wrong.']);
  assert.ok(r.json.RequestId);
  r = await c.login('nobody', 'wrong-password');
  assert.equal(r.json.Message, 'The login name or password is wrong.');
  r = await c.login('root', ROOT_PASSWORD);
  assert.equal(r.status, 200, r.data);
  const setCookie = r.headers['set-cookie'][0];
  assert.match(setCookie, /^sluice_session=[0-9a-f]{64}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=\d+$/);
  assert.equal(r.json.principal.kind, 'Root');
  assert.equal(r.json.principal.name, 'root');
  assert.match(r.json.principal.accountId, /^\d{16}$/);
  assert.equal(r.json.principal.arn, `acs:ram::${r.json.principal.accountId}:root`);
  assert.equal(r.json.mustChangePassword, true);
  assert.ok(r.json.expiresAt > Date.now() / 1000);

  r = await c.get('/console/api/session');
  assert.equal(r.status, 200);
  assert.equal(r.json.csrfToken, c.csrf);
  r = await c.post('/console/api/password', { oldPassword: ROOT_PASSWORD, newPassword: 'x' }, { csrf: false });
  assert.equal(r.status, 403);
  assert.equal(r.json.Code, 'InvalidCsrfToken');
  r = await c.post('/console/api/password', { oldPassword: 'not-it-at-all', newPassword: 'second-Passw0rd' });
  assert.deepEqual([r.status, r.json.Code], [400, 'InvalidPassword']);
  r = await c.post('/console/api/password', { oldPassword: ROOT_PASSWORD, newPassword: 'short' });
  assert.equal(r.status, 400);
  assert.match(r.json.Code, /Password/);
  r = await c.post('/console/api/password', { oldPassword: ROOT_PASSWORD, newPassword: 'second-Passw0rd' });
  assert.equal(r.status, 200, r.data);
  assert.equal((await c.get('/console/api/session')).json.mustChangePassword, false);
  // Changing it back keeps the other tests' password (and is not flagged again).
  r = await c.post('/console/api/password', { oldPassword: 'second-Passw0rd', newPassword: ROOT_PASSWORD });
  assert.equal(r.status, 200, r.data);
  const again = new ConsoleClient();
  assert.equal((await again.login('root', ROOT_PASSWORD)).json.mustChangePassword, false);

  for (const [body, code] of [['{', 'InvalidParameter'], ['[]', 'InvalidParameter'], ['{"product":"Ram"}', 'MissingAction']]) {
    r = await raw('POST', '/console/api/call', { body, headers: { cookie: c.cookie, 'x-csrf-token': c.csrf } });
    assert.deepEqual([r.status, r.json.Code], [400, code], body);
  }
  r = await raw('POST', '/console/api/call', { body: '{}' });
  assert.deepEqual([r.status, r.json.Code], [401, 'NotSignedIn']);
  assert.equal((await raw('GET', '/console/api/nothing-here')).status, 404);

  r = await again.post('/console/api/logout');
  assert.equal(r.status, 200);
  assert.match(r.headers['set-cookie'][0], /Max-Age=0/);
  assert.equal((await again.get('/console/api/session')).status, 401);
  assert.equal((await c.get('/console/api/session')).status, 200, 'other sessions stay');
});

test('console calls, SendMessage to a subscriber, RAM user denied with AccessDeniedDetail, audit', async () => {
  const c = new ConsoleClient();
  assert.equal((await c.login('root', ROOT_PASSWORD)).status, 200);
  const account = c.session.principal.accountId;
  await c.ok('Ons', 'OpenOnsService');
  const inst = (await c.ok('OnsMqtt', 'CreateInstance', { InstanceName: 'console-made' })).InstanceId;
  await c.ok('OnsMqtt', 'CreateTopic', { InstanceId: inst, Topic: 'Sensors' });
  await c.ok('OnsMqtt', 'CreateGroupId', { InstanceId: inst, GroupId: 'GID_dev' });
  const groups = await c.ok('OnsMqtt', 'ListGroupId', { InstanceId: inst });
  assert.equal(groups.Data[0].GroupId, 'GID_dev');
  // The same answer as the RPC API gives, errors included.
  let r = await c.call('OnsMqtt', 'ListGroupId', {});
  assert.deepEqual([r.status, r.json.Code], [400, 'MissingInstanceId']);
  r = await c.call('OnsMqtt', 'NoSuchThing', {});
  assert.deepEqual([r.status, r.json.Code], [404, 'InvalidAction.NotFound']);

  // A subscriber; messages sent from the console and through the SDK reach it.
  const clientId = 'GID_dev@@@sub-1';
  const sub = await mqtt.connectAsync(`mqtt://${HOST}:${s.mqttPort}`, {
    clientId, username: `Signature|${s.rootKeyId}|${inst}`, password: mqttPassword(s.rootSecret, clientId),
    protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000,
  });
  const got = [];
  sub.on('message', (t, m, p) => got.push([t, m.toString(), p.qos]));
  await sub.subscribeAsync('Sensors/#', { qos: 1 });
  const sent = await c.ok('OnsMqtt', 'SendMessage', { InstanceId: inst, MqttTopic: 'Sensors/room1', Payload: 'from the console' });
  assert.match(sent.MsgId, /^[0-9A-F]{24}$/);
  const pop = new RPCClient({ accessKeyId: s.rootKeyId, accessKeySecret: s.rootSecret, endpoint: s.endpoint,
    apiVersion: '2020-04-20' });
  await pop.request('SendMessage', { InstanceId: inst, MqttTopic: 'Sensors/room2', Payload: 'from the SDK' }, { method: 'POST' });
  await pop.request('SendMessage', { InstanceId: inst, MqttTopic: `Sensors/p2p/${clientId}`, Payload: 'just for you' },
    { method: 'POST' });
  for (let i = 0; i < 100 && got.length < 3; i++) await sleep(50);
  assert.deepEqual(got.sort(), [['Sensors/p2p/GID_dev@@@sub-1', 'just for you', 1], ['Sensors/room1', 'from the console', 1],
    ['Sensors/room2', 'from the SDK', 1]]);
  r = await c.call('OnsMqtt', 'SendMessage', { InstanceId: inst, MqttTopic: 'Sensors/+', Payload: 'x' });
  assert.deepEqual([r.status, r.json.Code], [400, 'InvalidParameter.MqttTopic']);

  const meta = await c.ok('OnsMqtt', 'DescribeMqttMetaData');
  assert.equal(meta.InstanceCount, 1);
  assert.equal(meta.TopicCount, 1);
  assert.equal(meta.GroupCount, 1);
  assert.equal(meta.OnlineClientCount, 1);
  assert.equal(meta.SubscriptionCount, 1);
  assert.equal(meta.Instances[0].InstanceId, inst);
  // Three messages in, three routed out (two by topic, one P2P), per instance and in total.
  assert.ok(meta.MessagesIn >= 3 && meta.MessagesOut >= 3, JSON.stringify(meta));
  assert.equal(meta.Instances[0].MessagesIn, meta.MessagesIn);
  assert.equal(meta.Instances[0].OnlineClientCount, 1);
  assert.ok(Math.abs(meta.Timestamp - Date.now()) < 60_000);
  await sub.endAsync();

  // A RAM user made from the console, signed in as user@alias, refused with the detail.
  await c.ok('Ram', 'CreateUser', { UserName: 'alice', DisplayName: 'Alice' });
  await c.ok('Ram', 'CreateLoginProfile', { UserName: 'alice', Password: 'alice-Passw0rd', PasswordResetRequired: 'true' });
  await c.ok('Ram', 'AttachPolicyToUser', { PolicyType: 'System', PolicyName: 'AliyunMQReadOnlyAccess', UserName: 'alice' });
  const a = new ConsoleClient();
  // The sign-in name is <user>@<account alias>; the default alias is the account id.
  const alias = (await c.ok('Ram', 'GetAccountAlias')).AccountAlias;
  r = await a.login(`alice@${alias}`, 'alice-Passw0rd');
  assert.equal(r.status, 200, r.data);
  assert.equal(r.json.principal.kind, 'User');
  assert.equal(r.json.principal.name, 'alice');
  assert.equal(r.json.principal.displayName, 'Alice');
  assert.equal(r.json.mustChangePassword, true);
  // Nothing but the password change until it is done.
  r = await a.call('OnsMqtt', 'DescribeMqttMetaData');
  assert.equal(r.status, 403);
  assert.equal(r.json.Code, 'PasswordResetRequired');
  r = await a.post('/console/api/password', { oldPassword: 'alice-Passw0rd', newPassword: 'alice-Passw0rd-2' });
  assert.equal(r.status, 200, r.data);
  r = await a.call('OnsMqtt', 'DescribeMqttMetaData');
  assert.equal(r.status, 403);
  assert.equal(r.json.Code, 'NoPermission');
  assert.deepEqual(
    [r.json.AccessDeniedDetail.AuthAction, r.json.AccessDeniedDetail.AuthResource, r.json.AccessDeniedDetail.NoPermissionType],
    ['mq:MqttMetaData', `acs:mq:*:${account}:*`, 'ImplicitDeny']);
  assert.equal(r.json.AccessDeniedDetail.AuthPrincipalDisplayName, 'alice');
  r = await a.call('OnsMqtt', 'ListInstances');
  assert.equal(r.status, 200);
  assert.equal(r.json.Instances.length, 0);
  assert.match(r.json.Message, /mq:MqttInstanceAccess/);
  r = await a.call('OnsMqtt', 'CreateGroupId', { InstanceId: inst, GroupId: 'GID_nope' });
  assert.equal(r.status, 403);
  assert.equal(r.json.AccessDeniedDetail.AuthAction, 'mq:CreateGroupId');  // read-only: instance info yes, writes no
  // The same detail on the signed RPC API.
  const key = await c.ok('Ram', 'CreateAccessKey', { UserName: 'alice' });
  const apop = new RPCClient({ accessKeyId: key.AccessKey.AccessKeyId, accessKeySecret: key.AccessKey.AccessKeySecret,
    endpoint: s.endpoint, apiVersion: '2020-04-20' });
  await assert.rejects(apop.request('DescribeMqttMetaData', {}), (e) => {
    assert.equal(e.code, 'NoPermission');
    assert.equal(e.data.AccessDeniedDetail.AuthAction, 'mq:MqttMetaData');
    return true;
  });
  r = await a.post('/console/api/policy/validate', { document: '{"Version":"1","Statement":[{"Effect":"Allow","Action":"mq:*","Resource":"*"}]}' });
  assert.deepEqual(r.json, { valid: true });
  r = await a.post('/console/api/policy/validate', { document: '{\n "Version": "1",\n "Statement": [{"Effect": "Allow", "Action": 5}]\n}' });
  assert.equal(r.json.valid, false);
  assert.equal(r.json.errors[0].line, 3);
  assert.match(r.json.errors[0].message, /Action/);

  // The audit: sign-ins (no password), console calls without an access key, denials.
  await sleep(300);
  const trail = new RPCClient({ accessKeyId: s.rootKeyId, accessKeySecret: s.rootSecret, endpoint: s.endpoint,
    apiVersion: '2020-07-06' });
  const events = [];
  let token = '';
  for (let i = 0; i < 20; i++) {
    const ev = await trail.request('LookupEvents', { MaxResults: '50', ...(token ? { NextToken: token } : {}) });
    events.push(...ev.Events);
    token = ev.NextToken;
    if (!token) break;
  }
  const names = new Set(events.map((e) => e.eventName));
  for (const n of ['ConsoleSignin', 'ConsoleSignout', 'ChangePassword', 'CreateInstance', 'SendMessage', 'DescribeMqttMetaData'])
    assert.ok(names.has(n), `LookupEvents lacks ${n}`);
  const viaConsole = events.find((e) => e.eventName === 'CreateInstance');
  assert.equal(viaConsole.userAgent, 'sluice-console');
  assert.equal(viaConsole.userIdentity.accessKeyId, '');
  const denied = events.find((e) => e.eventName === 'DescribeMqttMetaData' && e.userIdentity.userName === 'alice' &&
    e.userAgent === 'sluice-console');
  assert.equal(denied.errorCode, 'NoPermission');
  const text = JSON.stringify(events);
  for (const secret of [ROOT_PASSWORD, 'second-Passw0rd', 'alice-Passw0rd', 'alice-Passw0rd-2']) assert.ok(!text.includes(secret), 'no password in the audit');
});

test('failed sign-ins are throttled per address', async () => {
  const c = new ConsoleClient();
  let r;
  for (let i = 0; i < 11; i++) r = await c.login('root', `wrong-${i}-password`);
  assert.equal(r.status, 429);
  assert.equal(r.json.Code, 'Throttling.Login');
  assert.ok(Number(r.headers['retry-after']) > 0);
  r = await c.login('root', ROOT_PASSWORD);
  assert.equal(r.status, 429, 'the right password waits too');
});
