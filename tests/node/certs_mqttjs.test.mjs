// MQTT.js (npm `mqtt` v5) with a device certificate on a mutual-TLS instance
// (issue 18): a device issued by a CA registered on the instance connects over
// mqtts and wss, publishes and subscribes; without a certificate, with one from
// another CA, and with its certificate inactivated it is refused (CONNACK 0x87,
// MQTT 5 Not authorized). Certificates are made here with the openssl CLI; the
// management calls go through the cloud's @alicloud/pop-core.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import RPCClient from '@alicloud/pop-core';
import { HOST, Sluice, mqttPassword } from './api_harness.mjs';

let s;
let pki;
let tlsPort;
let wssPort;
const open = [];
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
const openssl = (...args) => execFileSync('openssl', args, { cwd: pki, stdio: ['ignore', 'pipe', 'pipe'] });
const file = (name) => fs.readFileSync(path.join(pki, name));

function freePort() {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, HOST, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function makePki() {
  openssl('req', '-x509', ...EC, '-keyout', 'server.key', '-out', 'server.pem', '-days', '10', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1');
  for (const ca of ['root', 'other'])
    openssl('req', '-x509', ...EC, '-keyout', `${ca}.key`, '-out', `${ca}.pem`, '-days', '10', '-subj', `/CN=${ca} CA`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  fs.writeFileSync(path.join(pki, 'leaf.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n');
  for (const [name, ca, serial] of [['device', 'root', '0x51'], ['device2', 'root', '0x52'], ['stranger', 'other', '0x53']]) {
    openssl('req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-set_serial', serial,
      '-out', `${name}.pem`, '-days', '5', '-extfile', 'leaf.ext');
  }
}

let inst;
let caSn;
let call;
before(async () => {
  pki = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-pki-'));
  makePki();
  [tlsPort, wssPort] = [await freePort(), await freePort()];
  s = await new Sluice().start({
    SLUICE_MQTT_TLS_PORT: String(tlsPort), SLUICE_MQTT_WSS_PORT: String(wssPort),
    SLUICE_MQTT_TLS_CERT: path.join(pki, 'server.pem'), SLUICE_MQTT_TLS_KEY: path.join(pki, 'server.key'),
  });
  const pop = (version) => new RPCClient({ accessKeyId: s.rootKeyId, accessKeySecret: s.rootSecret, endpoint: s.endpoint,
    apiVersion: version });
  const post = { method: 'POST' };
  await pop('2019-02-14').request('OpenOnsService', {}, post);
  const mq = pop('2020-04-20');
  inst = (await mq.request('CreateInstance', { InstanceName: 'mutual' }, post)).InstanceId;
  await mq.request('CreateTopic', { InstanceId: inst, Topic: 'Sensors' }, post);
  await mq.request('CreateGroupId', { InstanceId: inst, GroupId: 'GID_dev' }, post);
  call = (action, params = {}) => mq.request(action, { MqttInstanceId: inst, ...params }, post);
  const code = (await call('GetRegisterCode')).RegisterCode;
  openssl('req', ...EC, '-keyout', 'v.key', '-out', 'v.csr', '-subj', `/CN=${code}`);
  openssl('x509', '-req', '-in', 'v.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-set_serial', '7', '-out', 'v.pem',
    '-days', '5');
  caSn = (await call('RegisterCaCertificate', { CaName: 'root', CaContent: file('root.pem').toString(),
    VerificationContent: file('v.pem').toString() })).Sn;
  await mq.request('UpdateInstance', { InstanceId: inst, TlsAuthMode: 'mutual' }, post);
});
after(async () => {
  for (const c of open) c.end(true);
  await s?.stop();
  if (pki) fs.rmSync(pki, { recursive: true, force: true });
});

// Resolves with the connected client, or rejects with the CONNACK's error (its .code).
function connect(device, cert, { protocol = 'mqtts', version = 5 } = {}) {
  const clientId = `GID_dev@@@${device}`;
  const port = protocol === 'wss' ? wssPort : tlsPort;
  const c = mqtt.connect(`${protocol}://${HOST}:${port}${protocol === 'wss' ? '/mqtt' : ''}`, {
    clientId, protocolVersion: version, username: `Signature|${s.rootKeyId}|${inst}`,
    password: mqttPassword(s.rootSecret, clientId), reconnectPeriod: 0, connectTimeout: 8000,
    ca: file('server.pem'), rejectUnauthorized: true,
    ...(cert ? { cert: file(`${cert}.pem`), key: file(`${cert}.key`) } : {}),
  });
  open.push(c);
  return new Promise((resolve, reject) => {
    c.once('connect', () => resolve(c));
    c.once('error', (e) => reject(e));
    c.once('close', () => reject(Object.assign(new Error('closed before CONNACK'), { code: 'closed' })));
  });
}

const serialOf = (name) => openssl('x509', '-in', `${name}.pem`, '-noout', '-serial').toString().trim().split('=')[1].toLowerCase();

test('a device certificate connects over mqtts and wss; publish and subscribe', async () => {
  for (const [protocol, version] of [['mqtts', 5], ['mqtts', 4], ['wss', 5]]) {
    const sub = await connect(`sub-${protocol}${version}`, 'device', { protocol, version });
    const pub = await connect(`pub-${protocol}${version}`, 'device', { protocol, version });
    const topic = `Sensors/${protocol}${version}`;
    await sub.subscribeAsync(topic, { qos: 1 });
    const got = new Promise((resolve) => sub.once('message', (t, m) => resolve([t, m.toString()])));
    await pub.publishAsync(topic, 'hello', { qos: 1 });
    assert.deepEqual(await got, [topic, 'hello'], `${protocol} v${version}`);
    await sub.endAsync();
    await pub.endAsync();
  }
  const devices = await call('ListDeviceCertificate', { PageNo: '1', PageSize: '10' });
  const d = devices.Data.DeviceCertificateVOS.find((v) => v.DeviceSn === serialOf('device'));
  assert.ok(d, JSON.stringify(devices));
  assert.deepEqual([d.CaSn, d.Status], [caSn, '1']);
  assert.ok(Number(d.LastConnectionTime) > 0);
});

test('refused without a certificate and with one from another CA (0x87)', async () => {
  for (const [device, cert] of [['nocert', null], ['stranger', 'stranger']]) {
    const e = await connect(device, cert).then(() => null, (err) => err);
    assert.ok(e, `${device}: connected`);
    assert.equal(e.code, 135, `${device}: ${e.message}`);
  }
});

test('an inactivated device certificate is dropped and refused; active again, it connects', async () => {
  const c = await connect('rev-1', 'device2');
  const closed = new Promise((resolve) => c.once('close', resolve));
  const sn = serialOf('device2');
  assert.equal((await call('InactivateDeviceCertificate', { CaSn: caSn, DeviceSn: sn })).DeviceSn, sn);
  const t0 = Date.now();
  await closed;
  assert.ok(Date.now() - t0 < 1500, 'dropped within a second or so');
  const e = await connect('rev-2', 'device2').then(() => null, (err) => err);
  assert.equal(e?.code, 135, e?.message);
  await call('ActiveDeviceCertificate', { CaSn: caSn, DeviceSn: sn });
  const back = await connect('rev-3', 'device2');
  await back.endAsync();
});
