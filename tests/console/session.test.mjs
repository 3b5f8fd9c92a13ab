// A console session ends when the signed-in user's console access changes
// (issue #14 item 3), and the app shows it: a RAM user signed in in the
// browser, whose password the root resets through the API, is sent back to
// sign-in by their next click with the server's reason shown; the same after
// a reload once the login profile is deleted. Signing in again with the new
// password works. No console errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Sluice } from '../node/api_harness.mjs';
import { SRC, launch, newPage, screenshot, submitSignIn, changeBootstrapPassword } from './browser.mjs';

// The cloud's SDK, from the API tests' packages (tests/node), as the root's admin tool.
const RPCClient = createRequire(path.join(SRC, 'tests', 'node', 'package.json'))('@alicloud/pop-core');

const PW = 'Session-Boot-1!';
const NEW_PW = 'Session-Root-2!';
const USER_PW = 'Dana-Pw-123!';
const RESET_PW = 'Dana-Reset-456!';

test('console: a session ended by a password reset returns to sign-in and says why', { timeout: 120000 }, async () => {
  const s = await new Sluice().start({ SLUICE_ROOT_PASSWORD: PW });
  const b = await launch();
  const { page, errors } = await newPage(b.browser);
  const base = `${s.endpoint}/console/`;
  const ram = new RPCClient({ accessKeyId: s.rootKeyId, accessKeySecret: s.rootSecret, endpoint: s.endpoint,
    apiVersion: '2015-05-01' });
  const signIn = (login, pw) => submitSignIn(page, login, pw);
  const ended = () => page.getByRole('status').filter({ hasText: 'Your console session has ended' });
  try {
    // The root's bootstrap password change, through the console API, then signed out.
    await changeBootstrapPassword(page, base, PW, NEW_PW, { signOut: true });
    const alias = (await ram.request('GetAccountAlias', {}, { method: 'POST' })).AccountAlias;
    await ram.request('CreateUser', { UserName: 'dana' }, { method: 'POST' });
    await ram.request('CreateLoginProfile', { UserName: 'dana', Password: USER_PW }, { method: 'POST' });

    // Signed in as dana; the root resets dana's password; dana's next click ends at sign-in.
    await page.goto(base);
    await signIn(`dana@${alias}`, USER_PW);
    await page.getByTestId('principal').getByText('dana').waitFor();
    await ram.request('UpdateLoginProfile', { UserName: 'dana', Password: RESET_PW }, { method: 'POST' });
    await page.getByRole('navigation', { name: 'Console navigation' }).getByRole('link', { name: 'Instances', exact: true }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await ended().waitFor();
    await screenshot(page, '40-session-ended');
    // The old password is refused; the new one signs in (and the notice goes).
    await signIn(`dana@${alias}`, USER_PW);
    await page.getByRole('alert').getByText('The login name or password is wrong.').waitFor();
    await signIn(`dana@${alias}`, RESET_PW);
    await page.waitForSelector('main[data-ready="instances"]');
    assert.equal(await ended().count(), 0);

    // The login profile deleted while the page is closed: a reload lands on sign-in, saying why.
    await ram.request('DeleteLoginProfile', { UserName: 'dana' }, { method: 'POST' });
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await ended().waitFor();

    assert.deepEqual(errors, [], 'no console errors or page errors');
  } finally {
    await b.close();
    await s.stop();
  }
});
