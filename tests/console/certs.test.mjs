// The console's Certificates page of an instance (issue 18), in Debian's
// chromium against the real server: the registration code shown is the one a
// verification certificate (made here with openssl) must carry; the instance
// is switched from one-way to mutual TLS on the page; the CA is
// registered through the form and listed, deactivated and activated again; a
// device connecting with mosquitto_pub over mutual TLS appears with its status
// and last connection; the device certificate is deactivated and deleted, then
// the CA. No console errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { HOST, Sluice, mqttPassword } from '../node/api_harness.mjs';
import { SRC, launch, newPage, screenshot, changeBootstrapPassword } from './browser.mjs';

const RPCClient = createRequire(path.join(SRC, 'tests', 'node', 'package.json'))('@alicloud/pop-core');
const PW = 'Certs-Boot-1!';
const NEW_PW = 'Certs-Root-2!';
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function freePort() {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, HOST, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

test('console: Certificates page — register a CA with the code shown, devices, deactivate, delete', { timeout: 180000 }, async () => {
  const pki = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-pki-'));
  const openssl = (...args) => execFileSync('openssl', args, { cwd: pki, stdio: ['ignore', 'pipe', 'pipe'] });
  const pem = (name) => fs.readFileSync(path.join(pki, `${name}.pem`), 'utf8');
  openssl('req', '-x509', ...EC, '-keyout', 'server.key', '-out', 'server.pem', '-days', '5', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1');
  openssl('req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '10', '-subj', '/CN=Console CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  fs.writeFileSync(path.join(pki, 'leaf.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n');
  openssl('req', ...EC, '-keyout', 'dev.key', '-out', 'dev.csr', '-subj', '/CN=thermostat-7');
  openssl('x509', '-req', '-in', 'dev.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', '0x7a01', '-out',
    'dev.pem', '-days', '5', '-extfile', 'leaf.ext');
  const tlsPort = await freePort();
  const s = await new Sluice().start({
    SLUICE_ROOT_PASSWORD: PW, SLUICE_MQTT_TLS_PORT: String(tlsPort),
    SLUICE_MQTT_TLS_CERT: path.join(pki, 'server.pem'), SLUICE_MQTT_TLS_KEY: path.join(pki, 'server.key'),
  });
  const b = await launch();
  const { page, errors } = await newPage(b.browser);
  const base = `${s.endpoint}/console/`;
  const post = { method: 'POST' };
  const pop = (v) => new RPCClient({ accessKeyId: s.rootKeyId, accessKeySecret: s.rootSecret, endpoint: s.endpoint, apiVersion: v });
  // Every confirm() of the page (deactivate, delete) is accepted.
  page.on('dialog', (d) => d.accept());
  try {
    await pop('2019-02-14').request('OpenOnsService', {}, post);
    const mq = pop('2020-04-20');
    const inst = (await mq.request('CreateInstance', { InstanceName: 'devices' }, post)).InstanceId;
    await mq.request('CreateTopic', { InstanceId: inst, Topic: 'Sensors' }, post);
    await mq.request('CreateGroupId', { InstanceId: inst, GroupId: 'GID_dev' }, post);

    await changeBootstrapPassword(page, base, PW, NEW_PW);

    const certsUrl = `${base}instances/${encodeURIComponent(inst)}/certificates`;
    await page.goto(certsUrl);
    await page.waitForSelector('main[data-ready="certificates"]');
    // The instance is one-way; switched to mutual on this page.
    await page.getByTestId('tls-auth-mode-current').getByText('one-way', { exact: true }).waitFor();
    await page.getByLabel('TLS authentication mode').selectOption('mutual');
    await page.getByRole('button', { name: 'Save TLS mode' }).click();
    await page.getByTestId('tls-auth-mode-current').getByText('mutual', { exact: true }).waitFor();
    const listed = (await mq.request('ListInstances', {}, post)).Instances.find((i) => i.InstanceId === inst);
    assert.equal(listed.Settings.TlsAuthMode, 'mutual');
    const cas = page.getByRole('table', { name: 'CA certificates' });
    const devices = page.getByRole('table', { name: 'Device certificates' });
    await cas.getByText('No CA certificate is registered on this instance.').waitFor();
    await devices.getByText('No device has connected with a certificate yet.').waitFor();

    // The registration code shown is the instance's; a verification certificate made with it registers the CA.
    const code = (await page.getByTestId('register-code').textContent()).trim();
    assert.equal(code, (await mq.request('GetRegisterCode', { MqttInstanceId: inst }, post)).RegisterCode);
    openssl('req', ...EC, '-keyout', 'v.key', '-out', 'v.csr', '-subj', `/CN=${code}`);
    openssl('x509', '-req', '-in', 'v.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', '9', '-out', 'v.pem', '-days', '2');
    await page.getByRole('button', { name: 'Register CA Certificate' }).click();
    const form = page.getByRole('form', { name: 'Register CA Certificate' });
    await form.getByText(code).first().waitFor();  // the openssl example names the code too
    await form.getByLabel('CA name').fill('factory-ca');
    await form.getByLabel('CA certificate (PEM)').fill(pem('ca'));
    // A verification certificate with another CN is refused, with the reason shown.
    await form.getByLabel('Verification certificate (PEM)').fill(pem('dev'));
    await form.getByRole('button', { name: 'Register' }).click();
    await page.getByText('The CA certificate was not registered').waitFor();
    await form.getByLabel('Verification certificate (PEM)').fill(pem('v'));
    await screenshot(page, '60-certificates-register');
    await form.getByRole('button', { name: 'Register' }).click();
    const caRow = cas.getByRole('row').filter({ hasText: 'factory-ca' });
    await caRow.getByRole('cell', { name: 'Active', exact: true }).waitFor();
    const caSn = openssl('x509', '-in', 'ca.pem', '-noout', '-serial').toString().trim().split('=')[1].toLowerCase();
    await caRow.getByText(caSn).waitFor();

    // Deactivate, then activate again.
    await caRow.getByRole('button', { name: 'Deactivate' }).click();
    await caRow.getByRole('cell', { name: 'Inactive', exact: true }).waitFor();
    assert.equal((await mq.request('GetCaCertificate', { MqttInstanceId: inst, Sn: caSn }, post)).Data.Status, '0');
    await caRow.getByRole('button', { name: 'Activate', exact: true }).click();
    await caRow.getByRole('cell', { name: 'Active', exact: true }).waitFor();

    // A device connects with its certificate (mosquitto_pub over mutual TLS) and is listed after a reload.
    const cid = 'GID_dev@@@thermostat-7';
    execFileSync('mosquitto_pub', ['-h', HOST, '-p', String(tlsPort), '--cafile', path.join(pki, 'server.pem'), '--insecure',
      '--cert', path.join(pki, 'dev.pem'), '--key', path.join(pki, 'dev.key'), '-i', cid,
      '-u', `Signature|${s.rootKeyId}|${inst}`, '-P', mqttPassword(s.rootSecret, cid), '-t', 'Sensors/t', '-m', '21.5', '-q', '1'],
    { timeout: 20000, stdio: ['ignore', 'pipe', 'pipe'] });
    await page.reload();
    await page.waitForSelector('main[data-ready="certificates"]');
    const devSn = '7a01';
    const devRow = devices.getByRole('row').filter({ hasText: devSn });
    await devRow.getByRole('cell', { name: 'thermostat-7', exact: true }).waitFor();
    await devRow.getByRole('cell', { name: 'Active', exact: true }).waitFor();
    const last = await devRow.getByRole('cell').filter({ hasText: cid }).textContent();
    assert.ok(/\d/.test(last) && last.endsWith(` · ${cid}`), `last connection: ${last}`);
    await screenshot(page, '61-certificates-device');

    // The device certificate deactivated (the next CONNECT refused), then deleted; then the CA.
    await devRow.getByRole('button', { name: 'Deactivate' }).click();
    await devRow.getByRole('cell', { name: 'Inactive', exact: true }).waitFor();
    const refused = (() => {
      try {
        execFileSync('mosquitto_pub', ['-h', HOST, '-p', String(tlsPort), '--cafile', path.join(pki, 'server.pem'), '--insecure',
          '--cert', path.join(pki, 'dev.pem'), '--key', path.join(pki, 'dev.key'), '-i', cid,
          '-u', `Signature|${s.rootKeyId}|${inst}`, '-P', mqttPassword(s.rootSecret, cid), '-t', 'Sensors/t', '-m', 'x'],
        { timeout: 20000, stdio: ['ignore', 'pipe', 'pipe'] });
        return false;
      } catch {
        return true;
      }
    })();
    assert.ok(refused, 'an inactivated device certificate still connected');
    await devRow.getByRole('button', { name: 'Delete' }).click();
    await devices.getByText('No device has connected with a certificate yet.').waitFor();
    await caRow.getByRole('button', { name: 'Delete' }).click();
    await cas.getByText('No CA certificate is registered on this instance.').waitFor();
    assert.equal((await mq.request('ListCaCertificate', { MqttInstanceId: inst, PageNo: '1', PageSize: '10' }, post)).Data.Total, 0);
    assert.deepEqual(errors, [], 'no console errors or page errors');
  } finally {
    await b.close();
    await s.stop();
    fs.rmSync(pki, { recursive: true, force: true });
  }
});
