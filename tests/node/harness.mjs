// Starts a real broker on free loopback ports for the MQTT.js tests: the sluice binary
// ($SLUICE_BIN, default) or Debian's mosquitto when SLUICE_TEST_TARGET=mosquitto. Same
// contract as tests/integration/harness.py: fresh temp dir, a CA and server cert made with
// the openssl CLI, wait until every port accepts, always kill and reap the process.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';

export const HOST = '127.0.0.1';
export const TARGET = (process.env.SLUICE_TEST_TARGET || 'sluice').trim().toLowerCase();
export const IS_MOSQUITTO = TARGET === 'mosquitto';
const HERE = path.dirname(fileURLToPath(import.meta.url));
const SRC = process.env.SLUICE_SRC || path.resolve(HERE, '..', '..');

const live = new Set();
process.on('exit', () => {
  for (const b of live) b.killNow();
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    for (const b of live) b.killNow();
    process.exit(128 + (sig === 'SIGINT' ? 2 : 15));
  });
}

function canBind(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, HOST, () => srv.close(() => resolve(true)));
  });
}

// Ports below the kernel's ephemeral range, so the tests' own client sockets never collide.
async function freePorts(n) {
  let lo = 20000;
  let hi = 32767;
  try {
    const eph = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').split(/\s+/)[0]);
    hi = Math.min(hi, eph - 1);
    lo = Math.min(lo, hi - 2000);
  } catch { /* keep defaults */ }
  const out = [];
  while (out.length < n) {
    const p = lo + Math.floor(Math.random() * (hi - lo));
    if (!out.includes(p) && (await canBind(p))) out.push(p);
  }
  return out;
}

function makeCerts(dir) {
  const run = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Sluice Test CA');
  run('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  fs.writeFileSync(path.join(dir, 'san.ext'),
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' +
    'keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n');
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', 'server.pem', '-days', '2', '-extfile', 'san.ext');
  return { ca: path.join(dir, 'ca.pem'), cert: path.join(dir, 'server.pem'), key: path.join(dir, 'server.key') };
}

