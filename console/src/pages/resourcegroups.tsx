// Resource groups: create, rename, delete, and move instances between them
// (a grant on a resource group covers what is in it at the moment of the call).
import { useState } from 'preact/hooks';
import { call, unwrap } from '../api';
import { ActionButton, ErrorBox, Field, Form, FormPanel, LoadedTable, PageHead, Panel, Select, fmtTime, useAction, useLoad, useReady } from '../ui';
import { GrantPanel } from './grant';
import { RgName, refreshResourceGroups, useResourceGroups } from '../rgnames';

export function ResourceGroups() {
  const list = useLoad(() => call('ResourceManager', 'ListResourceGroups', { PageSize: 100 }));
  const [creating, setCreating] = useState(false);
  const [name, setName] = useState('');
  const [display, setDisplay] = useState('');
  const [moving, setMoving] = useState<{ Id: string; DisplayName?: string; Name: string } | undefined>();
  const [grant, setGrant] = useState(false);
  const act = useAction();
  useReady('resource-groups', !list.loading);
  const groups = unwrap<any>(list.data, 'ResourceGroups', 'ResourceGroup');
  return (
    <section>
      <PageHead title="Resource groups" sub="Group resources to grant permissions on them together.">
        <button type="button" class="btn" onClick={() => setGrant(true)}>
          Add Permissions
        </button>
        <button type="button" class="btn btn-primary" onClick={() => setCreating(true)}>
          Create Resource Group
        </button>
      </PageHead>
      <LoadedTable
        list={list}
        errorTitle="Resource groups cannot be listed"
        actionError={act.error}
        label="Resource groups"
        rows={() => groups}
        rowKey={(g) => g.Id}
        empty="No resource group."
        columns={[
          {
            title: 'Display name / Name',
            render: (g) => (
              <>
                {g.DisplayName} {g.IsDefault && <span class="badge">Default</span>}
                <div class="muted small">{g.Name}</div>
              </>
            ),
          },
          { title: 'ID', render: (g) => <code>{g.Id}</code> },
          { title: 'Status', render: (g) => g.Status },
          { title: 'Created', render: (g) => fmtTime(g.CreateDate) },
          {
            title: 'Actions',
            render: (g) => (
              <>
                <button type="button" class="btn-link" onClick={() => setMoving(g)}>
                  Move instances here
                </button>{' '}
                {!g.IsDefault && (
                  <ActionButton
                    act={act}
                    confirm={`Delete resource group ${g.DisplayName}?`}
                    action={async () => {
                      await call('ResourceManager', 'DeleteResourceGroup', { ResourceGroupId: g.Id });
                      list.reload();
                      refreshResourceGroups();
                    }}
                  />
                )}
              </>
            ),
          },
        ]}
      />
      {creating && (
        <FormPanel
          title="Create Resource Group"
          onClose={() => setCreating(false)}
          busy={act.busy}
          error={act.error}
          errorTitle="The resource group was not created"
          cancel
          onSubmit={() =>
            act.run(async () => {
              await call('ResourceManager', 'CreateResourceGroup', { Name: name, DisplayName: display || name });
              setCreating(false);
              setName('');
              setDisplay('');
              list.reload();
              refreshResourceGroups();
            })
          }
        >
          <Field label="Resource group identifier" value={name} onInput={setName} required hint="Lowercase letters, digits and hyphens." />
          <Field label="Display name" value={display} onInput={setDisplay} required />
        </FormPanel>
      )}
      {moving && <MoveInstances to={moving.Id} toName={moving.DisplayName || moving.Name} onClose={() => setMoving(undefined)} />}
      {grant && <GrantPanel initial={[]} onClose={() => setGrant(false)} />}
    </section>
  );
}

function MoveInstances(props: { to: string; toName: string; onClose: () => void }) {
  const inst = useLoad(() => call('OnsMqtt', 'ListInstances'));
  const [pick, setPick] = useState('');
  const act = useAction();
  const [done, setDone] = useState(false);
  const rows = ((inst.data as any)?.Instances ?? []) as any[];
  const groups = useResourceGroups();
  const rgLabel = (id?: string) => {
    const g = groups.find((x) => x.Id === id);
    return g ? g.DisplayName || g.Name : id || 'the default group';
  };
  return (
    <Panel title={`Move instances to ${props.toName}`} onClose={props.onClose}>
      <p>
        To resource group <RgName id={props.to} />
      </p>
      <ErrorBox error={inst.error} title="Instances cannot be listed" />
      <Form
        label="Move instance"
        onSubmit={() =>
          act.run(async () => {
            await call('ResourceManager', 'MoveResources', {
              ResourceGroupId: props.to,
              'Resources.1.ResourceId': pick,
              'Resources.1.ResourceType': 'instance',
              'Resources.1.Service': 'mq',
            });
            setDone(true);
            // The instance's group changed: the list and every label say so now.
            inst.reload();
            refreshResourceGroups();
          })
        }
      >
        <Select
          label="Instance"
          value={pick}
          onChange={setPick}
          options={[{ value: '', label: 'Select…' }, ...rows.map((i) => ({ value: i.InstanceId, label: `${i.InstanceName} (${i.InstanceId}) — now in ${rgLabel(i.ResourceGroupId)}` }))]}
        />
        <ErrorBox error={act.error} title="Not moved" />
        {done && <p class="ok-text">Moved.</p>}
        <div class="actions">
          <button type="submit" class="btn btn-primary" disabled={!pick || act.busy}>
            Move
          </button>
        </div>
      </Form>
    </Panel>
  );
}
