// Virtual MFA enrolment in the console (issue 21): the root enables MFA on a user's
// page (the QR code drawn by the server is a PNG the browser decodes, the key is
// shown as text), binds it with two consecutive TOTP codes computed here (RFC 6238
// from that key), and the user then signs in with a password and a code. On
// "Security settings" the user disables MFA and enables it again alone
// (AllowUserToManageMFADevices, on by default). A user whose login profile has
// MFABindRequired is shown only the enrolment after the password. No console errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Sluice } from '../node/api_harness.mjs';
import { SRC, launch, newPage, screenshot, submitSignIn, changeBootstrapPassword } from './browser.mjs';

const RPCClient = createRequire(path.join(SRC, 'tests', 'node', 'package.json'))('@alicloud/pop-core');

const PW = 'Mfa-Boot-1!';
const NEW_PW = 'Mfa-Root-2!';
const USER_PW = 'Erin-Pw-123!';

function base32(text) {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0, value = 0;
  const out = [];
  for (const ch of text.replace(/=+$/, '')) {
    value = (value << 5) | abc.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}
// RFC 6238: HOTP (RFC 4226) of the 30-second step, six digits.
function totp(seed, step) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const h = crypto.createHmac('sha1', base32(seed)).update(msg).digest();
  const o = h[h.length - 1] & 0xf;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1000000).padStart(6, '0');
}
const stepNow = () => Math.floor(Date.now() / 30000);

test('console: MFA enrolment on the user page and in Security settings, sign-in with a code', { timeout: 120000 }, async () => {
  const s = await new Sluice().start({ SLUICE_ROOT_PASSWORD: PW });
  const b = await launch();
  const { page, errors } = await newPage(b.browser);
  page.on('dialog', (d) => d.accept());
  const base = `${s.endpoint}/console/`;
  const ram = new RPCClient({ accessKeyId: s.rootKeyId, accessKeySecret: s.rootSecret, endpoint: s.endpoint,
    apiVersion: '2015-05-01' });
  const signIn = (login, pw) => submitSignIn(page, login, pw);
  const mfa = () => page.getByTestId('mfa');
  // Enable MFA in the card shown: the QR code decodes, the key is text, two codes bind.
  const enrol = async (shot, self = false) => {
    await mfa().getByRole('button', { name: 'Enable MFA' }).click();
    const qr = mfa().getByTestId('mfa-qr');
    await qr.waitFor();
    await page.waitForFunction((el) => el.complete && el.naturalWidth > 100, await qr.elementHandle());
    const seed = (await mfa().getByTestId('mfa-seed').textContent()).trim();
    assert.match(seed, /^[A-Z2-7]{16,}$/);
    assert.match(await qr.getAttribute('alt'), /otpauth:\/\/totp\//);
    await screenshot(page, shot);
    const step = stepNow();
    await mfa().getByLabel('First code').fill(totp(seed, step - 1));
    await mfa().getByLabel('Second code').fill(totp(seed, step));
    await mfa().getByRole('button', { name: 'Bind' }).click();
    // Binding ends the user's console sessions signed in without the device,
    // the one that bound it too: sign in again with a code.
    if (self) await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    else await mfa().getByText('MFA is', { exact: false }).filter({ hasText: 'enabled' }).waitFor();
    return seed;
  };
  try {
    await changeBootstrapPassword(page, base, PW, NEW_PW, { signOut: true });
    const alias = (await ram.request('GetAccountAlias', {}, { method: 'POST' })).AccountAlias;
    await ram.request('CreateUser', { UserName: 'erin' }, { method: 'POST' });
    await ram.request('CreateLoginProfile', { UserName: 'erin', Password: USER_PW }, { method: 'POST' });

    // The root enrols erin on erin's page.
    await page.goto(base);
    await signIn('root', NEW_PW);
    await page.getByTestId('principal').waitFor();
    await page.goto(`${base}ram/users/erin`);
    await mfa().getByText('MFA is not enabled').waitFor();
    const seed = await enrol('50-mfa-enrol-user-page');
    const info = await ram.request('GetUserMFAInfo', { UserName: 'erin' }, { method: 'POST' });
    assert.match(info.MFADevice.SerialNumber, /:mfa\/erin$/);
    await page.getByRole('button', { name: 'Sign out' }).click();

    // erin signs in: the password, then a code of the device.
    await signIn(`erin@${alias}`, USER_PW);
    await page.getByLabel('MFA code').fill('000000' === totp(seed, stepNow() + 1) ? '111111' : '000000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();  // a wrong code is refused
    await page.getByLabel('Password', { exact: true }).fill(USER_PW);
    await page.getByLabel('MFA code').fill(totp(seed, stepNow() + 1));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('principal').getByText('erin').waitFor();

    // Security settings: erin disables MFA, then enables it again alone.
    await page.getByRole('link', { name: 'Security settings' }).click();
    await page.waitForSelector('main[data-ready="security"]');
    await mfa().getByText('enabled').first().waitFor();
    await mfa().getByRole('button', { name: 'Disable MFA' }).click();
    await mfa().getByText('MFA is not enabled').waitFor();
    await assert.rejects(ram.request('GetUserMFAInfo', { UserName: 'erin' }, { method: 'POST' }),
      (e) => e.code.startsWith('EntityNotExist'));
    const seed2 = await enrol('51-mfa-enrol-self', true);
    await signIn(`erin@${alias}`, USER_PW);
    await page.getByLabel('MFA code').fill(totp(seed2, stepNow() + 1));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('principal').getByText('erin').waitFor();
    const again = await ram.request('GetUserMFAInfo', { UserName: 'erin' }, { method: 'POST' });
    assert.match(again.MFADevice.SerialNumber, /:mfa\/erin$/);

    // MFABindRequired: finn has no device; after the password the console offers
    // only enrolment, then finn signs in with a code.
    await ram.request('CreateUser', { UserName: 'finn' }, { method: 'POST' });
    await ram.request('CreateLoginProfile', { UserName: 'finn', Password: USER_PW, MFABindRequired: true }, { method: 'POST' });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(`finn@${alias}`, USER_PW);
    await page.getByRole('heading', { name: 'Bind an MFA device' }).waitFor();
    await page.waitForSelector('main[data-ready="mfa-required"]');
    await mfa().getByText('MFA is not enabled').waitFor();
    const seed3 = await enrol('52-mfa-bind-required', true);
    await signIn(`finn@${alias}`, USER_PW);
    await page.getByLabel('MFA code').fill(totp(seed3, stepNow() + 1));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('principal').getByText('finn').waitFor();

    assert.deepEqual(errors, [], 'no console errors or page errors');
  } finally {
    await b.close();
    await s.stop();
  }
});
