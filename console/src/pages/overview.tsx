// Overview: activation ("Activate for Free" → terms → "Activate Now"), then
// metadata across all instances (mq:MqttMetaData) and live charts.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, Session, call } from '../api';
import { LineChart } from '../chart';
import { ErrorBox, Link, Loading, Notice, PageHead, markReady, toApiError, useAction } from '../ui';

interface Meta {
  InstanceCount: number;
  TopicCount: number;
  GroupCount: number;
  OnlineClientCount: number;
  SubscriptionCount: number;
  MessagesIn: number;
  MessagesOut: number;
  Timestamp: number;
  Instances?: {
    InstanceId: string;
    InstanceName: string;
    OnlineClientCount: number;
    SubscriptionCount: number;
    MessagesIn: number;
    MessagesOut: number;
  }[];
}

const CAP = 60; // samples kept
const PERIOD_MS = 2000; // every call is audited: poll no faster than the charts need
const NOT_ACTIVATED = 'Forbidden.ServiceNotActivated';

export function Overview({ session }: { session: Session }) {
  const [meta, setMeta] = useState<Meta | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const [tick, setTick] = useState(0);
  const hist = useRef({ conn: [] as number[], subs: [] as number[], inRate: [] as number[], outRate: [] as number[], prev: undefined as Meta | undefined });
  const [activating, setActivating] = useState(false);

  useEffect(() => {
    let live = true;
    let timer = 0;
    const poll = async () => {
      // A hidden tab does not poll (and so adds nothing to the audit log).
      if (document.hidden && hist.current.prev) {
        timer = window.setTimeout(poll, PERIOD_MS);
        return;
      }
      try {
        // The first read is the person opening the page; the refreshes after it are the console's own.
        const m = await call<Meta>('OnsMqtt', 'DescribeMqttMetaData', {}, { background: !!hist.current.prev });
        if (!live) return;
        const h = hist.current;
        const push = (a: number[], v: number) => {
          a.push(v);
          if (a.length > CAP) a.shift();
        };
        push(h.conn, m.OnlineClientCount ?? 0);
        push(h.subs, m.SubscriptionCount ?? 0);
        if (h.prev) {
          const dt = Math.max(0.001, ((m.Timestamp ?? Date.now()) - (h.prev.Timestamp ?? 0)) / 1000);
          push(h.inRate, Math.max(0, (m.MessagesIn - h.prev.MessagesIn) / dt));
          push(h.outRate, Math.max(0, (m.MessagesOut - h.prev.MessagesOut) / dt));
        }
        h.prev = m;
        setMeta(m);
        setError(undefined);
        timer = window.setTimeout(poll, PERIOD_MS);
      } catch (e) {
        if (!live) return;
        setError(toApiError(e));
        // Keep polling only for transient failures; a denial or missing activation waits for the user.
        const err = toApiError(e);
        if (!err.denied && err.code !== NOT_ACTIVATED && err.status !== 401) timer = window.setTimeout(poll, 3000);
      }
    };
    poll();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [tick]);

  useEffect(() => {
    if (meta || error) markReady('overview');
  }, [meta, error]);

  const notActivated = error?.code === NOT_ACTIVATED;
  return (
    <section>
      <PageHead title="Overview" sub="ApsaraMQ for MQTT — metadata across all your instances" />
      {!meta && !error && <Loading />}
      {notActivated &&
        (activating ? (
          <Activation
            onDone={() => {
              setActivating(false);
              setError(undefined);
              setTick((t) => t + 1);
            }}
            onCancel={() => setActivating(false)}
            isRoot={session.principal.kind === 'Root'}
          />
        ) : (
          <div class="card activate" data-testid="not-activated">
            <h2>ApsaraMQ for MQTT is not activated</h2>
            <p>
              Before you can use ApsaraMQ for MQTT to send and receive messages, you must activate the service. Activation
              is free.
            </p>
            <button type="button" class="btn btn-primary" onClick={() => setActivating(true)}>
              Activate for Free
            </button>
          </div>
        ))}
      {error && !notActivated && <ErrorBox error={error} title="The Overview cannot be shown" />}
      {error && error.denied && (
        <p class="muted">
          The Overview page displays metadata for all your instances: a RAM user needs <code>mq:MqttMetaData</code> to open
          it. To also view the instance list, grant <code>mq:ListMqttInstance</code> and <code>mq:MqttInstanceAccess</code>.
        </p>
      )}
      {meta && <Dashboard meta={meta} h={hist.current} />}
    </section>
  );
}

function Activation(props: { onDone: () => void; onCancel: () => void; isRoot: boolean }) {
  const [agree, setAgree] = useState(false);
  const act = useAction();
  return (
    <div class="card activate" role="region" aria-label="Service activation">
      <h2>Activate ApsaraMQ for MQTT</h2>
      <dl class="kv">
        <dt>Product</dt>
        <dd>ApsaraMQ for MQTT (part of ApsaraMQ for RocketMQ)</dd>
        <dt>Billing</dt>
        <dd>Free</dd>
      </dl>
      <Notice>
        ApsaraMQ for MQTT is provided as part of ApsaraMQ for RocketMQ. Activating ApsaraMQ for RocketMQ automatically
        activates ApsaraMQ for MQTT. Activation is free.
      </Notice>
      {!props.isRoot && (
        <p class="muted">Only the root account, or a RAM user allowed the activation action, may activate the service.</p>
      )}
      <label class="check-line">
        <input type="checkbox" checked={agree} onChange={(e) => setAgree((e.target as HTMLInputElement).checked)} />I have
        read and agree to the ApsaraMQ for MQTT Terms of Service.
      </label>
      <ErrorBox error={act.error} title="Activation failed" />
      <div class="actions">
        <button
          type="button"
          class="btn btn-primary"
          disabled={!agree || act.busy}
          onClick={() =>
            act.run(async () => {
              await call('Ons', 'OpenOnsService');
              props.onDone();
            })
          }
        >
          Activate Now
        </button>
        <button type="button" class="btn" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </div>
  );
}

function Stat({ label, value }: { label: string; value: number | string }) {
  return (
    <div class="stat" data-stat={label}>
      <div class="stat-value">{value}</div>
      <div class="stat-label">{label}</div>
    </div>
  );
}

// A chart of two series over the polled window: the first orange, the second blue.
function PairChart(props: { title: string; unit?: string; names: [string, string]; points: [number[], number[]] }) {
  const colors = ['#ff6a00', '#0064c8'];
  return (
    <LineChart
      title={props.title}
      unit={props.unit}
      capacity={CAP}
      spanSeconds={(CAP * PERIOD_MS) / 1000}
      series={props.names.map((name, i) => ({ name, color: colors[i], points: props.points[i] }))}
    />
  );
}

function Dashboard({ meta, h }: { meta: Meta; h: { conn: number[]; subs: number[]; inRate: number[]; outRate: number[] } }) {
  return (
    <div data-testid="overview-metadata">
      <div class="stats" aria-label="Resource counts">
        <Stat label="Instances" value={meta.InstanceCount} />
        <Stat label="Topics" value={meta.TopicCount} />
        <Stat label="Group IDs" value={meta.GroupCount} />
        <Stat label="Online clients" value={meta.OnlineClientCount} />
        <Stat label="Subscriptions" value={meta.SubscriptionCount} />
        <Stat label="Messages in" value={meta.MessagesIn} />
        <Stat label="Messages out" value={meta.MessagesOut} />
      </div>
      <div class="charts">
        <PairChart title="Connections" names={['Online clients', 'Subscriptions']} points={[h.conn, h.subs]} />
        <PairChart title="Messages per second" unit="/s" names={['In', 'Out']} points={[h.inRate, h.outRate]} />
      </div>
      <h2>Instances</h2>
      <div class="table-wrap">
        <table aria-label="Instance metrics">
          <thead>
            <tr>
              <th scope="col">Instance</th>
              <th scope="col">Online clients</th>
              <th scope="col">Subscriptions</th>
              <th scope="col">Messages in</th>
              <th scope="col">Messages out</th>
            </tr>
          </thead>
          <tbody>
            {(meta.Instances ?? []).length === 0 && (
              <tr>
                <td colSpan={5} class="empty">
                  No instance yet. <Link to="/instances">Create one</Link>.
                </td>
              </tr>
            )}
            {(meta.Instances ?? []).map((i) => (
              <tr>
                <td>
                  <Link to={`/instances/${encodeURIComponent(i.InstanceId)}`}>{i.InstanceName || i.InstanceId}</Link>
                  <div class="muted small">{i.InstanceId}</div>
                </td>
                <td>{i.OnlineClientCount}</td>
                <td>{i.SubscriptionCount}</td>
                <td>{i.MessagesIn}</td>
                <td>{i.MessagesOut}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
