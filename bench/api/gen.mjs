// Prepares a running Sluice for the management-API benchmark and writes
// pre-signed requests (signature V1, each with its own nonce) for wrk to replay.
// Usage: node gen.mjs <endpoint> <rootKeyId> <rootSecret> <action> <count> <out-file>
//   action: ListGroupId | ApplyToken | GetUser
// Setup (idempotent enough for one fresh data dir): activate mq, create an
// instance + group + topic, a RAM user "bench" with AliyunMQFullAccess and
// AliyunRAMReadOnlyAccess-like rights (ReadOnlyAccess) and an access key; the
// requests are signed with that user's key, so every call is really authorized.
import crypto from 'node:crypto';
import fs from 'node:fs';

const [endpoint, rootId, rootSecret, action = 'ListGroupId', countStr = '200000', out = '/tmp/sluice-api-requests.txt'] =
  process.argv.slice(2);
const count = Number(countStr);

const enc = (s) => encodeURIComponent(s).replace(/!/g, '%21').replace(/'/g, '%27').replace(/\(/g, '%28')
  .replace(/\)/g, '%29').replace(/\*/g, '%2A');
function sign(params, id, secret, nonce) {
  const p = { Format: 'JSON', AccessKeyId: id, SignatureMethod: 'HMAC-SHA1', SignatureVersion: '1.0',
    SignatureNonce: nonce ?? crypto.randomUUID(), Timestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), ...params };
  const canon = Object.keys(p).sort().map((k) => `${enc(k)}=${enc(p[k])}`).join('&');
  const sig = crypto.createHmac('sha1', secret + '&').update(`GET&%2F&${enc(canon)}`).digest('base64');
  return `${canon}&Signature=${enc(sig)}`;
}
async function call(params, id = rootId, secret = rootSecret) {
  const r = await fetch(`${endpoint}/?${sign(params, id, secret)}`);
  const j = await r.json();
  if (j.Code) throw new Error(`${params.Action}: ${j.Code}: ${j.Message}`);
  return j;
}

await call({ Action: 'OpenOnsService', Version: '2019-02-14' });
const inst = (await call({ Action: 'CreateInstance', Version: '2020-04-20', InstanceName: 'bench' })).InstanceId;
await call({ Action: 'CreateGroupId', Version: '2020-04-20', InstanceId: inst, GroupId: 'GID_bench' });
await call({ Action: 'CreateTopic', Version: '2020-04-20', InstanceId: inst, Topic: 'bench' });
await call({ Action: 'CreateUser', Version: '2015-05-01', UserName: 'bench' });
const key = (await call({ Action: 'CreateAccessKey', Version: '2015-05-01', UserName: 'bench' })).AccessKey;
for (const policy of ['AliyunMQFullAccess', 'ReadOnlyAccess'])
  await call({ Action: 'AttachPolicyToUser', Version: '2015-05-01', PolicyType: 'System', PolicyName: policy, UserName: 'bench' });

const params = {
  ListGroupId: { Action: 'ListGroupId', Version: '2020-04-20', InstanceId: inst },
  GetUser: { Action: 'GetUser', Version: '2015-05-01', UserName: 'bench' },
  ApplyToken: { Action: 'ApplyToken', Version: '2020-04-20', InstanceId: inst, Resources: 'bench/a', Actions: 'R,W',
    ExpireTime: String(Date.now() + 3600_000) },
}[action];
if (!params) throw new Error('unknown action ' + action);
await call(params, key.AccessKeyId, key.AccessKeySecret);  // check the grant works
const lines = [];
for (let i = 0; i < count; i++) lines.push('/?' + sign(params, key.AccessKeyId, key.AccessKeySecret, `b${i}-${crypto.randomUUID()}`));
fs.writeFileSync(out, lines.join('\n') + '\n');
console.log(`wrote ${count} signed ${action} requests to ${out} (instance ${inst})`);
