// An instance's CA and device certificates (issue 18): the registration code,
// registering a CA with its verification certificate, activating, deactivating
// and deleting CAs and device certificates, each device's status and last
// connection. The same OnsMqtt operations as the API (and the same RAM checks).
import { useState } from 'preact/hooks';
import { call } from '../api';
import {
  ActionButton,
  ErrorBox,
  Field,
  FormPanel,
  Loading,
  Notice,
  Select,
  Table,
  fmtTime,
  useAction,
  useId,
  useLoad,
  useReady,
} from '../ui';

interface CaVO {
  Sn: string;
  CaName: string;
  Status: string;
  ValidBegin: string;
  ValidEnd: string;
  RegistrationCode: string;
}
interface DeviceVO {
  DeviceSn: string;
  CaSn: string;
  DeviceName: string;
  Status: string;
  ValidEnd: string;
  LastConnectionTime: string;
  LastClientId: string;
}

const ms = (v: string) => (Number(v) > 0 ? fmtTime(Number(v)) : '—');
const status = (s: string) => (s === '1' ? 'Active' : 'Inactive');

function PemField(props: { label: string; value: string; onInput: (v: string) => void; hint: string }) {
  const id = useId('pem');
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <textarea
        id={id}
        rows={8}
        required
        spellcheck={false}
        value={props.value}
        aria-describedby={`${id}-hint`}
        placeholder="-----BEGIN CERTIFICATE-----"
        onInput={(e) => props.onInput((e.target as HTMLTextAreaElement).value)}
      />
      <p id={`${id}-hint`} class="hint">
        {props.hint}
      </p>
    </div>
  );
}

// The instance's TlsAuthMode (one-way | mutual), a Sluice parameter of UpdateInstance.
function TlsAuthMode({ id }: { id: string }) {
  const list = useLoad(() => call<{ Instances: { InstanceId: string; Settings?: Record<string, unknown> }[] }>('OnsMqtt', 'ListInstances'), [id]);
  const current = String(list.data?.Instances?.find((i) => i.InstanceId === id)?.Settings?.TlsAuthMode ?? '');
  const [mode, setMode] = useState('');
  const save = useAction();
  const shown = mode || current;
  if (list.loading) return <Loading />;
  if (list.error) return <ErrorBox error={list.error} />;
  return (
    <div class="card" data-testid="tls-auth-mode">
      <p>
        TLS authentication: <strong data-testid="tls-auth-mode-current">{current === 'mutual' ? 'mutual' : 'one-way'}</strong>
      </p>
      <Select
        label="TLS authentication mode"
        value={shown || 'one-way'}
        onChange={setMode}
        options={[
          { value: 'one-way', label: 'one-way: the server proves itself; clients use their usual credentials' },
          { value: 'mutual', label: 'mutual: every client also presents a device certificate from a CA below' },
        ]}
      />
      <ErrorBox error={save.error} />
      <div class="actions">
        <button
          type="button"
          class="btn"
          disabled={save.busy || !mode || mode === current}
          onClick={() =>
            save.run(async () => {
              await call('OnsMqtt', 'UpdateInstance', { InstanceId: id, TlsAuthMode: mode });
              setMode('');
              list.reload();
            })
          }
        >
          Save TLS mode
        </button>
      </div>
    </div>
  );
}

