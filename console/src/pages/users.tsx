// RAM users: list (batch Add Permissions), create (with console password and
// access key), and one user's login profile, access keys, groups and permissions.
import { useState } from 'preact/hooks';
import { call, unwrap } from '../api';
import { MfaCard } from './mfa';
import { ActionButton, CloseActions, CopyButton, ErrorBox, Field, Form, FormPanel, Link, LoadedTable, Loading, Notice, PageHead, Panel, Table, fmtTime, navigate, useAction, useLoad, useReady, downloadCsv } from '../ui';
import { GrantPanel, PrincipalRef } from './grant';
import { useResourceGroups } from '../rgnames';

interface User {
  UserName: string;
  DisplayName: string;
  Comments?: string;
  CreateDate?: string;
  UserId?: string;
  UserPrincipalName?: string; // the sign-in name: <name>@<alias>.onaliyun.com
}
interface NewKey {
  AccessKeyId: string;
  AccessKeySecret: string;
}

export function Users() {
  const list = useLoad(() => call('Ram', 'ListUsers', { MaxItems: 1000 }));
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [grantFor, setGrantFor] = useState<PrincipalRef[] | undefined>();
  const [creating, setCreating] = useState(false);
  const users = unwrap<User>(list.data, 'Users', 'User');
  // The account alias every sign-in name ends in (RAM GetAccountAlias; the default is the account id).
  const alias = useLoad(() => call<{ AccountAlias: string }>('Ram', 'GetAccountAlias'));
  useReady('users', !list.loading);
  return (
    <section>
      <PageHead
        title="Users"
        sub={
          <>
            RAM users: identities with their own passwords and access keys, allowed nothing until granted.
            {alias.data?.AccountAlias && (
              <span class="block" data-testid="account-alias">
                They sign in as <code>&lt;name&gt;@{alias.data.AccountAlias}.onaliyun.com</code> (account alias{' '}
                <code>{alias.data.AccountAlias}</code>).
              </span>
            )}
          </>
        }
      >
        <button type="button" class="btn btn-primary" onClick={() => setCreating(true)}>
          Create User
        </button>
      </PageHead>
      <LoadedTable
        list={list}
        errorTitle="Users cannot be listed"
        label="Users"
        rows={() => users}
        rowKey={(u) => u.UserName}
        select={{ selected, onChange: setSelected }}
        empty="No RAM user yet."
        columns={[
          {
            title: 'User logon name / Display name',
            render: (u) => (
              <>
                <Link to={`/ram/users/${encodeURIComponent(u.UserName)}`}>{u.UserName}</Link>
                <div class="muted small">{u.DisplayName}</div>
                {u.UserPrincipalName && (
                  <div class="small" data-testid="upn">
                    Sign-in name: <code>{u.UserPrincipalName}</code>
                  </div>
                )}
              </>
            ),
          },
          { title: 'Note', render: (u) => u.Comments || '—' },
          { title: 'Created', render: (u) => fmtTime(u.CreateDate) },
          {
            title: 'Actions',
            render: (u) => (
              <button type="button" class="btn-link" onClick={() => setGrantFor([{ type: 'IMSUser', name: u.UserName }])} aria-label={`Add Permissions for ${u.UserName}`}>
                Add Permissions
              </button>
            ),
          },
        ]}
      />
      <div class="batch-bar" aria-live="polite">
        <span>{selected.size} selected</span>
        <button
          type="button"
          class="btn"
          disabled={selected.size === 0}
          onClick={() => setGrantFor([...selected].map((name) => ({ type: 'IMSUser' as const, name })))}
        >
          Add Permissions
        </button>
      </div>
      {grantFor && <GrantPanel initial={grantFor} onClose={() => setGrantFor(undefined)} onGranted={() => setSelected(new Set())} />}
      {creating && (
        <CreateUser
          onClose={() => {
            setCreating(false);
            list.reload();
          }}
        />
      )}
    </section>
  );
}

