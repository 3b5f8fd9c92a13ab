// An instance's data rules (issue 19, docs/rules.md): outflow (a topic filter to a
// webhook, NATS, PostgreSQL or another MQTT topic), inflow (a NATS subject to
// devices) and status (connect / disconnect / tcpclean events to a target). The
// same OnsMqtt operations as the API (CreateRule, ListRules, DeleteRule) and the
// same RAM checks; each rule's backlog and overflow since this node started.
import { useState } from 'preact/hooks';
import { call } from '../api';
import { ActionButton, ErrorBox, Field, FormPanel, Loading, Notice, Select, Table, useAction, useId, useLoad, useReady } from '../ui';

interface RuleVO {
  RuleName: string;
  RuleType: string;
  SourceTopic: string;
  TargetType: string;
  TargetConfig: string;
  Running: boolean;
  Backlog: number;
  Delivered: number;
  Overflow: number;
  Retries: number;
  DeadLettered: number;
  LastError: string;
}

const EXAMPLES: Record<string, string> = {
  webhook: '{"Url": "http://backend.example:8080/mqtt", "Secret": ""}',
  nats: '{"Url": "nats://127.0.0.1:4222", "Subject": "devices.telemetry", "Stream": "TELEMETRY"}',
  postgres: '{"Url": "postgresql://user:password@127.0.0.1:5432/db", "Table": "mqtt_archive"}',
  mqtt: '{"Topic": "parent/copy"}',
};

const SOURCE_HINT: Record<string, string> = {
  outflow: 'A topic filter: the parent topic, "+" for one level, "#" for the rest, e.g. Sensors/#.',
  inflow: 'The MQTT topic NATS messages are published on (a P2P topic <parent>/p2p/<clientId> reaches one device).',
  status: 'None: every client connect, disconnect and tcpclean event of the instance.',
};

function ConfigField(props: { value: string; onInput: (v: string) => void; hint: string }) {
  const id = useId('cfg');
  return (
    <div class="field">
      <label for={id}>Target configuration (JSON)</label>
      <textarea id={id} rows={4} required spellcheck={false} value={props.value} aria-describedby={`${id}-hint`}
        onInput={(e) => props.onInput((e.target as HTMLTextAreaElement).value)} />
      <p id={`${id}-hint`} class="hint">{props.hint}</p>
    </div>
  );
}

export function Rules({ id }: { id: string }) {
  const p = { InstanceId: id };
  const list = useLoad(() => call('OnsMqtt', 'ListRules', p), [id]);
  const act = useAction();
  const create = useAction();
  const [adding, setAdding] = useState(false);
  const empty = { name: '', type: 'outflow', source: '', target: 'webhook', config: EXAMPLES.webhook };
  const [form, setForm] = useState(empty);
  useReady('rules', !list.loading);
  const rows: RuleVO[] = list.data?.Data?.Rules ?? [];
  const overflowing = rows.filter((r) => r.Overflow > 0);
  return (
    <div>
      <h2>Rules</h2>
      <p class="muted">
        Send what devices publish, and their connect and disconnect events, to your backend without an MQTT client;
        bring messages from NATS back to devices. A QoS 1 message acknowledged to its publisher reaches each outflow
        target at least once, also across a restart.
      </p>
      {overflowing.length > 0 && (
        <Notice kind="warn">
          Backlog full: {overflowing.map((r) => `${r.RuleName} (${r.Overflow} refused)`).join(', ')}. Their target is
          down or too slow; the messages beyond the backlog were not queued for it.
        </Notice>
      )}
      <div class="actions">
        <button type="button" class="btn btn-primary" onClick={() => setAdding(true)}>
          Create Rule
        </button>
      </div>
      <ErrorBox error={act.error} />
      {list.loading ? (
        <Loading />
      ) : list.error ? (
        <ErrorBox error={list.error} />
      ) : (
        <Table<RuleVO>
          label="Rules"
          rows={rows}
          rowKey={(r) => r.RuleName}
          empty="No rule on this instance."
          columns={[
            { title: 'Name', render: (r) => r.RuleName },
            { title: 'Type', render: (r) => r.RuleType },
            { title: 'Source', render: (r) => (r.SourceTopic ? <code>{r.SourceTopic}</code> : '—') },
            { title: 'Target', render: (r) => <span>{r.TargetType} <code class="small">{r.TargetConfig}</code></span> },
            {
              title: 'Delivery',
              render: (r) =>
                r.RuleType === 'inflow'
                  ? '—'
                  : `${r.Delivered} delivered · ${r.Backlog} waiting${r.Overflow ? ` · ${r.Overflow} overflowed` : ''}${
                      r.DeadLettered ? ` · ${r.DeadLettered} dead-lettered` : ''
                    }${r.LastError && r.Backlog ? ` · ${r.LastError}` : ''}`,
            },
            {
              title: 'Actions',
              render: (r) => (
                <ActionButton act={act}
                  action={async () => {
                    await call('OnsMqtt', 'DeleteRule', { ...p, RuleName: r.RuleName });
                    list.reload();
                  }}
                  confirm={`Delete rule ${r.RuleName}? Its backlog is dropped.`} />
              ),
            },
          ]}
        />
      )}
      {adding && (
        <FormPanel
          title="Create Rule"
          wide
          cancel
          busy={create.busy}
          error={create.error}
          errorTitle="The rule was not created"
          submit="Create"
          onClose={() => setAdding(false)}
          onSubmit={async () => {
            const r = await create.run(() =>
              call('OnsMqtt', 'CreateRule', {
                ...p,
                RuleName: form.name,
                RuleType: form.type,
                SourceTopic: form.type === 'status' ? '' : form.source,
                TargetType: form.target,
                TargetConfig: form.config,
              }),
            );
            if (r) {
              setAdding(false);
              setForm(empty);
              list.reload();
            }
          }}
        >
          <Field label="Rule name" value={form.name} required maxLength={64}
            hint="Letters, digits, '_' and '-'." onInput={(v) => setForm({ ...form, name: v })} />
          <Select label="Rule type" value={form.type}
            options={[
              { value: 'outflow', label: 'Outflow: messages to a target' },
              { value: 'inflow', label: 'Inflow: NATS to devices' },
              { value: 'status', label: 'Status: client events to a target' },
            ]}
            onChange={(v) => {
              const target = v === 'inflow' ? 'nats' : form.target;
              setForm({ ...form, type: v, target, config: EXAMPLES[target] });
            }} />
          {form.type !== 'status' && (
            <Field label="Source topic" value={form.source} required hint={SOURCE_HINT[form.type]}
              onInput={(v) => setForm({ ...form, source: v })} />
          )}
          <Select label="Target type" value={form.target}
            options={(form.type === 'inflow' ? ['nats'] : ['webhook', 'nats', 'postgres', 'mqtt']).map((t) => ({ value: t, label: t }))}
            onChange={(v) => setForm({ ...form, target: v, config: EXAMPLES[v] })} />
          <ConfigField value={form.config} onInput={(v) => setForm({ ...form, config: v })}
            hint="A webhook Secret signs each POST (X-Sluice-Signature); secrets are never shown again." />
        </FormPanel>
      )}
    </div>
  );
}