export function Certificates({ id }: { id: string }) {
  const p = { MqttInstanceId: id };
  const code = useLoad(() => call<{ RegisterCode: string }>('OnsMqtt', 'GetRegisterCode', p), [id]);
  const cas = useLoad(() => call('OnsMqtt', 'ListCaCertificate', { ...p, PageNo: 1, PageSize: 100 }), [id]);
  const devs = useLoad(() => call('OnsMqtt', 'ListDeviceCertificate', { ...p, PageNo: 1, PageSize: 100 }), [id]);
  const act = useAction();
  const reg = useAction();
  const [adding, setAdding] = useState(false);
  const [form, setForm] = useState({ name: '', ca: '', verification: '' });
  useReady('certificates', !cas.loading && !devs.loading);
  const reload = () => {
    cas.reload();
    devs.reload();
  };
  const run = (action: string, params: Record<string, string>) => async () => {
    await call('OnsMqtt', action, { ...p, ...params });
    reload();
  };
  const caRows: CaVO[] = cas.data?.Data?.CaCertificateVOS ?? [];
  const devRows: DeviceVO[] = devs.data?.Data?.DeviceCertificateVOS ?? [];
  return (
    <div>
      <h2>CA certificates</h2>
      <p class="muted">
        Devices of an instance whose TLS authentication is <strong>mutual</strong> must present a certificate issued by
        an active CA registered here, in addition to their usual credentials. Their certificates are registered on their
        first valid connection.
      </p>
      <TlsAuthMode id={id} />
      {code.loading ? (
        <Loading />
      ) : code.error ? (
        <ErrorBox error={code.error} />
      ) : (
        <p>
          Registration code: <code data-testid="register-code">{code.data?.RegisterCode}</code>{' '}
          <span class="muted small">(the CN of the verification certificate you sign with the CA's key)</span>
        </p>
      )}
      <div class="actions">
        <button type="button" class="btn btn-primary" onClick={() => setAdding(true)}>
          Register CA Certificate
        </button>
      </div>
      <ErrorBox error={act.error} />
      {cas.loading ? (
        <Loading />
      ) : cas.error ? (
        <ErrorBox error={cas.error} />
      ) : (
        <Table<CaVO>
          label="CA certificates"
          rows={caRows}
          rowKey={(r) => r.Sn}
          empty="No CA certificate is registered on this instance."
          columns={[
            { title: 'Name', render: (r) => r.CaName },
            { title: 'Serial number', render: (r) => <code>{r.Sn}</code> },
            { title: 'Status', render: (r) => status(r.Status) },
            { title: 'Valid until', render: (r) => ms(r.ValidEnd) },
            {
              title: 'Actions',
              render: (r) => (
                <span class="row-actions">
                  {r.Status === '1' ? (
                    <ActionButton act={act} class="btn-link" action={run('InactivateCaCertificate', { Sn: r.Sn })}
                      confirm={`Deactivate CA ${r.CaName}? Its devices are disconnected and refused.`}>
                      Deactivate
                    </ActionButton>
                  ) : (
                    <ActionButton act={act} class="btn-link" action={run('ActiveCaCertificate', { Sn: r.Sn })}>
                      Activate
                    </ActionButton>
                  )}{' '}
                  <ActionButton act={act} action={run('DeleteCaCertificate', { Sn: r.Sn })}
                    confirm={`Delete CA ${r.CaName} and every device certificate under it?`} />
                </span>
              ),
            },
          ]}
        />
      )}
      <h2>Device certificates</h2>
      {devs.loading ? (
        <Loading />
      ) : devs.error ? (
        <ErrorBox error={devs.error} />
      ) : (
        <Table<DeviceVO>
          label="Device certificates"
          rows={devRows}
          rowKey={(r) => r.CaSn + '/' + r.DeviceSn}
          empty="No device has connected with a certificate yet."
          columns={[
            { title: 'Device (CN)', render: (r) => r.DeviceName || '—' },
            { title: 'Serial number', render: (r) => <code>{r.DeviceSn}</code> },
            { title: 'CA', render: (r) => <code>{r.CaSn}</code> },
            { title: 'Status', render: (r) => status(r.Status) },
            { title: 'Last connection', render: (r) => `${ms(r.LastConnectionTime)}${r.LastClientId ? ' · ' + r.LastClientId : ''}` },
            { title: 'Valid until', render: (r) => ms(r.ValidEnd) },
            {
              title: 'Actions',
              render: (r) => {
                const k = { CaSn: r.CaSn, DeviceSn: r.DeviceSn };
                return (
                  <span class="row-actions">
                    {r.Status === '1' ? (
                      <ActionButton act={act} class="btn-link" action={run('InactivateDeviceCertificate', k)}
                        confirm={`Deactivate ${r.DeviceName || r.DeviceSn}? The device is disconnected and refused.`}>
                        Deactivate
                      </ActionButton>
                    ) : (
                      <ActionButton act={act} class="btn-link" action={run('ActiveDeviceCertificate', k)}>
                        Activate
                      </ActionButton>
                    )}{' '}
                    <ActionButton act={act} action={run('DeleteDeviceCertificate', k)}
                      confirm={`Delete the registration of ${r.DeviceName || r.DeviceSn}?`} />
                  </span>
                );
              },
            },
          ]}
        />
      )}
      {adding && (
        <FormPanel
          title="Register CA Certificate"
          wide
          cancel
          busy={reg.busy}
          error={reg.error}
          errorTitle="The CA certificate was not registered"
          submit="Register"
          onClose={() => setAdding(false)}
          onSubmit={async () => {
            const r = await reg.run(() =>
              call('OnsMqtt', 'RegisterCaCertificate', {
                ...p,
                CaName: form.name,
                CaContent: form.ca,
                VerificationContent: form.verification,
              }),
            );
            if (r) {
              setAdding(false);
              setForm({ name: '', ca: '', verification: '' });
              reload();
            }
          }}
        >
          <Notice>
            Only public certificates: never paste a private key. Make the verification certificate with the
            registration code <code>{code.data?.RegisterCode}</code> as its CN and sign it with the CA's key, e.g.{' '}
            <code>
              openssl req -new -key verify.key -subj "/CN={code.data?.RegisterCode}" | openssl x509 -req -CA ca.pem
              -CAkey ca.key -set_serial 1 -days 1 -out verify.pem
            </code>
          </Notice>
          <Field label="CA name" value={form.name} required onInput={(v) => setForm({ ...form, name: v })} />
          <PemField label="CA certificate (PEM)" value={form.ca} hint="The CA that issues your device certificates."
            onInput={(v) => setForm({ ...form, ca: v })} />
          <PemField label="Verification certificate (PEM)" value={form.verification}
            hint="CN = the registration code above, signed by the CA's key: proves you hold it."
            onInput={(v) => setForm({ ...form, verification: v })} />
        </FormPanel>
      )}
    </div>
  );
}
