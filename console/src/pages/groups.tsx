// RAM user groups (members inherit the group's grants) and RAM roles.
import { useState } from 'preact/hooks';
import { call, unwrap } from '../api';
import { ActionButton, CloseActions, ErrorBox, Field, Form, FormPanel, LoadedTable, Notice, PageHead, Panel, Select, Table, fmtTime, useAction, useLoad, useReady } from '../ui';
import { GrantPanel, PrincipalRef } from './grant';

export function Groups() {
  const list = useLoad(() => call('Ram', 'ListGroups', { MaxItems: 1000 }));
  const users = useLoad(() => call('Ram', 'ListUsers', { MaxItems: 1000 }));
  const [creating, setCreating] = useState(false);
  const [name, setName] = useState('');
  const [comments, setComments] = useState('');
  const [grantFor, setGrantFor] = useState<PrincipalRef[] | undefined>();
  const [members, setMembers] = useState<string | undefined>();
  const act = useAction();
  useReady('groups-ram', !list.loading);
  return (
    <section>
      <PageHead title="User groups" sub="Users inherit every permission granted to their groups.">
        <button type="button" class="btn btn-primary" onClick={() => setCreating(true)}>
          Create Group
        </button>
      </PageHead>
      <LoadedTable
        list={list}
        errorTitle="Groups cannot be listed"
        actionError={act.error}
        label="User groups"
        rows={(d) => unwrap<any>(d, 'Groups', 'Group')}
        rowKey={(g) => g.GroupName}
        empty="No user group yet."
        columns={[
          { title: 'Group name', render: (g) => g.GroupName },
          { title: 'Note', render: (g) => g.Comments || '—' },
          { title: 'Created', render: (g) => fmtTime(g.CreateDate) },
          {
            title: 'Actions',
            render: (g) => (
              <>
                <button type="button" class="btn-link" onClick={() => setGrantFor([{ type: 'IMSGroup', name: g.GroupName }])}>
                  Add Permissions
                </button>{' '}
                <button type="button" class="btn-link" onClick={() => setMembers(g.GroupName)}>
                  Members
                </button>{' '}
                <ActionButton
                  act={act}
                  confirm={`Delete group ${g.GroupName}?`}
                  action={async () => {
                    await call('Ram', 'DeleteGroup', { GroupName: g.GroupName });
                    list.reload();
                  }}
                />
              </>
            ),
          },
        ]}
      />
      {creating && (
        <FormPanel
          title="Create Group"
          onClose={() => setCreating(false)}
          busy={act.busy}
          onSubmit={() =>
            act.run(async () => {
              await call('Ram', 'CreateGroup', { GroupName: name, Comments: comments });
              setCreating(false);
              setName('');
              list.reload();
            })
          }
        >
          {/* its error shows on the page, above the list */}
          <Field label="Group name" value={name} onInput={setName} required />
          <Field label="Note" value={comments} onInput={setComments} />
        </FormPanel>
      )}
      {members && <Members group={members} users={unwrap<any>(users.data, 'Users', 'User').map((u) => u.UserName)} onClose={() => setMembers(undefined)} />}
      {grantFor && <GrantPanel initial={grantFor} onClose={() => setGrantFor(undefined)} />}
    </section>
  );
}

function Members(props: { group: string; users: string[]; onClose: () => void }) {
  const list = useLoad(() => call('Ram', 'ListUsersForGroup', { GroupName: props.group, MaxItems: 1000 }), [props.group]);
  const [add, setAdd] = useState('');
  const act = useAction();
  const members = unwrap<any>(list.data, 'Users', 'User');
  return (
    <Panel title={`Members of ${props.group}`} onClose={props.onClose}>
      <ErrorBox error={list.error} />
      <ErrorBox error={act.error} />
      <Table
        label="Members"
        rows={members}
        rowKey={(u) => u.UserName}
        empty="No member."
        columns={[
          { title: 'User', render: (u) => u.UserName },
          { title: 'Joined', render: (u) => fmtTime(u.JoinDate) },
          {
            title: 'Actions',
            render: (u) => (
              <ActionButton
                act={act}
                action={async () => {
                  await call('Ram', 'RemoveUserFromGroup', { GroupName: props.group, UserName: u.UserName });
                  list.reload();
                }}
              >
                Remove
              </ActionButton>
            ),
          },
        ]}
      />
      <Form
        class="inline-form"
        label="Add member"
        onSubmit={() =>
          act.run(async () => {
            await call('Ram', 'AddUserToGroup', { GroupName: props.group, UserName: add });
            setAdd('');
            list.reload();
          })
        }
      >
        <Select
          label="Add user"
          value={add}
          onChange={setAdd}
          options={[{ value: '', label: 'Select…' }, ...props.users.filter((u) => !members.some((m) => m.UserName === u)).map((u) => ({ value: u, label: u }))]}
        />
        <button type="submit" class="btn" disabled={!add || act.busy}>
          Add
        </button>
      </Form>
    </Panel>
  );
}

