// The instance page's small metrics card (issue 21): this instance's live figures
// from DescribeMqttMetaData, the same counters /metrics exports per instance. In a
// cluster (issue 17) also the instance's clients and message rate on each node.
import { call } from '../api';
import { useLoad } from '../ui';

type NodeFigures = {
  Node: string;
  Status: string;
  ThisNode: boolean;
  OnlineClientCount: number;
  MessagesLastSecond: number;
};

type Figures = {
  InstanceId: string;
  OnlineClientCount: number;
  SubscriptionCount: number;
  MessagesIn: number;
  MessagesOut: number;
  Denied?: number;
  QueuedMessages?: number;
  Nodes?: NodeFigures[];
};

function ByNode({ nodes }: { nodes: NodeFigures[] }) {
  return (
    <div class="table-wrap">
      <table aria-label="Instance figures by node">
        <thead>
          <tr>
            <th scope="col">Node</th>
            <th scope="col">Status</th>
            <th scope="col">Clients</th>
            <th scope="col" title="Messages published on that node in its last full second">
              Messages/s
            </th>
          </tr>
        </thead>
        <tbody>
          {nodes.map((n) => (
            <tr>
              <td>
                {n.Node}
                {n.ThisNode && <span class="muted small"> (this node)</span>}
              </td>
              <td>{n.Status}</td>
              <td>{n.OnlineClientCount}</td>
              <td>{n.MessagesLastSecond}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function InstanceMetrics({ id }: { id: string }) {
  const meta = useLoad(() => call<{ Instances: Figures[] }>('OnsMqtt', 'DescribeMqttMetaData'), [id]);
  const f = meta.data?.Instances.find((i) => i.InstanceId === id);
  const rows: [string, number | string][] = f
    ? [
        ['Online clients', f.OnlineClientCount],
        ['Subscriptions', f.SubscriptionCount],
        ['Messages in', f.MessagesIn],
        ['Messages out', f.MessagesOut],
        ['Denied', f.Denied ?? 0],
        ['Queued messages', f.QueuedMessages ?? 0],
      ]
    : [];
  return (
    <div class="card">
      <h2>Metrics</h2>
      {meta.loading && !meta.data && <p class="muted">Loading…</p>}
      {meta.error && <p class="muted">Not shown: {meta.error.code} (needs mq:MqttMetaData).</p>}
      {f && (
        <dl class="kv" data-testid="instance-metrics">
          {rows.map(([k, v]) => (
            <>
              <dt>{k}</dt>
              <dd>{v}</dd>
            </>
          ))}
        </dl>
      )}
      {f?.Nodes && (
        <>
          <h3>By node</h3>
          <ByNode nodes={f.Nodes} />
        </>
      )}
      {meta.data && (
        <p class="hint">
          {f?.Nodes
            ? 'Online clients: every live node. Messages: this node, since it started; each node\'s on its own /metrics as sluice_instance_*.'
            : 'Since the server started; also on /metrics as sluice_instance_*.'}
        </p>
      )}
    </div>
  );
}
