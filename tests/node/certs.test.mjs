// The 13 CA and device certificate operations of OnsMqtt 2020-04-20 (issue 18)
// called with the cloud's own @alicloud/pop-core, unchanged: GetRegisterCode,
// RegisterCaCertificate (proof of possession made here with the openssl CLI),
// List/Get/Active/Inactivate/DeleteCaCertificate, and the device certificate
// operations, whose "not found" answers carry the cloud's codes. The device
// certificate a mutual-TLS CONNECT registers is made by test_device_certs.py;
// here the lists are empty and the device operations answer FindDeviceBySnError.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import RPCClient from '@alicloud/pop-core';
import { Sluice } from './api_harness.mjs';

let s;
let pki;
before(async () => {
  s = await new Sluice().start();
  pki = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-pki-'));
});
after(async () => {
  await s?.stop();
  if (pki) fs.rmSync(pki, { recursive: true, force: true });
});

const openssl = (...args) => execFileSync('openssl', args, { cwd: pki, stdio: ['ignore', 'pipe', 'pipe'] });
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
const client = (version) => new RPCClient({
  accessKeyId: s.rootKeyId, accessKeySecret: s.rootSecret, endpoint: s.endpoint, apiVersion: version,
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

test('CA and device certificate operations through @alicloud/pop-core', async () => {
  const post = { method: 'POST' };
  await client('2019-02-14').request('OpenOnsService', {}, post);
  const mq = client('2020-04-20');
  const inst = (await mq.request('CreateInstance', { InstanceName: 'certs' }, post)).InstanceId;
  const call = (action, params = {}) => mq.request(action, { MqttInstanceId: inst, ...params }, post);

  const code = (await call('GetRegisterCode')).RegisterCode;
  assert.match(code, /^[A-Za-z0-9]{32}$/);
  assert.equal((await call('GetRegisterCode')).RegisterCode, code);

  openssl('req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '10', '-subj', '/CN=node CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  openssl('req', ...EC, '-keyout', 'v.key', '-out', 'v.csr', '-subj', `/CN=${code}`);
  openssl('x509', '-req', '-in', 'v.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', '77', '-out', 'v.pem',
    '-days', '5');
  const ca = fs.readFileSync(path.join(pki, 'ca.pem'), 'utf8');
  const ver = fs.readFileSync(path.join(pki, 'v.pem'), 'utf8');

  // A verification certificate the CA did not sign proves nothing.
  openssl('req', '-x509', ...EC, '-keyout', 'x.key', '-out', 'x.pem', '-days', '5', '-subj', `/CN=${code}`);
  await rejects(call('RegisterCaCertificate', { CaName: 'bad', CaContent: ca,
    VerificationContent: fs.readFileSync(path.join(pki, 'x.pem'), 'utf8') }), 'ParameterFieldCheckFailed');

  const { Sn } = await call('RegisterCaCertificate', { CaName: 'node-ca', CaContent: ca, VerificationContent: ver });
  assert.match(Sn, /^[0-9a-f]+$/);
  await rejects(call('RegisterCaCertificate', { CaName: 'again', CaContent: ca, VerificationContent: ver }),
    'CaAlreadyExists');

  const list = await call('ListCaCertificate', { PageNo: '1', PageSize: '10' });
  assert.equal(list.Data.Total, 1);
  const vo = list.Data.CaCertificateVOS[0];
  assert.deepEqual([vo.Sn, vo.CaName, vo.Status, vo.RegistrationCode], [Sn, 'node-ca', '1', code]);
  assert.ok(Number(vo.ValidEnd) > Date.now());
  assert.match(vo.CaContent, /BEGIN CERTIFICATE/);
  assert.match(vo.VerificationContent, /BEGIN CERTIFICATE/);

  assert.equal((await call('GetCaCertificate', { Sn })).Data.Sn, Sn);
  assert.equal((await call('InactivateCaCertificate', { Sn })).Sn, Sn);
  assert.equal((await call('GetCaCertificate', { Sn })).Data.Status, '0');
  assert.equal((await call('ActiveCaCertificate', { Sn })).Sn, Sn);
  assert.equal((await call('GetCaCertificate', { Sn })).Data.Status, '1');

  const devices = await call('ListDeviceCertificate', { PageNo: '1', PageSize: '10' });
  assert.deepEqual([devices.Data.Total, devices.Data.DeviceCertificateVOS], [0, []]);
  const byCa = await call('ListDeviceCertificateByCaSn', { CaSn: Sn, PageNo: '1', PageSize: '10' });
  assert.equal(byCa.Data.Total, 0);
  await rejects(call('ListDeviceCertificateByCaSn', { CaSn: 'abc', PageNo: '1', PageSize: '10' }), 'FindCaBySnError');
  for (const action of ['GetDeviceCertificate', 'ActiveDeviceCertificate', 'InactivateDeviceCertificate',
    'DeleteDeviceCertificate'])
    await rejects(call(action, { CaSn: Sn, DeviceSn: '1234' }), 'FindDeviceBySnError');

  assert.equal((await call('DeleteCaCertificate', { Sn })).Sn, Sn);
  await rejects(call('GetCaCertificate', { Sn }), 'FindCaBySnError');
  await rejects(call('DeleteCaCertificate', { Sn }), 'FindCaBySnError');

  // TlsAuthMode, a Sluice parameter of UpdateInstance.
  await mq.request('UpdateInstance', { InstanceId: inst, TlsAuthMode: 'mutual' }, post);
  const got = await mq.request('GetInstance', { InstanceId: inst }, post).catch(() => null);
  if (got?.Instance?.Settings) assert.equal(got.Instance.Settings.TlsAuthMode, 'mutual');
});
