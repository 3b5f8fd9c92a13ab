// One instance: details (endpoints, limits), topics, group IDs, device status,
// device and message traces, send a test message, the signature calculator.
import { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { call } from '../api';
import { mqttPassword } from '../sign';
import {
  ActionButton,
  Column,
  ErrorBox,
  Field,
  Form,
  FormActions,
  FormPanel,
  Link,
  Loading,
  Notice,
  PageHead,
  QueryForm,
  Select,
  Table,
  TimeRange,
  fmtTime,
  lastHours,
  markReady,
  navigate,
  useAction,
  useLoad,
  useReady,
} from '../ui';
import { EDITION_HINT, INSTANCE_NAME, Instance, StatusBadge, denied } from './instances';
import { RgName } from '../rgnames';
import { InstanceMetrics } from './instance_metrics';
import { Certificates } from './certificates';
import { Rules } from './rules';

const TABS: { id: string; label: string }[] = [
  { id: 'details', label: 'Instance Details' },
  { id: 'topics', label: 'Topics' },
  { id: 'groups', label: 'Group IDs' },
  { id: 'devices', label: 'Device Status' },
  { id: 'trace', label: 'Message Trace' },
  { id: 'send', label: 'Send Test Message' },
  { id: 'signature', label: 'Signature Calculator' },
  { id: 'certificates', label: 'Certificates' },
  { id: 'rules', label: 'Rules' },
];

export function InstanceDetail({ id, tab }: { id: string; tab: string }) {
  const list = useLoad(() => call<{ Instances: Instance[]; Message?: string }>('OnsMqtt', 'ListInstances'), [id]);
  const inst = list.data?.Instances?.find((i) => i.InstanceId === id);
  const base = `/instances/${encodeURIComponent(id)}`;
  useEffect(() => {
    if (!list.loading && tab === 'details') markReady('instance');
  }, [list.loading, tab]);
  return (
    <section>
      <p class="crumbs">
        <Link to="/instances">Instances</Link> / <span>{id}</span>
      </p>
      <PageHead title={inst?.InstanceName || id} sub={inst ? `${inst.InstanceId} · ${inst.Edition ?? inst.InstanceType}` : id} />
      <nav class="tabs" aria-label="Instance sections">
        {TABS.map((t) => (
          <Link to={t.id === 'details' ? base : `${base}/${t.id}`} class="tab" aria-current={tab === t.id ? 'page' : undefined}>
            {t.label}
          </Link>
        ))}
      </nav>
      <div class="tab-body">
        {tab === 'details' && <Details id={id} inst={inst} loading={list.loading} error={list.error} message={denied(list.data?.Message)} reload={list.reload} />}
        {tab === 'topics' && <Topics id={id} />}
        {tab === 'groups' && <GroupIds id={id} />}
        {tab === 'devices' && <DeviceStatus id={id} />}
        {tab === 'trace' && <Traces id={id} />}
        {tab === 'send' && <SendMessage id={id} />}
        {tab === 'signature' && <SignatureCalc id={id} />}
        {tab === 'certificates' && <Certificates id={id} />}
        {tab === 'rules' && <Rules id={id} />}
      </div>
    </section>
  );
}

function Details(props: { id: string; inst?: Instance; loading: boolean; error?: any; message?: string; reload: () => void }) {
  const { inst } = props;
  const [editing, setEditing] = useState(false);
  const release = useAction();
  if (props.loading) return <Loading />;
  if (props.error) return <ErrorBox error={props.error} title="The instance cannot be shown" />;
  if (!inst)
    return (
      <div class="alert alert-denied" role="alert">
        <strong>Instance {props.id} is not visible to you</strong>
        <p class="alert-text">{props.message || 'It does not exist, or you may not list it.'}</p>
      </div>
    );
  const ep = inst.Endpoints || {};
  const endpoints: [string, string][] = [
    ['TCP', ep.Tcp || ep.TCP || ''],
    ['TLS', ep.Tls || ep.TLS || ''],
    ['WebSocket (WS)', ep.Ws || ep.WS || ''],
    ['WebSocket Secure (WSS)', ep.Wss || ep.WSS || ''],
  ];
  const s = inst.Settings || {};
  const d = inst.EditionDefaults || {};
  const own = new Set(inst.OverriddenSettings || []);
  const num = (k: string, zero = 'Unlimited') => (s[k] === 0 ? zero : String(s[k] ?? '—'));
  // Each limit, and whether it is the edition's default or set for this instance.
  const limits: [string, string, string][] = [
    ['Max connections', 'MaxConnections', num('MaxConnections')],
    ['Messages per second (instance)', 'MaxInstanceMessagesPerSecond', num('MaxInstanceMessagesPerSecond')],
    ['Messages per second (per client)', 'MaxMessagesPerSecond', num('MaxMessagesPerSecond')],
    ['Max subscriptions per client', 'MaxSubscriptionsPerClient', num('MaxSubscriptionsPerClient')],
    ['Max payload (bytes)', 'MaxPayload', num('MaxPayload')],
    ['Max topic length', 'MaxTopicLength', num('MaxTopicLength')],
    ['Max client ID length', 'MaxClientIdLength', num('MaxClientIdLength')],
    ['Offline message TTL (s)', 'OfflineMessageTtlSeconds', num('OfflineMessageTtlSeconds')],
    ['Strict client IDs', 'StrictClientId', String(s.StrictClientId ?? '—')],
    ['Strict topics', 'StrictTopic', String(s.StrictTopic ?? '—')],
    ['Retained messages', 'RetainAvailable', String(s.RetainAvailable ?? '—')],
    ['Shared subscriptions', 'SharedSubscriptions', String(s.SharedSubscriptions ?? '—')],
  ];
  const origin = (k: string) =>
    own.has(k) ? (
      <span class="muted small" title={`Edition default: ${d[k] === 0 ? 'unlimited' : String(d[k] ?? '—')}`}>
        {' '}
        (set for this instance)
      </span>
    ) : null;
  return (
    <>
    <div class="toolbar">
      <span />
      <div class="page-actions">
        <button type="button" class="btn" onClick={() => setEditing(true)}>
          Edit
        </button>
        <ActionButton
          class="btn btn-danger"
          disabled={release.busy}
          act={release}
          confirm={`Release instance ${inst.InstanceId}? Its topics, groups and sessions are deleted.`}
          action={async () => {
            await call('OnsMqtt', 'ReleaseInstance', { InstanceId: inst.InstanceId });
            navigate('/instances');
          }}
        >
          Release
        </ActionButton>
      </div>
    </div>
    <ErrorBox error={release.error} title="The instance was not released" />
    {editing && (
      <EditInstance
        inst={inst}
        onClose={() => setEditing(false)}
        onSaved={() => {
          setEditing(false);
          props.reload();
        }}
      />
    )}
    <div class="grid2" data-testid="instance-details">
      <div class="card">
        <h2>Basic Information</h2>
        <dl class="kv">
          <dt>Instance ID</dt>
          <dd>{inst.InstanceId}</dd>
          <dt>Name</dt>
          <dd>{inst.InstanceName}</dd>
          <dt>Type</dt>
          <dd>{inst.Edition ?? inst.InstanceType}</dd>
          <dt>Status</dt>
          <dd>
            <StatusBadge s={inst.InstanceStatus} />
          </dd>
          <dt>Resource group</dt>
          <dd>
            <RgName id={inst.ResourceGroupId} />
          </dd>
          <dt>Created</dt>
          <dd>{fmtTime(inst.CreateTime)}</dd>
          <dt>Description</dt>
          <dd>{inst.Remark || '—'}</dd>
        </dl>
      </div>
      <div class="card">
        <h2>Endpoints</h2>
        <dl class="kv" data-testid="endpoints">
          {endpoints.map(([k, v]) => (
            <>
              <dt>{k}</dt>
              <dd>{v ? <code>{v}</code> : <span class="muted">off</span>}</dd>
            </>
          ))}
        </dl>
        <p class="hint">
          The addresses clients connect to. "off": that listener is not enabled on this server (port, tls_port,
          ws_port, wss_port in docs/configuration.md). The host name is the server's [mq] endpoint_host.
        </p>
      </div>
      <div class="card">
        <h2>Limits</h2>
        <p class="muted small" data-testid="edition">
          Edition: {inst.Edition ?? inst.InstanceType}. Limits not marked are the edition's defaults.
        </p>
        <dl class="kv" data-testid="limits">
          {limits.map(([label, k, v]) => (
            <>
              <dt>{label}</dt>
              <dd data-setting={k}>
                <span>{v}</span>
                {origin(k)}
              </dd>
            </>
          ))}
        </dl>
      </div>
      <InstanceMetrics id={inst.InstanceId} />
    </div>
    </>
  );
}

const NUMERIC: [string, string][] = [
  ['MaxPayload', 'Max payload (bytes)'],
  ['MaxConnections', 'Max connections (0 = unlimited)'],
  ['MaxInstanceMessagesPerSecond', 'Messages per second, instance (0 = unlimited)'],
  ['MaxMessagesPerSecond', 'Messages per second, per client (0 = unlimited)'],
  ['MaxSubscriptionsPerClient', 'Max subscriptions per client'],
  ['OfflineMessageTtlSeconds', 'Offline message TTL (s)'],
  ['MaxTopicLength', 'Max topic length'],
  ['MaxClientIdLength', 'Max client ID length'],
];
const SWITCHES: [string, string][] = [
  ['StrictClientId', 'Strict client IDs (GroupId@@@DeviceId of an existing group)'],
  ['StrictTopic', 'Strict topics (parent topic must exist)'],
  ['RetainAvailable', 'Retained messages'],
  ['SharedSubscriptions', 'Shared subscriptions'],
];

function EditInstance(props: { inst: Instance; onClose: () => void; onSaved: () => void }) {
  const s0 = props.inst.Settings || {};
  const [name, setName] = useState(props.inst.InstanceName);
  const [remark, setRemark] = useState(props.inst.Remark || '');
  const edition0 = props.inst.Edition ?? String(props.inst.InstanceType);
  const [edition, setEdition] = useState(edition0);
  const [reset, setReset] = useState(false);
  const [nums, setNums] = useState<Record<string, string>>(Object.fromEntries(NUMERIC.map(([k]) => [k, String(s0[k] ?? '')])));
  const [sw, setSw] = useState<Record<string, boolean>>(Object.fromEntries(SWITCHES.map(([k]) => [k, !!s0[k]])));
  const act = useAction();
  return (
    <FormPanel
      title="Edit Instance"
      onClose={props.onClose}
      busy={act.busy}
      error={act.error}
      errorTitle="The instance was not updated"
      submit="Save"
      cancel
      onSubmit={() =>
        act.run(async () => {
          // Only what changed: a value sent is a value set for this instance, kept
          // when the edition changes (the others follow the edition's defaults).
          const changed: Record<string, string | boolean> = {};
          for (const [k] of NUMERIC) if (nums[k] !== String(s0[k] ?? '')) changed[k] = nums[k];
          for (const [k] of SWITCHES) if (sw[k] !== !!s0[k]) changed[k] = sw[k];
          const params: Record<string, string | boolean> = { InstanceId: props.inst.InstanceId, InstanceName: name, Remark: remark };
          if (edition !== edition0) params.InstanceType = edition;
          if (reset) params.ResetSettings = 'all';
          else Object.assign(params, changed);
          await call('OnsMqtt', 'UpdateInstance', params);
          props.onSaved();
        })
      }
    >
      <Field label="Instance name" value={name} onInput={setName} required maxLength={INSTANCE_NAME.max} hint={INSTANCE_NAME.rule} />
      <Field label="Description" value={remark} onInput={setRemark} />
      <Select
        label="Edition"
        value={edition}
        onChange={setEdition}
        options={[
          { value: 'basic', label: 'Basic' },
          { value: 'professional', label: 'Professional' },
          { value: 'platinum', label: 'Platinum' },
          { value: 'serverless', label: 'Serverless' },
        ]}
        hint={EDITION_HINT + ' Limits set for this instance are kept.'}
      />
      <label class="check-line">
        <input type="checkbox" checked={reset} onChange={(e) => setReset((e.target as HTMLInputElement).checked)} />
        Reset every limit and switch to the edition's defaults
      </label>
      {NUMERIC.map(([k, label]) => (
        <Field label={label} type="number" value={nums[k]} onInput={(v) => setNums((n) => ({ ...n, [k]: v }))} />
      ))}
      {SWITCHES.map(([k, label]) => (
        <label class="check-line">
          <input type="checkbox" checked={sw[k]} onChange={(e) => setSw((x) => ({ ...x, [k]: (e.target as HTMLInputElement).checked }))} />
          {label}
        </label>
      ))}
      <p class="hint">Changes apply to connected clients at once.</p>
    </FormPanel>
  );
}

function Topics({ id }: { id: string }) {
  const [topic, setTopic] = useState('');
  const [remark, setRemark] = useState('');
  return (
    <ResourceTab
      id={id}
      page="topics"
      title="Topics"
      noun="topic"
      create="Create Topic"
      load={() => call('OnsMqtt', 'ListTopic', { InstanceId: id })}
      rowKey={(r) => r.Topic}
      columns={[
        { title: 'Topic', render: (r) => r.Topic },
        { title: 'Description', render: (r) => r.Remark || '—' },
        { title: 'Created', render: (r) => fmtTime(r.CreateTime) },
      ]}
      confirmDelete={(r) => `Delete topic ${r.Topic}?`}
      remove={(r) => call('OnsMqtt', 'DeleteTopic', { InstanceId: id, Topic: r.Topic })}
      add={async () => {
        await call('OnsMqtt', 'CreateTopic', { InstanceId: id, Topic: topic, Remark: remark });
        setTopic('');
      }}
    >
      <Field label="Topic" value={topic} onInput={setTopic} required hint="The parent topic, e.g. Sensors." />
      <Field label="Description" value={remark} onInput={setRemark} />
    </ResourceTab>
  );
}

function GroupIds({ id }: { id: string }) {
  const [group, setGroup] = useState('GID_');
  return (
    <ResourceTab
      id={id}
      page="groups"
      title="Group IDs"
      noun="group ID"
      create="Create Group"
      load={() => call('OnsMqtt', 'ListGroupId', { InstanceId: id })}
      rowKey={(r) => r.GroupId}
      columns={[
        { title: 'Group ID', render: (r) => r.GroupId },
        { title: 'Created', render: (r) => fmtTime(r.CreateTime) },
      ]}
      confirmDelete={(r) => `Delete group ID ${r.GroupId}? Its connected clients are disconnected.`}
      remove={(r) => call('OnsMqtt', 'DeleteGroupId', { InstanceId: id, GroupId: r.GroupId })}
      add={() => call('OnsMqtt', 'CreateGroupId', { InstanceId: id, GroupId: group })}
    >
      <Field label="Group ID" value={group} onInput={setGroup} required hint="Starts with GID_ or GID-." />
    </ResourceTab>
  );
}

// One tab listing a kind of instance resource (topics, group IDs): the list with a
// Delete action per row, and a Create panel holding the given fields (children).
function ResourceTab(props: {
  id: string;
  page: string;
  title: string;
  noun: string;
  create: string;
  load: () => Promise<{ Data?: any[] }>;
  rowKey: (r: any) => string;
  columns: Column<any>[];
  confirmDelete: (r: any) => string;
  remove: (r: any) => Promise<unknown>;
  add: () => Promise<unknown>;
  children: ComponentChildren;
}) {
  const list = useLoad(props.load, [props.id]);
  const [open, setOpen] = useState(false);
  const act = useAction();
  const del = useAction();
  useReady(props.page, !list.loading);
  return (
    <div>
      <div class="toolbar">
        <h2>{props.title}</h2>
        <button type="button" class="btn btn-primary" onClick={() => setOpen(true)}>
          {props.create}
        </button>
      </div>
      <ErrorBox error={list.error} title={`${props.title} cannot be listed`} />
      <ErrorBox error={del.error} title={`The ${props.noun} was not deleted`} />
      {list.loading && <Loading />}
      {list.data && (
        <Table
          label={props.title}
          rows={list.data.Data ?? []}
          rowKey={props.rowKey}
          empty={`No ${props.noun} yet.`}
          columns={[
            ...props.columns,
            {
              title: 'Actions',
              render: (r) => (
                <ActionButton
                  act={del}
                  confirm={props.confirmDelete(r)}
                  action={async () => {
                    await props.remove(r);
                    list.reload();
                  }}
                />
              ),
            },
          ]}
        />
      )}
      {open && (
        <FormPanel
          title={props.create}
          onClose={() => setOpen(false)}
          busy={act.busy}
          error={act.error}
          errorTitle={`The ${props.noun} was not created`}
          cancel
          onSubmit={() =>
            act.run(async () => {
              await props.add();
              setOpen(false);
              list.reload();
            })
          }
        >
          {props.children}
        </FormPanel>
      )}
    </div>
  );
}

function DeviceStatus({ id }: { id: string }) {
  const [client, setClient] = useState('');
  const act = useAction();
  const [res, setRes] = useState<any>();
  useReady('devices', true);
  return (
    <div>
      <h2>Device Status</h2>
      <QueryForm
        label="Query device status"
        busy={act.busy}
        error={act.error}
        errorTitle="The device cannot be queried"
        onSubmit={() =>
          act.run(async () => {
            setRes(undefined);
            setRes(await call('OnsMqtt', 'QuerySessionByClientId', { InstanceId: id, ClientId: client }));
          })
        }
      >
        <Field label="Client ID" value={client} onInput={setClient} required placeholder="GID_xxx@@@device" />
      </QueryForm>
      {res && (
        <div class="card" data-testid="device-status">
          <dl class="kv">
            <dt>Client ID</dt>
            <dd>{client}</dd>
            <dt>Status</dt>
            <dd>
              <span class={`badge ${res.OnlineStatus ? 'badge-ok' : ''}`}>{res.OnlineStatus ? 'Online' : 'Offline'}</span>
            </dd>
            {res.RemoteIp !== undefined && (
              <>
                <dt>Address</dt>
                <dd>{res.RemoteIp}</dd>
              </>
            )}
            {res.CleanSession !== undefined && (
              <>
                <dt>Clean session</dt>
                <dd>{String(res.CleanSession)}</dd>
              </>
            )}
            {Array.isArray(res.Subscriptions) && (
              <>
                <dt>Subscriptions</dt>
                <dd>{res.Subscriptions.map((s: any) => (typeof s === 'string' ? s : `${s.Topic ?? s.TopicFilter} (QoS ${s.Qos ?? s.QoS ?? '?'})`)).join(', ') || '—'}</dd>
              </>
            )}
          </dl>
        </div>
      )}
    </div>
  );
}

function Traces({ id }: { id: string }) {
  // "Trace it" after a test message opens the message trace of that message and runs it.
  const query = new URLSearchParams(location.search);
  const [kind, setKind] = useState(query.get('kind') || 'device');
  const [client, setClient] = useState('');
  const [msgId, setMsgId] = useState(query.get('msgId') || '');
  const [hours, setHours] = useState('1');
  const act = useAction();
  const [rows, setRows] = useState<any[] | undefined>();
  useReady('trace', true);
  const search = () =>
    act.run(async () => {
      const { begin, end } = lastHours(hours);
      const p = { InstanceId: id, BeginTime: begin, EndTime: end, PageSize: 100 };
      let r: any;
      if (kind === 'device') r = await call('OnsMqtt', 'QueryMqttTraceDevice', { ...p, ClientId: client });
      else if (kind === 'client') r = await call('OnsMqtt', 'QueryMqttTraceMessageOfClient', { ...p, ClientId: client });
      else if (kind === 'publish') r = await call('OnsMqtt', 'QueryMqttTraceMessagePublish', { InstanceId: id, BeginTime: begin, EndTime: end, MsgId: msgId });
      else r = await call('OnsMqtt', 'QueryMqttTraceMessageSubscribe', { ...p, MsgId: msgId, ClientId: client });
      setRows(r.DeviceInfoList ?? r.MessageOfClientList ?? r.MessageTraceLists ?? []);
    });
  const byMsg = kind === 'publish' || kind === 'subscribe';
  useEffect(() => {
    if (byMsg && msgId) search();
  }, []);
  return (
    <div>
      <h2>Trace</h2>
      <Notice>Device traces are always kept for a while; message traces only when the server enables them ([mq] message_trace = true, docs/configuration.md).</Notice>
      <QueryForm label="Trace query" onSubmit={search} busy={act.busy} error={act.error} errorTitle="The trace cannot be queried">
        <Select
          label="Query"
          value={kind}
          onChange={setKind}
          options={[
            { value: 'device', label: 'Device trace (by client ID)' },
            { value: 'client', label: 'Messages of a client' },
            { value: 'publish', label: 'Message trace: publish (by message ID)' },
            { value: 'subscribe', label: 'Message trace: delivery (by message ID)' },
          ]}
        />
        {byMsg && <Field label="Message ID" value={msgId} onInput={setMsgId} required />}
        {kind !== 'publish' && <Field label="Client ID" value={client} onInput={setClient} required={!byMsg} />}
        <TimeRange value={hours} onChange={setHours} hours={['1', '6', '24', '72']} />
      </QueryForm>
      {rows && (
        <Table
          label="Trace results"
          rows={rows}
          rowKey={(r) => `${r.Time}-${r.Action}-${r.MsgId ?? ''}-${r.ClientId}-${Math.random()}`}
          empty={byMsg ? 'No trace of this message in this time range. Message traces are kept only when the server enables them ([mq] message_trace = true).' : 'No trace in this time range.'}
          columns={[
            { title: 'Time', render: (r) => fmtTime(r.Time) },
            { title: 'Client ID', render: (r) => r.ClientId },
            { title: 'Action', render: (r) => r.Action },
            { title: 'Message ID / Channel', render: (r) => r.MsgId ?? r.ChannelId ?? '—' },
            { title: 'Topic / Address', render: (r) => r.Topic ?? r.RemoteIp ?? '—' },
            { title: 'Info', render: (r) => r.ActionInfo || '—' },
          ]}
        />
      )}
    </div>
  );
}

function SendMessage({ id }: { id: string }) {
  const [topic, setTopic] = useState('');
  const [payload, setPayload] = useState('');
  const act = useAction();
  const [sent, setSent] = useState<string[]>([]);
  useReady('send', true);
  return (
    <div>
      <h2>Send Test Message</h2>
      <Form
        label="Send test message"
        onSubmit={() =>
          act.run(async () => {
            setSent([]); // a new attempt: no earlier success box left under a new error
            const r = await call<{ MsgId: string }>('OnsMqtt', 'SendMessage', { InstanceId: id, MqttTopic: topic, Payload: payload });
            setSent((s) => [r.MsgId, ...s].slice(0, 10));
          })
        }
      >
        <Field label="Topic" value={topic} onInput={setTopic} required placeholder="Sensors/room1" hint="A topic of this instance, with optional subtopics." />
        <div class="field">
          <label for="payload">Message content</label>
          <textarea id="payload" rows={4} value={payload} onInput={(e) => setPayload((e.target as HTMLTextAreaElement).value)} />
        </div>
        <FormActions busy={act.busy} error={act.error} errorTitle="The message was not sent" submit="Send" />
      </Form>
      {sent.length > 0 && (
        <div class="alert alert-success" role="status" data-testid="sent">
          <strong>Message sent.</strong>
          <ul>
            {sent.map((m) => (
              <li>
                Message ID <code>{m}</code> ·{' '}
                <Link to={`/instances/${encodeURIComponent(id)}/trace?kind=publish&msgId=${encodeURIComponent(m)}`}>Trace it</Link>
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}

function SignatureCalc({ id }: { id: string }) {
  const [ak, setAk] = useState('');
  const [secret, setSecret] = useState('');
  const [client, setClient] = useState('');
  const [pw, setPw] = useState('');
  useReady('signature', true);
  useEffect(() => {
    let live = true;
    if (!secret || !client) setPw('');
    else mqttPassword(secret, client).then((p) => live && setPw(p));
    return () => {
      live = false;
    };
  }, [secret, client]);
  return (
    <div>
      <h2>Signature Calculator</h2>
      <Notice>
        Computed in your browser with HMAC-SHA1: the AccessKey secret is never sent to the server.
      </Notice>
      <div class="grid2">
        <form aria-label="Signature inputs" onSubmit={(e) => e.preventDefault()}>
          <Field label="AccessKey ID" value={ak} onInput={setAk} />
          <Field label="AccessKey secret" type="password" value={secret} onInput={setSecret} autoComplete="off" />
          <Field label="Client ID" value={client} onInput={setClient} placeholder="GID_Test@@@0001" hint="<Group ID>@@@<device ID>" />
        </form>
        <div class="card">
          <h3>Connection parameters (Signature mode)</h3>
          <dl class="kv">
            <dt>Client ID</dt>
            <dd>
              <code>{client || '—'}</code>
            </dd>
            <dt>Username</dt>
            <dd>
              <code data-testid="sig-username">{ak ? `Signature|${ak}|${id}` : '—'}</code>
            </dd>
            <dt>Password</dt>
            <dd>
              <output data-testid="sig-password" aria-live="polite">
                <code>{pw || '—'}</code>
              </output>
            </dd>
          </dl>
        </div>
      </div>
    </div>
  );
}
