// Instances: the list (mq:ListMqttInstance + mq:MqttInstanceAccess) and Create Instance.
import { useState } from 'preact/hooks';
import { call, unwrap } from '../api';
import { RgName } from '../rgnames';
import { ErrorBox, Field, FormPanel, Link, Loading, Notice, PageHead, Select, Table, fmtTime, navigate, useAction, useLoad, useReady } from '../ui';

export interface Instance {
  InstanceId: string;
  InstanceName: string;
  InstanceType: number | string;
  InstanceStatus: string | number;
  Edition?: string;
  Remark?: string;
  ResourceGroupId?: string;
  CreateTime?: number;
  Settings?: Record<string, number | boolean>;
  // The edition's defaults and the settings set for this instance (kept when the edition changes).
  EditionDefaults?: Record<string, number | boolean>;
  OverriddenSettings?: string[];
  Endpoints?: Record<string, string>;
}

// What an edition changes (docs/spec.md, Editions).
export const EDITION_HINT =
  'The edition sets default limits: Basic 1,000 connections, 1,000 messages/s, 20 messages/s per client; ' +
  'Platinum 100,000 connections and messages/s; Professional and Serverless no limits of their own. ' +
  'Each can be changed per instance.';

// The server's rule for an instance name (src/mq/mq_instances.cpp), stated once
// and used by the create and edit forms alike.
export const INSTANCE_NAME = { min: 1, max: 64, rule: '1 to 64 characters.' };

interface ListResult {
  Instances: Instance[];
  Message?: string;
}

export function Instances() {
  const list = useLoad(() => call<ListResult>('OnsMqtt', 'ListInstances'));
  const [creating, setCreating] = useState(false);
  useReady('instances', !list.loading);
  const rows = list.data?.Instances ?? [];
  return (
    <section>
      <PageHead title="Instances" sub="Your ApsaraMQ for MQTT instances">
        <button type="button" class="btn btn-primary" onClick={() => setCreating(true)}>
          Create Instance
        </button>
      </PageHead>
      {list.loading && !list.data && <Loading />}
      <ErrorBox error={list.error} title="The instance list cannot be shown" />
      {denied(list.data?.Message) && (
        <div class="alert alert-denied" role="alert" data-testid="list-message">
          <strong>No instance is visible to you</strong>
          <p class="alert-text">{denied(list.data?.Message)}</p>
          <p class="muted small">
            A RAM user without mq:MqttInstanceAccess sees an empty instance list. Ask an administrator to grant
            mq:ListMqttInstance and mq:MqttInstanceAccess.
          </p>
        </div>
      )}
      {list.data && (
        <Table
          label="Instances"
          rows={rows}
          rowKey={(r) => r.InstanceId}
          empty={denied(list.data.Message) ? 'No visible instance.' : 'No instance yet. Click Create Instance to create one.'}
          columns={[
            {
              title: 'Instance ID / Name',
              render: (r) => (
                <>
                  <Link to={`/instances/${encodeURIComponent(r.InstanceId)}`}>{r.InstanceId}</Link>
                  <div class="muted small">{r.InstanceName}</div>
                </>
              ),
            },
            { title: 'Type', render: (r) => r.Edition ?? String(r.InstanceType) },
            { title: 'Status', render: (r) => <StatusBadge s={r.InstanceStatus} /> },
            { title: 'Resource group', render: (r) => <RgName id={r.ResourceGroupId} /> },
            { title: 'Created', render: (r) => fmtTime(r.CreateTime) },
            {
              title: 'Actions',
              render: (r) => <Link to={`/instances/${encodeURIComponent(r.InstanceId)}`}>Details</Link>,
            },
          ]}
        />
      )}
      {creating && (
        <CreateInstance
          onClose={() => setCreating(false)}
          onCreated={(id) => {
            setCreating(false);
            navigate(`/instances/${encodeURIComponent(id)}`);
          }}
        />
      )}
    </section>
  );
}

// ListInstances always says something (the cloud's "operation success."); any
// other message explains why nothing is visible.
export const denied = (m?: string) => (m && m !== 'operation success.' ? m : '');

export function StatusBadge({ s }: { s: string | number }) {
  // The cloud's InstanceStatus 5 is "in service".
  const text = s === 5 || s === '5' || String(s).toLowerCase() === 'running' ? 'Running' : String(s);
  return <span class={`badge ${text === 'Running' ? 'badge-ok' : ''}`}>{text}</span>;
}

function CreateInstance(props: { onClose: () => void; onCreated: (id: string) => void }) {
  const [name, setName] = useState('');
  const [type, setType] = useState('professional');
  const [rg, setRg] = useState('');
  const [remark, setRemark] = useState('');
  const groups = useLoad(() => call('ResourceManager', 'ListResourceGroups', { PageSize: 100 }));
  const act = useAction();
  const rgs = unwrap<any>(groups.data, 'ResourceGroups', 'ResourceGroup');
  return (
    <FormPanel
      title="Create Instance"
      onClose={props.onClose}
      busy={act.busy}
      error={act.error}
      errorTitle="The instance was not created"
      cancel
      after={groups.loading && <Notice>Loading resource groups…</Notice>}
      onSubmit={() =>
        act.run(async () => {
          const r = await call<{ InstanceId: string }>('OnsMqtt', 'CreateInstance', {
            InstanceName: name,
            InstanceType: type,
            ResourceGroupId: rg,
            Remark: remark,
          });
          props.onCreated(r.InstanceId);
        })
      }
    >
      <Field label="Instance name" value={name} onInput={setName} required maxLength={INSTANCE_NAME.max} hint={INSTANCE_NAME.rule} />
      <Select
        label="Instance type"
        value={type}
        onChange={setType}
        options={[
          { value: 'basic', label: 'Basic' },
          { value: 'professional', label: 'Professional' },
          { value: 'platinum', label: 'Platinum' },
          { value: 'serverless', label: 'Serverless' },
        ]}
        hint={EDITION_HINT}
      />
      {groups.error ? (
        <>
          <Field label="Resource group ID" value={rg} onInput={setRg} hint="Leave empty for the default resource group." />
          <p class="muted small">Resource groups cannot be listed: {groups.error.text}</p>
        </>
      ) : (
        <Select
          label="Resource group"
          value={rg}
          onChange={setRg}
          options={[
            { value: '', label: 'Default resource group' },
            ...rgs.filter((g) => !g.IsDefault).map((g) => ({ value: g.Id, label: `${g.DisplayName || g.Name} (${g.Id})` })),
          ]}
        />
      )}
      <Field label="Description" value={remark} onInput={setRemark} />
    </FormPanel>
  );
}