const TRUST_TEMPLATE = (account: string) =>
  JSON.stringify(
    { Version: '1', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { RAM: [`acs:ram::${account}:root`] } }] },
    null,
    2,
  );

// CreateRole and UpdateRole answer one of these for each other account whose
// principals the trust policy lets assume the role (docs/api.yaml, TrustWarnings):
// legitimate for a cross-account role, but worth a second look, so each Message
// is shown once the role exists.
interface TrustWarning {
  Code: string;
  Account: string;
  Message: string;
}

export function Roles() {
  const list = useLoad(() => call('Ram', 'ListRoles', { MaxItems: 1000 }));
  const ident = useLoad(() => call('Sts', 'GetCallerIdentity'));
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<{ role: string; warnings: TrustWarning[] } | undefined>();
  const [name, setName] = useState('');
  const [desc, setDesc] = useState('');
  const [trust, setTrust] = useState('');
  const [grantFor, setGrantFor] = useState<PrincipalRef[] | undefined>();
  const act = useAction();
  useReady('roles', !list.loading);
  return (
    <section>
      <PageHead title="Roles" sub="RAM roles are assumed through STS AssumeRole for temporary credentials.">
        <button
          type="button"
          class="btn btn-primary"
          onClick={() => {
            setTrust(TRUST_TEMPLATE((ident.data as any)?.AccountId ?? '<account id>'));
            setCreating(true);
          }}
        >
          Create Role
        </button>
      </PageHead>
      <LoadedTable
        list={list}
        errorTitle="Roles cannot be listed"
        actionError={act.error}
        label="Roles"
        rows={(d) => unwrap<any>(d, 'Roles', 'Role')}
        rowKey={(r) => r.RoleName}
        empty="No role yet."
        columns={[
          {
            title: 'Role name',
            render: (r) => (
              <>
                <span>{r.RoleName}</span>
                <div class="muted small">{r.Arn}</div>
              </>
            ),
          },
          { title: 'Description', render: (r) => r.Description || '—' },
          { title: 'Max session (s)', render: (r) => r.MaxSessionDuration },
          { title: 'Created', render: (r) => fmtTime(r.CreateDate) },
          {
            title: 'Actions',
            render: (r) => (
              <>
                <button type="button" class="btn-link" onClick={() => setGrantFor([{ type: 'ServiceRole', name: r.RoleName }])}>
                  Add Permissions
                </button>{' '}
                <ActionButton
                  act={act}
                  confirm={`Delete role ${r.RoleName}?`}
                  action={async () => {
                    await call('Ram', 'DeleteRole', { RoleName: r.RoleName });
                    list.reload();
                  }}
                />
              </>
            ),
          },
        ]}
      />
      {creating && (
        <FormPanel
          title="Create Role"
          onClose={() => setCreating(false)}
          wide
          busy={act.busy}
          error={act.error}
          errorTitle="The role was not created"
          onSubmit={() =>
            act.run(async () => {
              const r = await call<{ TrustWarnings?: TrustWarning[] }>('Ram', 'CreateRole', {
                RoleName: name,
                Description: desc,
                AssumeRolePolicyDocument: trust,
              });
              setCreating(false);
              list.reload();
              if (r.TrustWarnings?.length) setCreated({ role: name, warnings: r.TrustWarnings });
            })
          }
        >
          <Field label="Role name" value={name} onInput={setName} required />
          <Field label="Description" value={desc} onInput={setDesc} />
          <div class="field">
            <label for="trust">Trust policy (who may assume the role)</label>
            <textarea id="trust" class="code" rows={10} value={trust} onInput={(e) => setTrust((e.target as HTMLTextAreaElement).value)} spellcheck={false} />
          </div>
        </FormPanel>
      )}
      {created && (
        <Panel title="Role created" onClose={() => setCreated(undefined)}>
          <Notice kind="success">Role {created.role} was created.</Notice>
          {created.warnings.map((w) => (
            <Notice kind="warn" key={`${w.Code}:${w.Account}`}>
              <span data-testid="trust-warning">{w.Message}</span>
            </Notice>
          ))}
          <CloseActions onClose={() => setCreated(undefined)} />
        </Panel>
      )}
      {grantFor && <GrantPanel initial={grantFor} onClose={() => setGrantFor(undefined)} />}
    </section>
  );
}