function CreateUser(props: { onClose: () => void }) {
  const [name, setName] = useState('');
  const [display, setDisplay] = useState('');
  const [consoleAccess, setConsoleAccess] = useState(true);
  const [password, setPassword] = useState('');
  const [resetRequired, setResetRequired] = useState(false);
  const [wantKey, setWantKey] = useState(false);
  const [done, setDone] = useState<{ user: string; upn: string; key?: NewKey } | undefined>();
  const act = useAction();
  if (done)
    return (
      <Panel title="User created" onClose={props.onClose}>
        <Notice kind="success">User {done.user} was created.</Notice>
        <SignInName upn={done.upn} />
        {done.key && <KeyOnce k={done.key} upn={done.upn} />}
        <CloseActions onClose={props.onClose} />
      </Panel>
    );
  return (
    <FormPanel
      title="Create User"
      onClose={props.onClose}
      busy={act.busy}
      error={act.error}
      errorTitle="The user was not (fully) created"
      cancel
      onSubmit={() =>
        act.run(async () => {
          const created = await call<{ User: User }>('Ram', 'CreateUser', { UserName: name, DisplayName: display || name });
          if (consoleAccess)
            await call('Ram', 'CreateLoginProfile', { UserName: name, Password: password, PasswordResetRequired: resetRequired });
          let key: NewKey | undefined;
          if (wantKey) key = (await call<{ AccessKey: NewKey }>('Ram', 'CreateAccessKey', { UserName: name })).AccessKey;
          setDone({ user: name, upn: created.User.UserPrincipalName || name, key });
        })
      }
    >
      <Field label="Logon name" value={name} onInput={setName} required hint="Signs in as <logon name>@<account alias>.onaliyun.com (shown once created)." />
      <Field label="Display name" value={display} onInput={setDisplay} />
      <fieldset class="field">
        <legend>Access mode</legend>
        <label class="check-line">
          <input type="checkbox" checked={consoleAccess} onChange={(e) => setConsoleAccess((e.target as HTMLInputElement).checked)} />
          Console access (password)
        </label>
        <label class="check-line">
          <input type="checkbox" checked={wantKey} onChange={(e) => setWantKey((e.target as HTMLInputElement).checked)} />
          Using permanent AccessKey to access (API and MQTT Signature mode)
        </label>
      </fieldset>
      {consoleAccess && (
        <>
          <Field label="Console password" type="password" value={password} onInput={setPassword} required autoComplete="new-password" />
          <label class="check-line">
            <input type="checkbox" checked={resetRequired} onChange={(e) => setResetRequired((e.target as HTMLInputElement).checked)} />
            Require a password reset at the next sign-in
          </label>
        </>
      )}
    </FormPanel>
  );
}

// A user's sign-in name (the cloud's user principal name) with a copy button.
function SignInName({ upn }: { upn: string }) {
  return (
    <p data-testid="signin-name">
      Sign-in name: <code>{upn}</code> <CopyButton value={upn} label={`Copy sign-in name ${upn}`} />
    </p>
  );
}

function KeyOnce({ k, upn }: { k: NewKey; upn: string }) {
  return (
    <div class="alert alert-warn" role="status" data-testid="new-access-key">
      <strong>Save the AccessKey secret now: it is shown only once.</strong>
      <dl class="kv">
        <dt>AccessKey ID</dt>
        <dd>
          <code data-testid="ak-id">{k.AccessKeyId}</code>
        </dd>
        <dt>AccessKey secret</dt>
        <dd>
          <code data-testid="ak-secret">{k.AccessKeySecret}</code>
        </dd>
      </dl>
      <button
        type="button"
        class="btn"
        onClick={() =>
          downloadCsv(`AccessKey_${upn.split('@')[0]}.csv`, [
            ['User Principal Name', 'AccessKey ID', 'AccessKey Secret'],
            [upn, k.AccessKeyId, k.AccessKeySecret],
          ])
        }
      >
        Download CSV file
      </button>
    </div>
  );
}

