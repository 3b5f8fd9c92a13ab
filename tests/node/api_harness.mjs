// Starts the real sluice binary for the management-API tests: a fresh data dir,
// free loopback ports, a known root access key (SLUICE_ROOT_ACCESS_KEY_ID/SECRET),
// authentication on. Always kills and reaps the process.
import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SRC = process.env.SLUICE_SRC || path.resolve(HERE, '..', '..');
export const HOST = '127.0.0.1';

function canBind(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, HOST, () => srv.close(() => resolve(true)));
  });
}
async function freePorts(n) {
  let hi = 32767;
  try {
    hi = Math.min(hi, Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').split(/\s+/)[0]) - 1);
  } catch { /* default */ }
  const lo = Math.min(20000, hi - 2000);
  const out = [];
  while (out.length < n) {
    const p = lo + Math.floor(Math.random() * (hi - lo));
    if (!out.includes(p) && (await canBind(p))) out.push(p);
  }
  return out;
}
function portOpen(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: HOST, port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Sluice {
  async start(extraEnv = {}) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-api-'));
    [this.mqttPort, this.httpPort] = await freePorts(2);
    this.rootKeyId = 'LTAI' + crypto.randomBytes(10).toString('hex');
    this.rootSecret = crypto.randomBytes(15).toString('hex');
    const bin = process.env.SLUICE_BIN || path.join(SRC, 'build', 'sluice');
    this.bin = bin;
    this.masterKey = crypto.randomBytes(32).toString('base64');
    this.proc = spawn(bin, ['serve', '--data-dir', path.join(this.dir, 'data'), '--host', HOST,
      '--mqtt-port', String(this.mqttPort), '--http-port', String(this.httpPort), '--log-level', 'warn'], {
      env: { ...process.env, SLUICE_ROOT_ACCESS_KEY_ID: this.rootKeyId, SLUICE_ROOT_ACCESS_KEY_SECRET: this.rootSecret,
        SLUICE_MASTER_KEY: this.masterKey, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.log = '';
    this.proc.stdout.on('data', (d) => { this.log += d; });
    this.proc.stderr.on('data', (d) => { this.log += d; });
    const deadline = Date.now() + 20000;
    while (!(await portOpen(this.httpPort)) || !(await portOpen(this.mqttPort))) {
      if (this.proc.exitCode !== null) throw new Error('sluice exited before listening:\n' + this.log);
      if (Date.now() > deadline) throw new Error('sluice did not listen in time:\n' + this.log);
      await sleep(50);
    }
    this.endpoint = `http://${HOST}:${this.httpPort}`;
    return this;
  }
  // `sluice admin ...` on the running server's data dir.
  admin(...args) {
    return execFileSync(this.bin, ['admin', '--data-dir', path.join(this.dir, 'data'), ...args],
      { env: { ...process.env, SLUICE_MASTER_KEY: this.masterKey }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }
  async stop() {
    if (this.proc && this.proc.exitCode === null) {
      const done = new Promise((r) => this.proc.once('exit', r));
      this.proc.kill('SIGTERM');
      const t = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
      await done;
      clearTimeout(t);
    }
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

// The cloud's V1 signing, for hand-made (and deliberately broken) requests.
export function encode(s) {
  return encodeURIComponent(s).replace(/!/g, '%21').replace(/'/g, '%27').replace(/\(/g, '%28')
    .replace(/\)/g, '%29').replace(/\*/g, '%2A');
}
export function signV1(params, keyId, secret, { method = 'GET', timestamp, nonce } = {}) {
  const p = { Format: 'JSON', AccessKeyId: keyId, SignatureMethod: 'HMAC-SHA1', SignatureVersion: '1.0',
    SignatureNonce: nonce || crypto.randomUUID(), Timestamp: timestamp || new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    ...params };
  const canon = Object.keys(p).sort().map((k) => `${encode(k)}=${encode(p[k])}`).join('&');
  const sts = `${method}&${encode('/')}&${encode(canon)}`;
  const sig = crypto.createHmac('sha1', secret + '&').update(sts).digest('base64');
  return `${canon}&Signature=${encode(sig)}`;
}
export const mqttPassword = (secret, clientId) => crypto.createHmac('sha1', secret).update(clientId).digest('base64');
