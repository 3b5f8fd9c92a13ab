// MQTT.js (npm `mqtt` v5) against the broker: MQTT 3.1.1 and 5 over TCP, TLS, WebSocket
// and secure WebSocket. Run: node --test (SLUICE_BIN=... or SLUICE_TEST_TARGET=mosquitto).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Broker, TestClient, uid } from './harness.mjs';

const TRANSPORTS = ['tcp', 'tls', 'ws', 'wss'];
const VERSIONS = [4, 5];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let broker;
const open = [];
async function client(transport, version, opts = {}) {
  const c = await TestClient.open(broker, transport, { protocolVersion: version, ...opts });
  open.push(c);
  return c;
}

before(async () => { broker = await new Broker().start(); });
after(async () => {
  for (const c of open) c.client.end(true);
  await broker?.stop();
});

for (const transport of TRANSPORTS) {
  for (const version of VERSIONS) {
    describe(`MQTT ${version === 5 ? '5' : '3.1.1'} over ${transport}`, () => {
      test('QoS 0, 1, 2 round trips', async () => {
        const topic = `${uid('rt')}/a`;
        const sub = await client(transport, version);
        const pub = await client(transport, version);
        const granted = await sub.sub(topic, { qos: 2 });
        assert.equal(granted[0].qos, 2);
        for (const qos of [0, 1, 2]) {
          await pub.pub(topic, `q${qos}`, { qos });
          const m = await sub.next();
          assert.equal(m.topic, topic);
          assert.equal(m.payload.toString(), `q${qos}`);
          assert.equal(m.packet.qos, qos);
          assert.equal(m.packet.retain, false);
        }
        const blob = Buffer.alloc(100000, 7);
        await pub.pub(topic, blob, { qos: 1 });
        assert.deepEqual((await sub.next()).payload, blob);
        await sub.close();
        await pub.close();
      });

      test('retained message to a late subscriber, cleared by an empty retained publish', async () => {
        const topic = uid('ret');
        const pub = await client(transport, version);
        await pub.pub(topic, 'kept', { qos: 1, retain: true });
        const late = await client(transport, version);
        await late.sub(topic, { qos: 1 });
        const m = await late.next();
        assert.equal(m.payload.toString(), 'kept');
        assert.equal(m.packet.retain, true);
        await pub.pub(topic, '', { qos: 1, retain: true });
        assert.equal((await late.next()).payload.length, 0);
        const later = await client(transport, version);
        await later.sub(topic, { qos: 1 });
        await pub.pub(topic, 'marker', { qos: 1 });
        const first = await later.next();
        assert.equal(first.payload.toString(), 'marker', 'no retained message after clearing');
        for (const c of [pub, late, later]) await c.close();
      });

      test('will on abnormal disconnect, none on a normal one', async () => {
        const wt = uid('will');
        const watcher = await client(transport, version);
        await watcher.sub(wt, { qos: 1 });
        const dying = await client(transport, version, { will: { topic: wt, payload: Buffer.from('bye'), qos: 1, retain: false } });
        dying.drop();
        const m = await watcher.next();
        assert.equal(m.topic, wt);
        assert.equal(m.payload.toString(), 'bye');
        const polite = await client(transport, version, { will: { topic: wt, payload: Buffer.from('wrong'), qos: 1, retain: false } });
        await polite.close();
        await watcher.pub(wt, 'marker', { qos: 1 });
        assert.equal((await watcher.next()).payload.toString(), 'marker', 'will discarded on DISCONNECT');
        await watcher.close();
      });

      test('persistent session resumes with queued messages', async () => {
        const clientId = uid('ps');
        const topic = uid('q');
        const opts = { clientId, clean: false };
        if (version === 5) opts.properties = { sessionExpiryInterval: 300 };
        let s = await client(transport, version, opts);
        await s.sub(topic, { qos: 1 });
        await s.close();
        const pub = await client(transport, version);
        for (const p of ['one', 'two', 'three']) await pub.pub(topic, p, { qos: 1 });
        s = await client(transport, version, opts);
        assert.equal(s.connack.sessionPresent, true, 'session present on resume');
        const got = [];
        for (let i = 0; i < 3; i++) got.push((await s.next()).payload.toString());
        assert.deepEqual(got, ['one', 'two', 'three']);
        await s.close();
        await pub.close();
      });
    });
  }
}

