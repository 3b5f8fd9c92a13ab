// Sign-in (root login name, or RAM user as user@<alias>.onaliyun.com) and the forced
// password change of the bootstrap root.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, Session, changePassword, login } from '../api';
import { ErrorBox, Field, Form, Notice, markReady, useAction } from '../ui';

// notice: why the previous session ended (e.g. the password was reset), if it did.
export function SignIn({ onSignedIn, notice }: { onSignedIn: (s: Session) => void; notice?: string }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  // A RAM user with a virtual MFA device: after the password, the code it shows.
  const [mfa, setMfa] = useState(false);
  const [code, setCode] = useState('');
  const act = useAction();
  useEffect(() => markReady('signin'), []);
  return (
    <main id="main" class="signin-page">
      <div class="signin-card">
        <h1>Sign in</h1>
        <p class="muted">ApsaraMQ for MQTT console · Sluice</p>
        {notice && <Notice kind="warn">{notice}</Notice>}
        <Form
          label="Sign in"
          onSubmit={() =>
            act.run(async () => {
              try {
                onSignedIn(await login(name.trim(), password, mfa ? code.trim() : undefined));
              } catch (e) {
                if (e instanceof ApiError && e.code === 'MFARequired') {
                  setMfa(true);
                  return;
                }
                throw e;
              }
            })
          }
        >
          <Field
            label="Login name"
            name="login"
            value={name}
            onInput={setName}
            required
            autoFocus
            autoComplete="username"
            hint="Root account: its login name. RAM user: the sign-in name shown on the user's page, <user>@<account alias>.onaliyun.com (<user>@<account alias> works too; the default alias is the account id)."
          />
          <Field
            label="Password"
            name="password"
            type="password"
            value={password}
            onInput={setPassword}
            required
            autoComplete="current-password"
          />
          {mfa && (
            <Field
              label="MFA code"
              name="mfaCode"
              value={code}
              onInput={setCode}
              required
              autoFocus
              autoComplete="one-time-code"
              minLength={6}
              maxLength={6}
              hint="The six-digit code your authenticator app shows for this user now."
            />
          )}
          <ErrorBox error={act.error} title="Sign-in failed" />
          <button type="submit" class="btn btn-primary btn-block" disabled={act.busy}>
            {act.busy ? 'Signing in…' : 'Sign in'}
          </button>
        </Form>
      </div>
    </main>
  );
}

export function ChangePassword({ session, onDone }: { session: Session; onDone: () => void }) {
  const [oldPw, setOld] = useState('');
  const [pw, setPw] = useState('');
  const [pw2, setPw2] = useState('');
  const [mismatch, setMismatch] = useState(false);
  const act = useAction();
  useEffect(() => {
    // The page replaces sign-in without a load, so autofocus alone does not move focus here.
    document.querySelector<HTMLInputElement>('main form input')?.focus();
    markReady('change-password');
  }, []);
  return (
    <main id="main" class="signin-page">
      <div class="signin-card">
        <h1>Change your password</h1>
        <p>
          {session.principal.kind === 'Root'
            ? `${session.principal.name}, this is your first sign-in with the bootstrap password. Choose a new password to continue.`
            : `${session.principal.displayName || session.principal.name}, an administrator asks you to choose a new password before you continue.`}
        </p>
        <Form
          label="Change password"
          onSubmit={() => {
            if (pw !== pw2) return setMismatch(true);
            setMismatch(false);
            act.run(async () => {
              await changePassword(oldPw, pw);
              onDone();
            });
          }}
        >
          <Field label="Current password" type="password" value={oldPw} onInput={setOld} required autoComplete="current-password" autoFocus />
          <Field label="New password" type="password" value={pw} onInput={setPw} required autoComplete="new-password" minLength={8} maxLength={128} hint="8 to 128 characters." />
          <Field label="Confirm new password" type="password" value={pw2} onInput={setPw2} required autoComplete="new-password" />
          {mismatch && (
            <div class="alert alert-error" role="alert">
              The two new passwords differ.
            </div>
          )}
          <ErrorBox error={act.error} title="Password not changed" />
          <button type="submit" class="btn btn-primary btn-block" disabled={act.busy}>
            Change password
          </button>
        </Form>
      </div>
    </main>
  );
}