function portOpen(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: HOST, port });
    s.setTimeout(500);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
    s.once('timeout', () => { s.destroy(); resolve(false); });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Broker {
  async start({ timeoutMs = 20000, attempts = 3 } = {}) {
    for (let i = 0; ; i++) {
      try {
        return await this.#start(timeoutMs);
      } catch (e) {
        if (i >= attempts - 1 || !String(e.message).includes('before listening')) throw e;
      }
    }
  }

  async #start(timeoutMs) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-node-'));
    this.dataDir = path.join(this.dir, 'data');
    fs.mkdirSync(this.dataDir);
    const certs = makeCerts(this.dir);
    this.caFile = certs.ca;
    this.ca = fs.readFileSync(certs.ca);
    [this.mqttPort, this.mqttsPort, this.wsPort, this.wssPort, this.httpPort] = await freePorts(5);
    let cmd;
    if (IS_MOSQUITTO) {
      const conf = path.join(this.dir, 'mosquitto.conf');
      const user = process.getuid && process.getuid() === 0 ? 'user root\n' : '';
      fs.writeFileSync(conf, `${user}per_listener_settings false
allow_anonymous true
persistence false
log_dest stdout
log_type error
log_type warning
max_packet_size 1048576
listener ${this.mqttPort} ${HOST}
listener ${this.mqttsPort} ${HOST}
certfile ${certs.cert}
keyfile ${certs.key}
listener ${this.wsPort} ${HOST}
protocol websockets
listener ${this.wssPort} ${HOST}
protocol websockets
certfile ${certs.cert}
keyfile ${certs.key}
`);
      cmd = [process.env.MOSQUITTO_BIN || '/usr/sbin/mosquitto', '-c', conf];
    } else {
      const bin = process.env.SLUICE_BIN || path.join(SRC, 'build', 'sluice');
      if (!fs.existsSync(bin)) throw new Error(`sluice binary not found: ${bin} (set SLUICE_BIN, or SLUICE_TEST_TARGET=mosquitto)`);
      let help = '';
      try { help = execFileSync(bin, ['serve', '--help'], { encoding: 'utf8', timeout: 10000 }); } catch { /* none */ }
      cmd = [bin, 'serve', '--data-dir', this.dataDir, '--mqtt-port', `${this.mqttPort}`,
        '--mqtts-port', `${this.mqttsPort}`, '--ws-port', `${this.wsPort}`, '--wss-port', `${this.wssPort}`,
        '--http-port', `${this.httpPort}`, '--threads', '2', '--allow-anonymous',
        '--tls-cert', certs.cert, '--tls-key', certs.key, ...(help.includes('--host') ? ['--host', HOST] : [])];
    }
    this.cmd = cmd;
    this.logPath = path.join(this.dir, 'broker.log');
    const log = fs.openSync(this.logPath, 'w');
    this.proc = spawn(cmd[0], cmd.slice(1), { cwd: this.dir, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    this.exited = false;
    this.proc.once('exit', (code) => { this.exited = true; this.exitCode = code; });
    live.add(this);
    const ports = [this.mqttPort, this.mqttsPort, this.wsPort, this.wssPort];
    const deadline = Date.now() + timeoutMs;
    while (ports.length) {
      if (this.exited) {
        const tail = this.logTail();
        await this.stop();
        throw new Error(`broker exited with ${this.exitCode} before listening: ${cmd.join(' ')}\n${tail}`);
      }
      if (Date.now() > deadline) {
        const tail = this.logTail();
        await this.stop();
        throw new Error(`broker not listening on ${ports} after ${timeoutMs} ms\n${tail}`);
      }
      if (await portOpen(ports[0])) ports.shift();
      else await sleep(50);
    }
    return this;
  }

  logTail(n = 4000) {
    try { return fs.readFileSync(this.logPath, 'utf8').slice(-n); } catch { return ''; }
  }

  alive() { return this.proc && !this.exited; }

  killNow() {
    if (this.proc && !this.exited) {
      try { this.proc.kill('SIGKILL'); } catch { /* gone */ }
    }
    live.delete(this);
  }

  async stop() {
    if (this.proc && !this.exited) {
      const done = new Promise((r) => this.proc.once('exit', r));
      this.proc.kill('SIGTERM');
      const t = setTimeout(() => { try { this.proc.kill('SIGKILL'); } catch { /* gone */ } }, 5000);
      await done;
      clearTimeout(t);
    }
    live.delete(this);
    if (this.dir && process.env.SLUICE_TEST_KEEP !== '1') {
      fs.rmSync(this.dir, { recursive: true, force: true });
      this.dir = null;
    }
  }

  url(transport) {
    switch (transport) {
      case 'tcp': return `mqtt://${HOST}:${this.mqttPort}`;
      case 'tls': return `mqtts://${HOST}:${this.mqttsPort}`;
      case 'ws': return `ws://${HOST}:${this.wsPort}/mqtt`;
      case 'wss': return `wss://${HOST}:${this.wssPort}/mqtt`;
      default: throw new Error(transport);
    }
  }
}

let seq = 0;
export function uid(prefix = 't') {
  seq += 1;
  return `${prefix}-${process.pid.toString(36)}-${Date.now().toString(36)}-${seq}`;
}

// A connected MQTT.js client with a message queue. Resolves after CONNACK.
export class TestClient {
  constructor(client, connack) {
    this.client = client;
    this.connack = connack;
    this.queue = [];
    this.waiters = [];
    client.on('message', (topic, payload, packet) => {
      const m = { topic, payload, packet };
      const w = this.waiters.shift();
      if (w) w(m); else this.queue.push(m);
    });
  }

  static open(broker, transport, opts = {}) {
    const o = {
      reconnectPeriod: 0,
      connectTimeout: 5000,
      clientId: uid('js'),
      protocolVersion: 5,
      ...opts,
    };
    if (transport === 'tls' || transport === 'wss') o.ca = broker.ca;
    return new Promise((resolve, reject) => {
      const c = mqtt.connect(broker.url(transport), o);
      // Listen for messages before CONNACK: queued messages of a resumed session may
      // arrive in the same read as the CONNACK.
      const tc = new TestClient(c, null);
      const t = setTimeout(() => { c.end(true); reject(new Error(`no CONNACK over ${transport}`)); }, 6000);
      c.once('connect', (connack) => { clearTimeout(t); tc.connack = connack; resolve(tc); });
      c.once('error', (e) => { clearTimeout(t); c.end(true); reject(e); });
    });
  }

  next(timeoutMs = 5000) {
    if (this.queue.length) return Promise.resolve(this.queue.shift());
    return new Promise((resolve, reject) => {
      const w = (m) => { clearTimeout(t); resolve(m); };
      const t = setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`${this.client.options.clientId}: no message within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  async drain(waitMs = 300) {
    const out = [];
    for (;;) {
      try { out.push(await this.next(waitMs)); } catch { return out; }
    }
  }

  sub(filter, opts = { qos: 1 }) { return this.client.subscribeAsync(filter, opts); }

  pub(topic, payload, opts = { qos: 1 }) { return this.client.publishAsync(topic, payload, opts); }

  close() { return this.client.endAsync(); }

  // Abnormal end: the socket closes without a DISCONNECT packet.
  drop() {
    this.client.options.reconnectPeriod = 0;
    this.client.stream.destroy();
  }
}