describe('shared subscriptions', () => {
  for (const [transport, version] of [['tcp', 4], ['tcp', 5], ['ws', 5]]) {
    test(`two members split the messages (v${version}, ${transport})`, async () => {
      const topic = uid('sh');
      const group = uid('g');
      const a = await client(transport, version);
      const b = await client(transport, version);
      await a.sub(`$share/${group}/${topic}`, { qos: 1 });
      await b.sub(`$share/${group}/${topic}`, { qos: 1 });
      const pub = await client(transport, version);
      const n = 20;
      for (let i = 0; i < n; i++) await pub.pub(topic, `${i}`, { qos: 1 });
      const ga = (await a.drain(500)).map((m) => Number(m.payload.toString()));
      const gb = (await b.drain(200)).map((m) => Number(m.payload.toString()));
      assert.deepEqual([...ga, ...gb].sort((x, y) => x - y), [...Array(n).keys()],
        `each message to exactly one member: a=${ga} b=${gb}`);
      assert.ok(ga.length > 0 && gb.length > 0, `both members get some: a=${ga} b=${gb}`);
      for (const c of [a, b, pub]) await c.close();
    });
  }
});

describe('MQTT 5 features', () => {
  for (const transport of ['tcp', 'ws']) {
    test(`topic alias: subscriber receives the full topic (${transport})`, async () => {
      const topic = `${uid('alias')}/long/topic`;
      const sub = await client(transport, 5);
      await sub.sub(topic, { qos: 1 });
      const pub = await client(transport, 5);
      assert.ok((pub.connack.properties?.topicAliasMaximum ?? 0) >= 1, 'server accepts topic aliases');
      await pub.pub(topic, 'first', { qos: 1, properties: { topicAlias: 1 } });
      await pub.pub('', 'second', { qos: 1, properties: { topicAlias: 1 } });
      for (const want of ['first', 'second']) {
        const m = await sub.next();
        assert.equal(m.topic, topic);
        assert.equal(m.payload.toString(), want);
      }
      await sub.close();
      await pub.close();
    });
  }

  test('topic alias with autoUseTopicAlias over TLS', async () => {
    const topic = `${uid('alias')}/auto`;
    const sub = await client('tls', 5);
    await sub.sub(topic, { qos: 0 });
    const pub = await client('tls', 5, { autoUseTopicAlias: true });
    for (let i = 0; i < 3; i++) await pub.pub(topic, `m${i}`, { qos: 1, properties: { topicAlias: 2 } });
    for (let i = 0; i < 3; i++) {
      const m = await sub.next();
      assert.equal(m.topic, topic);
      assert.equal(m.payload.toString(), `m${i}`);
    }
    await sub.close();
    await pub.close();
  });

  test('subscriber-side topic aliases are resolved by the client', async () => {
    // The subscriber allows aliases from the server; whatever the server does, MQTT.js must
    // see the full topic each time.
    const topic = `${uid('salias')}/x`;
    const sub = await client('tcp', 5, { properties: { topicAliasMaximum: 5 } });
    await sub.sub(topic, { qos: 1 });
    const pub = await client('tcp', 5);
    for (let i = 0; i < 3; i++) await pub.pub(topic, `${i}`, { qos: 1 });
    for (let i = 0; i < 3; i++) assert.equal((await sub.next()).topic, topic);
    await sub.close();
    await pub.close();
  });

  test('user properties, response topic and correlation data pass through', async () => {
    const topic = uid('props');
    const sub = await client('ws', 5);
    await sub.sub(topic, { qos: 1 });
    const pub = await client('ws', 5);
    await pub.pub(topic, '{}', {
      qos: 1,
      properties: {
        userProperties: { a: '1', b: ['x', 'y'] },
        responseTopic: 'reply/here',
        correlationData: Buffer.from([0, 1, 2, 255]),
        contentType: 'application/json',
      },
    });
    const p = (await sub.next()).packet.properties;
    assert.deepEqual({ ...p.userProperties }, { a: '1', b: ['x', 'y'] });
    assert.equal(p.responseTopic, 'reply/here');
    assert.deepEqual(p.correlationData, Buffer.from([0, 1, 2, 255]));
    assert.equal(p.contentType, 'application/json');
    await sub.close();
    await pub.close();
  });

  test('message expiry: an expired queued message is dropped, the rest keep their remaining interval', async () => {
    const clientId = uid('exp');
    const topic = uid('q');
    const opts = { clientId, clean: false, properties: { sessionExpiryInterval: 300 } };
    let s = await client('tcp', 5, opts);
    await s.sub(topic, { qos: 1 });
    await s.close();
    const pub = await client('tcp', 5);
    await pub.pub(topic, 'short', { qos: 1, properties: { messageExpiryInterval: 1 } });
    await pub.pub(topic, 'long', { qos: 1, properties: { messageExpiryInterval: 60 } });
    await sleep(2200);
    s = await client('tcp', 5, opts);
    const m = await s.next();
    assert.equal(m.payload.toString(), 'long');
    const left = m.packet.properties?.messageExpiryInterval;
    assert.ok(left >= 50 && left <= 58, `remaining interval ${left}`);
    await s.close();
    await pub.close();
  });
});
