// MQTT Signature-mode password: Base64(HMAC-SHA1(AccessKeySecret, ClientId)),
// computed in the browser; the secret never leaves it. WebCrypto where the page
// is a secure context (https or localhost), else a small SHA-1 of our own
// (crypto.subtle is absent on plain-http pages served from another host).

function b64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function sha1(msg: Uint8Array): Uint8Array {
  const ml = msg.length;
  const withPad = new Uint8Array(((ml + 9 + 63) >> 6) << 6);
  withPad.set(msg);
  withPad[ml] = 0x80;
  const dv = new DataView(withPad.buffer);
  dv.setUint32(withPad.length - 4, (ml * 8) >>> 0);
  dv.setUint32(withPad.length - 8, Math.floor((ml * 8) / 2 ** 32));
  let h0 = 0x67452301, h1 = 0xefcdab89, h2 = 0x98badcfe, h3 = 0x10325476, h4 = 0xc3d2e1f0;
  const w = new Uint32Array(80);
  const rotl = (x: number, n: number) => (x << n) | (x >>> (32 - n));
  for (let off = 0; off < withPad.length; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = dv.getUint32(off + i * 4);
    for (let i = 16; i < 80; i++) w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    let a = h0, b = h1, c = h2, d = h3, e = h4;
    for (let i = 0; i < 80; i++) {
      const [f, k] =
        i < 20 ? [(b & c) | (~b & d), 0x5a827999] : i < 40 ? [b ^ c ^ d, 0x6ed9eba1] : i < 60 ? [(b & c) | (b & d) | (c & d), 0x8f1bbcdc] : [b ^ c ^ d, 0xca62c1d6];
      const t = (rotl(a, 5) + f + e + k + w[i]) | 0;
      e = d;
      d = c;
      c = rotl(b, 30);
      b = a;
      a = t;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
  }
  const out = new Uint8Array(20);
  const ov = new DataView(out.buffer);
  [h0, h1, h2, h3, h4].forEach((h, i) => ov.setUint32(i * 4, h >>> 0));
  return out;
}

function hmacSha1Js(key: Uint8Array, data: Uint8Array): Uint8Array {
  let k = key.length > 64 ? sha1(key) : key;
  const k0 = new Uint8Array(64);
  k0.set(k);
  const ipad = new Uint8Array(64 + data.length);
  const opad = new Uint8Array(64 + 20);
  for (let i = 0; i < 64; i++) {
    ipad[i] = k0[i] ^ 0x36;
    opad[i] = k0[i] ^ 0x5c;
  }
  ipad.set(data, 64);
  opad.set(sha1(ipad), 64);
  return sha1(opad);
}

export async function mqttPassword(secret: string, clientId: string): Promise<string> {
  const enc = new TextEncoder();
  const key = enc.encode(secret);
  const data = enc.encode(clientId);
  if (globalThis.crypto?.subtle) {
    const k = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-1' }, false, ['sign']);
    return b64(new Uint8Array(await crypto.subtle.sign('HMAC', k, data)));
  }
  return b64(hmacSha1Js(key, data));
}
export const mqttPasswordJs = (secret: string, clientId: string) =>
  b64(hmacSha1Js(new TextEncoder().encode(secret), new TextEncoder().encode(clientId)));
