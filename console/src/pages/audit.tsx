// Audit log: ActionTrail LookupEvents with time range, event name, user, type and read/write filters.
import { useEffect, useState } from 'preact/hooks';
import { call } from '../api';
import { Field, Loading, PageHead, QueryForm, Select, Table, TimeRange, fmtTime, lastHours, markReady, useAction } from '../ui';

interface Event {
  eventId: string;
  eventName: string;
  eventTime: string;
  eventSource: string;
  serviceName: string;
  sourceIpAddress: string;
  userIdentity: { type: string; userName: string; accessKeyId: string; accountId: string };
  errorCode?: string;
  errorMessage?: string;
  httpStatus?: number;
  requestParameters?: Record<string, unknown>;
}

export function Audit() {
  const [hours, setHours] = useState('24');
  const [eventName, setEventName] = useState('');
  const [user, setUser] = useState('');
  const [type, setType] = useState('');
  const [rw, setRw] = useState('');
  const [events, setEvents] = useState<Event[] | undefined>();
  const [next, setNext] = useState('');
  const [open, setOpen] = useState<string | undefined>();
  const act = useAction();
  const search = (token = '') =>
    act.run(async () => {
      const w = lastHours(hours);
      const start = new Date(w.begin);
      const end = new Date(w.end);
      const attrs: Record<string, string> = {};
      let n = 1;
      if (eventName.trim()) {
        attrs[`LookupAttribute.${n}.Key`] = 'EventName';
        attrs[`LookupAttribute.${n++}.Value`] = eventName.trim();
      }
      if (user.trim()) {
        attrs[`LookupAttribute.${n}.Key`] = 'UserName';
        attrs[`LookupAttribute.${n++}.Value`] = user.trim();
      }
      if (type) {
        attrs[`LookupAttribute.${n}.Key`] = 'EventType';
        attrs[`LookupAttribute.${n++}.Value`] = type;
      }
      if (rw) {
        attrs[`LookupAttribute.${n}.Key`] = 'EventRW';
        attrs[`LookupAttribute.${n++}.Value`] = rw;
      }
      const r = await call<{ Events: Event[]; NextToken: string }>('Actiontrail', 'LookupEvents', {
        StartTime: start.toISOString().replace(/\.\d+Z$/, 'Z'),
        EndTime: end.toISOString().replace(/\.\d+Z$/, 'Z'),
        MaxResults: 50,
        NextToken: token,
        ...attrs,
      });
      setEvents((prev) => (token && prev ? [...prev, ...r.Events] : r.Events));
      setNext(r.NextToken || '');
    });
  useEffect(() => {
    search();
  }, []);
  useEffect(() => {
    if (events || act.error) markReady('audit');
  }, [events, act.error]);
  return (
    <section>
      <PageHead title="Audit log" sub="Every management call, sign-in and denial, newest first (ActionTrail event history)." />
      <QueryForm label="Filter events" onSubmit={() => search()} busy={act.busy} error={act.error} errorTitle="Events cannot be looked up">
        <TimeRange value={hours} onChange={setHours} hours={['1', '24', '168', '720']} />
        <Field label="Event name" value={eventName} onInput={setEventName} placeholder="e.g. CreateInstance" />
        <Field label="User name" value={user} onInput={setUser} placeholder="e.g. alice" />
        <Select
          label="Event type"
          value={type}
          onChange={setType}
          options={[
            { value: '', label: 'All' },
            { value: 'ApiCall', label: 'API calls (console and SDK)' },
            { value: 'ConsoleSignin', label: 'Console sign-in and sign-out' },
            { value: 'ConsoleAction', label: 'Console actions (password, CSRF)' },
            { value: 'MqttAuth', label: 'MQTT client authentication' },
          ]}
        />
        <Select
          label="Read/write"
          value={rw}
          onChange={setRw}
          options={[
            { value: '', label: 'All' },
            { value: 'Read', label: 'Read' },
            { value: 'Write', label: 'Write' },
          ]}
        />
      </QueryForm>
      {!events && !act.error && <Loading />}
      {events && (
        <Table
          label="Events"
          rows={events}
          rowKey={(e) => e.eventId}
          empty="No event matches."
          columns={[
            { title: 'Time', render: (e) => fmtTime(e.eventTime) },
            { title: 'Event', render: (e) => <span data-event={e.eventName}>{e.eventName}</span> },
            { title: 'Type', render: (e) => (e as any).eventType || '—' },
            { title: 'Read/write', render: (e) => (e as any).eventRW || '—' },
            { title: 'Service', render: (e) => e.serviceName || e.eventSource },
            { title: 'User', render: (e) => `${e.userIdentity?.userName || e.userIdentity?.type || '—'}` },
            { title: 'Source IP', render: (e) => e.sourceIpAddress },
            {
              title: 'Result',
              render: (e) =>
                e.errorCode ? (
                  <span class="badge badge-risk" title={e.errorMessage}>
                    {e.errorCode}
                  </span>
                ) : (
                  <span class="badge badge-ok">Success</span>
                ),
            },
            {
              title: 'Details',
              render: (e) => (
                <button type="button" class="btn-link" aria-expanded={open === e.eventId} onClick={() => setOpen(open === e.eventId ? undefined : e.eventId)}>
                  {open === e.eventId ? 'Hide' : 'View'}
                </button>
              ),
            },
          ]}
        />
      )}
      {open && events && (
        <pre class="code" aria-label="Event details">
          {JSON.stringify(events.find((e) => e.eventId === open), null, 2)}
        </pre>
      )}
      {next && (
        <button type="button" class="btn" onClick={() => search(next)} disabled={act.busy}>
          Load more
        </button>
      )}
    </section>
  );
}
