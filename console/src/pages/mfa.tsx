// Virtual MFA for console sign-in (issue 21): a user's device, on the user's
// page (for an administrator) and on "Security settings" (for oneself). Enable:
// CreateVirtualMFADevice, its QR code (the cloud's QRCodePNG, drawn by the
// server) and its key as text, then two consecutive codes to BindMFADevice.
// Disable: UnbindMFADevice, and the device is deleted.
import { useState } from 'preact/hooks';
import { ApiError, call } from '../api';
import { ActionButton, CopyButton, ErrorBox, Field, Form, Loading, PageHead, useAction, useLoad, useReady } from '../ui';

interface NewDevice {
  SerialNumber: string;
  Base32StringSeed: string;
  QRCodePNG: string;
  OtpauthUri?: string;
}

const post = (action: string, params: Record<string, string>) => call('Ram', action, params);

// A device left unbound by an enrolment that was not finished has the same name:
// deleted, then made again (its key was shown once and is not known any more).
async function createDevice(name: string): Promise<NewDevice> {
  try {
    return (await post('CreateVirtualMFADevice', { VirtualMFADeviceName: name })).VirtualMFADevice;
  } catch (e) {
    if (!(e instanceof ApiError) || !e.code.startsWith('EntityAlreadyExists')) throw e;
    const account = (await call('Sts', 'GetCallerIdentity')).AccountId;
    await post('DeleteVirtualMFADevice', { SerialNumber: `acs:ram::${account}:mfa/${name}` });
    return (await post('CreateVirtualMFADevice', { VirtualMFADeviceName: name })).VirtualMFADevice;
  }
}

export function MfaCard({ user, self }: { user: string; self?: boolean }) {
  const info = useLoad(() => post('GetUserMFAInfo', { UserName: user }), [user]);
  const [dev, setDev] = useState<NewDevice | undefined>();
  const [code1, setCode1] = useState('');
  const [code2, setCode2] = useState('');
  const act = useAction();
  const bound = (info.data as any)?.MFADevice?.SerialNumber as string | undefined;
  const none = info.error?.code?.startsWith('EntityNotExist');
  const who = self ? 'You' : user;
  return (
    <div class="card" data-testid="mfa">
      <h2>Multi-factor authentication (MFA)</h2>
      {info.loading ? (
        <Loading />
      ) : bound ? (
        <>
          <p>
            MFA is <strong>enabled</strong>: {who} sign{self ? '' : 's'} in to the console with a password and a code
            from the authenticator app.
          </p>
          <dl class="kv">
            <dt>Device</dt>
            <dd>
              <code>{bound}</code>
            </dd>
          </dl>
          <ActionButton
            class="btn"
            act={act}
            confirm={`Disable MFA for ${user}? The console then asks for the password only.`}
            action={async () => {
              const r = await post('UnbindMFADevice', { UserName: user });
              await post('DeleteVirtualMFADevice', { SerialNumber: r.MFADevice.SerialNumber }).catch(() => undefined);
              info.reload();
            }}
          >
            Disable MFA
          </ActionButton>
        </>
      ) : none && !dev ? (
        <>
          <p class="muted">MFA is not enabled: the console asks for the password only.</p>
          <button
            type="button"
            class="btn"
            disabled={act.busy}
            onClick={() => act.run(async () => setDev(await createDevice(user)))}
          >
            Enable MFA
          </button>
        </>
      ) : dev ? (
        <Form
          label="Bind the MFA device"
          onSubmit={() =>
            act.run(async () => {
              await post('BindMFADevice', {
                UserName: user,
                SerialNumber: dev.SerialNumber,
                AuthenticationCode1: code1.trim(),
                AuthenticationCode2: code2.trim(),
              });
              setDev(undefined);
              setCode1('');
              setCode2('');
              info.reload();
            })
          }
        >
          <p>1. Scan the QR code with an authenticator app (TOTP, RFC 6238), or enter the key by hand.</p>
          {dev.QRCodePNG ? (
            <img
              class="qr"
              data-testid="mfa-qr"
              src={`data:image/png;base64,${dev.QRCodePNG}`}
              alt={`QR code of the MFA device for ${user}: ${dev.OtpauthUri ?? ''}`}
              width={196}
              height={196}
            />
          ) : null}
          <dl class="kv">
            <dt>Key</dt>
            <dd>
              <code data-testid="mfa-seed">{dev.Base32StringSeed}</code> <CopyButton value={dev.Base32StringSeed} label="Copy key" />
            </dd>
          </dl>
          <p>2. Enter two consecutive codes the app shows (one, then the next after it changes).</p>
          {self && <p class="hint">Binding ends your console sessions: sign in again with your password and a code.</p>}
          <Field label="First code" value={code1} onInput={setCode1} required autoComplete="one-time-code" maxLength={6} />
          <Field label="Second code" value={code2} onInput={setCode2} required autoComplete="one-time-code" maxLength={6} />
          <button type="submit" class="btn btn-primary" disabled={act.busy}>
            Bind
          </button>{' '}
          <button type="button" class="btn" onClick={() => setDev(undefined)}>
            Cancel
          </button>
        </Form>
      ) : (
        <ErrorBox error={info.error} />
      )}
      <ErrorBox error={act.error} title="MFA was not changed" />
    </div>
  );
}

// "Security settings": a RAM user's own MFA device.
export function SecuritySettings({ user }: { user: string }) {
  useReady('security', true);
  return (
    <section>
      <PageHead title="Security settings" sub={user} />
      <div class="grid2">
        <MfaCard user={user} self />
      </div>
    </section>
  );
}

// Sign-in of a user whose login profile requires MFA (MFABindRequired) and who
// has no device yet: nothing else until one is bound; binding ends this session
// and the user signs in again with a code.
export function MfaRequired({ user, onSignOut }: { user: string; onSignOut: () => void }) {
  useReady('mfa-required', true);
  return (
    <main id="main" class="signin-page">
      <div class="signin-card">
        <h1>Bind an MFA device</h1>
        <p>
          An administrator requires multi-factor authentication for {user}. Bind a virtual MFA device to continue;
          then sign in again with your password and a code.
        </p>
        <MfaCard user={user} self />
        <button type="button" class="btn" onClick={onSignOut}>
          Sign out
        </button>
      </div>
    </main>
  );
}