export function UserDetail({ name }: { name: string }) {
  const user = useLoad(() => call<{ User: User }>('Ram', 'GetUser', { UserName: name }), [name]);
  const profile = useLoad(() => call('Ram', 'GetLoginProfile', { UserName: name }), [name]);
  const keys = useLoad(() => call('Ram', 'ListAccessKeys', { UserName: name }), [name]);
  const pols = useLoad(() => call('Ram', 'ListPoliciesForUser', { UserName: name }), [name]);
  const rgPols = useLoad(() => call('ResourceManager', 'ListPolicyAttachments', { PrincipalType: 'IMSUser', PrincipalName: name, PageSize: 100 }), [name]);
  const groups = useLoad(() => call('Ram', 'ListGroupsForUser', { UserName: name }), [name]);
  const [newKey, setNewKey] = useState<NewKey | undefined>();
  const [pw, setPw] = useState('');
  const [grant, setGrant] = useState(false);
  const act = useAction();
  useReady('user', !user.loading);
  const u = user.data?.User;
  const lp = (profile.data as any)?.LoginProfile;
  // A section the signed-in user may not read says so and offers no action
  // (no "No AccessKey" or "Enable console access" beside a denial).
  const groupsOfAccount = useResourceGroups();
  const rgLabel = (id: string) => groupsOfAccount.find((g) => g.Id === id)?.DisplayName || id;
  const profileKnown = !profile.error || profile.error.code?.startsWith('EntityNotExist');
  return (
    <section>
      <p class="crumbs">
        <Link to="/ram/users">Users</Link> / <span>{name}</span>
      </p>
      <PageHead title={u?.DisplayName || name} sub={u ? `${u.UserName} · ${u.UserId ?? ''}` : name}>
        <button type="button" class="btn btn-primary" onClick={() => setGrant(true)}>
          Add Permissions
        </button>
        <ActionButton
          class="btn btn-danger"
          act={act}
          confirm={`Delete user ${name}?`}
          action={async () => {
            await call('Ram', 'DeleteUser', { UserName: name });
            navigate('/ram/users');
          }}
        >
          Delete User
        </ActionButton>
      </PageHead>
      <ErrorBox error={user.error} title="The user cannot be shown" />
      <ErrorBox error={act.error} />
      <div class="grid2">
        <div class="card">
          <h2>Console logon</h2>
          {u?.UserPrincipalName && <SignInName upn={u.UserPrincipalName} />}
          {profile.loading ? (
            <Loading />
          ) : lp ? (
            <dl class="kv">
              <dt>Console access</dt>
              <dd>Enabled</dd>
              <dt>Reset required</dt>
              <dd>{String(lp.PasswordResetRequired)}</dd>
              <dt>Since</dt>
              <dd>{fmtTime(lp.CreateDate)}</dd>
            </dl>
          ) : profile.error?.code?.startsWith('EntityNotExist') ? (
            <p class="muted">Console access is not enabled.</p>
          ) : (
            <ErrorBox error={profile.error} />
          )}
          {profileKnown && <Form
            class="inline-form"
            label="Set console password"
            onSubmit={() =>
              act.run(async () => {
                await call('Ram', lp ? 'UpdateLoginProfile' : 'CreateLoginProfile', { UserName: name, Password: pw });
                setPw('');
                profile.reload();
              })
            }
          >
            <Field label={lp ? 'New console password' : 'Console password'} type="password" value={pw} onInput={setPw} required autoComplete="new-password" />
            <button type="submit" class="btn" disabled={act.busy}>
              {lp ? 'Reset password' : 'Enable console access'}
            </button>
          </Form>}
        </div>
        <MfaCard user={name} />
        <div class="card">
          <h2>AccessKeys</h2>
          <ErrorBox error={keys.error} />
          {newKey && <KeyOnce k={newKey} upn={u?.UserPrincipalName || name} />}
          {!keys.error && <Table
            label="AccessKeys"
            rows={unwrap<any>(keys.data, 'AccessKeys', 'AccessKey')}
            rowKey={(k) => k.AccessKeyId}
            empty="No AccessKey."
            columns={[
              { title: 'AccessKey ID', render: (k) => <code>{k.AccessKeyId}</code> },
              { title: 'Status', render: (k) => k.Status },
              { title: 'Created', render: (k) => fmtTime(k.CreateDate) },
              {
                title: 'Actions',
                render: (k) => (
                  <>
                    <ActionButton
                      class="btn-link"
                      act={act}
                      action={async () => {
                        await call('Ram', 'UpdateAccessKey', { UserName: name, UserAccessKeyId: k.AccessKeyId, Status: k.Status === 'Active' ? 'Inactive' : 'Active' });
                        keys.reload();
                      }}
                    >
                      {k.Status === 'Active' ? 'Disable' : 'Enable'}
                    </ActionButton>{' '}
                    <ActionButton
                      act={act}
                      confirm={`Delete AccessKey ${k.AccessKeyId}?`}
                      action={async () => {
                        await call('Ram', 'DeleteAccessKey', { UserName: name, UserAccessKeyId: k.AccessKeyId });
                        keys.reload();
                      }}
                    />
                  </>
                ),
              },
            ]}
          />}
          {!keys.error && <button
            type="button"
            class="btn"
            onClick={() =>
              act.run(async () => {
                setNewKey((await call<{ AccessKey: NewKey }>('Ram', 'CreateAccessKey', { UserName: name })).AccessKey);
                keys.reload();
              })
            }
          >
            Create AccessKey
          </button>}
        </div>
      </div>
      <h2>Permissions</h2>
      <ErrorBox error={pols.error || rgPols.error} />
      {!pols.error && !rgPols.error && <Table
        label="Permissions"
        rows={[
          ...unwrap<any>(pols.data, 'Policies', 'Policy').map((p) => ({ ...p, Scope: 'Account' })),
          ...unwrap<any>(rgPols.data, 'PolicyAttachments', 'PolicyAttachment')
            .filter((a) => a.ResourceGroupId && !/^\d+$/.test(a.ResourceGroupId))
            .map((a) => ({ ...a, Scope: `Resource group ${rgLabel(a.ResourceGroupId)}` })),
        ]}
        rowKey={(p) => `${p.PolicyType}:${p.PolicyName}:${p.Scope}`}
        empty="No permission granted."
        columns={[
          { title: 'Policy', render: (p) => p.PolicyName },
          { title: 'Type', render: (p) => p.PolicyType },
          { title: 'Scope', render: (p) => p.Scope },
          { title: 'Granted', render: (p) => fmtTime(p.AttachDate) },
          {
            title: 'Actions',
            render: (p) => (
              <ActionButton
                act={act}
                action={async () => {
                  if (p.Scope === 'Account') await call('Ram', 'DetachPolicyFromUser', { UserName: name, PolicyType: p.PolicyType, PolicyName: p.PolicyName });
                  else
                    await call('ResourceManager', 'DetachPolicy', {
                      ResourceGroupId: p.ResourceGroupId,
                      PolicyType: p.PolicyType,
                      PolicyName: p.PolicyName,
                      PrincipalType: 'IMSUser',
                      PrincipalName: name,
                    });
                  pols.reload();
                  rgPols.reload();
                }}
              >
                Revoke
              </ActionButton>
            ),
          },
        ]}
      />}
      <h2>Groups</h2>
      <ErrorBox error={groups.error} />
      {!groups.error && <Table
        label="Groups of the user"
        rows={unwrap<any>(groups.data, 'Groups', 'Group')}
        rowKey={(g) => g.GroupName}
        empty="Not in any group."
        columns={[
          { title: 'Group', render: (g) => g.GroupName },
          { title: 'Joined', render: (g) => fmtTime(g.JoinDate) },
        ]}
      />}
      {grant && (
        <GrantPanel
          initial={[{ type: 'IMSUser', name }]}
          onClose={() => setGrant(false)}
          onGranted={() => {
            pols.reload();
            rgPols.reload();
          }}
        />
      )}
    </section>
  );
}
