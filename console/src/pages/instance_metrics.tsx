// The instance page's small metrics card (issue 21): this instance's live figures
// from DescribeMqttMetaData, the same counters /metrics exports per instance.
import { call } from '../api';
import { useLoad } from '../ui';

type Figures = {
  InstanceId: string;
  OnlineClientCount: number;
  SubscriptionCount: number;
  MessagesIn: number;
  MessagesOut: number;
  Denied?: number;
  QueuedMessages?: number;
};

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
      {meta.data && <p class="hint">Since the server started; also on /metrics as sluice_instance_*.</p>}
    </div>
  );
}
