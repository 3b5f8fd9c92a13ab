// Policies: system policies (read-only, high-risk flagged) and custom ones,
// and the custom-policy JSON editor validated as you type by the server's parser.
import { useEffect, useRef, useState } from 'preact/hooks';
import { PolicyCheck, call, unwrap, validatePolicy } from '../api';
import { ActionButton, Notice, ErrorBox, Field, Form, Link, LoadedTable, Loading, PageHead, Panel, SearchInput, Table, fmtTime, markReady, navigate, toApiError, useAction, useLoad, useReady } from '../ui';
import { PolicyTypeTabs, RiskBadge, isFlaggedHighRisk } from './grant';

// The policy the editor just created, for the list to confirm once.
let justCreated = '';

export function Policies() {
  // Just created (from the editor): say so, and show the custom list it is in.
  const [created] = useState(() => {
    const c = justCreated;
    justCreated = '';
    return c;
  });
  const [type, setType] = useState<'System' | 'Custom'>(created ? 'Custom' : 'System');
  const [q, setQ] = useState('');
  const list = useLoad(() => call('Ram', 'ListPolicies', { PolicyType: type, MaxItems: 1000 }), [type]);
  const [view, setView] = useState<{ name: string; type: string } | undefined>();
  const act = useAction();
  useReady('policies', !list.loading);
  const rows = unwrap<any>(list.data, 'Policies', 'Policy').filter(
    (p) => !q || p.PolicyName.toLowerCase().includes(q.toLowerCase()) || (p.Description || '').toLowerCase().includes(q.toLowerCase()),
  );
  return (
    <section>
      <PageHead title="Policies" sub="A policy is a set of permissions, granted to users, groups and roles.">
        <Link to="/ram/policies/new" class="btn btn-primary">
          Create Policy
        </Link>
      </PageHead>
      {created && <Notice kind="success">Policy {created} was created. Grant it with Add Permissions on a user, group or role.</Notice>}
      <div class="toolbar">
        <PolicyTypeTabs value={type} onChange={setType} />
        <SearchInput label="Search policies" placeholder="Search policies" idPrefix="q" value={q} onInput={setQ} />
      </div>
      <LoadedTable
        list={list}
        errorTitle="Policies cannot be listed"
        actionError={act.error}
        label={`${type} policies`}
        rows={() => rows}
        rowKey={(p) => p.PolicyName}
        empty="No policy."
        columns={[
          {
            title: 'Policy name',
            render: (p) => (
              <>
                <button type="button" class="btn-link" onClick={() => setView({ name: p.PolicyName, type: p.PolicyType })}>
                  {p.PolicyName}
                </button>
                <RiskBadge policy={p.PolicyName} />
              </>
            ),
          },
          { title: 'Description', render: (p) => p.Description || '—' },
          { title: 'Default version', render: (p) => p.DefaultVersion },
          { title: 'References', render: (p) => p.AttachmentCount ?? '—' },
          { title: 'Created', render: (p) => fmtTime(p.CreateDate) },
          ...(type === 'Custom'
            ? [
                {
                  title: 'Actions',
                  render: (p: any) => (
                    <ActionButton
                      act={act}
                      confirm={`Delete policy ${p.PolicyName}?`}
                      action={async () => {
                        await call('Ram', 'DeletePolicy', { PolicyName: p.PolicyName });
                        list.reload();
                      }}
                    />
                  ),
                },
              ]
            : []),
        ]}
      />
      {view && <PolicyView name={view.name} type={view.type} onClose={() => setView(undefined)} />}
    </section>
  );
}

function PolicyView(props: { name: string; type: string; onClose: () => void }) {
  const p = useLoad(() => call('Ram', 'GetPolicy', { PolicyName: props.name, PolicyType: props.type }), [props.name]);
  const custom = props.type === 'Custom';
  const doc = (p.data as any)?.DefaultPolicyVersion?.PolicyDocument;
  let pretty = doc;
  try {
    pretty = JSON.stringify(JSON.parse(doc), null, 2);
  } catch {
    /* keep as is */
  }
  return (
    <Panel title={props.name} onClose={props.onClose} wide>
      {p.loading && <Loading />}
      <ErrorBox error={p.error} />
      {isFlaggedHighRisk(props.name) && (
        <div class="alert alert-warn" role="note">
          High-risk policy: avoid attaching it unless necessary.
        </div>
      )}
      {doc && (
        <>
          <p class="muted">{(p.data as any)?.Policy?.Description}</p>
          <h3>Default version ({(p.data as any)?.DefaultPolicyVersion?.VersionId})</h3>
          <pre class="code" aria-label="Policy document">
            {pretty}
          </pre>
        </>
      )}
      {custom && <Versions name={props.name} onChange={p.reload} />}
    </Panel>
  );
}

function Versions(props: { name: string; onChange: () => void }) {
  const vs = useLoad(() => call('Ram', 'ListPolicyVersions', { PolicyName: props.name, PolicyType: 'Custom' }), [props.name]);
  const act = useAction();
  const rows = unwrap<any>(vs.data, 'PolicyVersions', 'PolicyVersion');
  const after = () => {
    vs.reload();
    props.onChange();
  };
  return (
    <>
      <div class="toolbar">
        <h3>Versions (at most 5)</h3>
        <Link to={`/ram/policies/new?policy=${encodeURIComponent(props.name)}`} class="btn">
          Create version
        </Link>
      </div>
      <ErrorBox error={vs.error || act.error} />
      <Table
        label="Policy versions"
        rows={rows}
        rowKey={(v) => v.VersionId}
        columns={[
          { title: 'Version', render: (v) => v.VersionId },
          { title: 'Default', render: (v) => (v.IsDefaultVersion ? <span class="badge badge-ok">Default</span> : '—') },
          { title: 'Created', render: (v) => fmtTime(v.CreateDate) },
          {
            title: 'Actions',
            render: (v) =>
              v.IsDefaultVersion ? (
                '—'
              ) : (
                <>
                  <button type="button" class="btn-link" onClick={() => act.run(async () => (await call('Ram', 'SetDefaultPolicyVersion', { PolicyName: props.name, VersionId: v.VersionId }), after()))}>
                    Set as default
                  </button>{' '}
                  <button type="button" class="btn-link danger" onClick={() => act.run(async () => (await call('Ram', 'DeletePolicyVersion', { PolicyName: props.name, VersionId: v.VersionId }), after()))}>
                    Delete
                  </button>
                </>
              ),
          },
        ]}
      />
    </>
  );
}

const TEMPLATE = `{
  "Version": "1",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "mq:MqttInstanceAccess",
      "Resource": "acs:mq:*:*:instance/*"
    }
  ]
}`;

export function PolicyEditor() {
  // ?policy=<name>: a new version of that custom policy, starting from its default document.
  const versionOf = new URLSearchParams(location.search).get('policy') || '';
  const [name, setName] = useState(versionOf);
  const [setDefault, setSetDefault] = useState(true);
  const [rotate, setRotate] = useState(false);
  const current = useLoad(
    () => (versionOf ? call('Ram', 'GetPolicy', { PolicyName: versionOf, PolicyType: 'Custom' }) : Promise.resolve(undefined)),
    [versionOf],
  );
  const [desc, setDesc] = useState('');
  const [doc, setDoc] = useState(TEMPLATE);
  const [check, setCheck] = useState<PolicyCheck | undefined>();
  const [checking, setChecking] = useState(false);
  const [checkErr, setCheckErr] = useState<string | undefined>();
  const act = useAction();
  const seq = useRef(0);
  const area = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    const d = (current.data as any)?.DefaultPolicyVersion?.PolicyDocument;
    if (d) {
      try {
        setDoc(JSON.stringify(JSON.parse(d), null, 2));
      } catch {
        setDoc(d);
      }
    }
    if (!current.loading) markReady('policy-editor');
  }, [current.data, current.loading]);
  // Validate as you type (debounced), with the server's own parser.
  useEffect(() => {
    const n = ++seq.current;
    setChecking(true);
    const t = setTimeout(() => {
      validatePolicy(doc).then(
        (r) => {
          if (n !== seq.current) return;
          setCheck(r);
          setCheckErr(undefined);
          setChecking(false);
        },
        (e) => {
          if (n !== seq.current) return;
          setCheck(undefined);
          setCheckErr(toApiError(e).text);
          setChecking(false);
        },
      );
    }, 250);
    return () => clearTimeout(t);
  }, [doc]);
  const goTo = (line?: number, column?: number) => {
    const a = area.current;
    if (!a || !line) return;
    const lines = doc.split('\n');
    let pos = 0;
    for (let i = 0; i < line - 1 && i < lines.length; i++) pos += lines[i].length + 1;
    pos += Math.max(0, (column ?? 1) - 1);
    a.focus();
    a.setSelectionRange(pos, pos);
  };
  const lineCount = doc.split('\n').length;
  return (
    <section>
      <p class="crumbs">
        <Link to="/ram/policies">Policies</Link> / <span>{versionOf ? `${versionOf}: new version` : 'Create Policy'}</span>
      </p>
      <PageHead
        title={versionOf ? `New version of ${versionOf}` : 'Create Policy'}
        sub="Write the policy document in JSON (RAM policy grammar)."
      />
      <ErrorBox error={current.error} title="The policy cannot be read" />
      <Form
        label={versionOf ? 'Create policy version' : 'Create Policy'}
        onSubmit={() =>
          act.run(async () => {
            if (versionOf)
              await call('Ram', 'CreatePolicyVersion', {
                PolicyName: versionOf,
                PolicyDocument: doc,
                SetAsDefault: setDefault,
                RotateStrategy: rotate ? 'DeleteOldestNonDefaultVersionWhenLimitExceeded' : 'None',
              });
            else await call('Ram', 'CreatePolicy', { PolicyName: name, Description: desc, PolicyDocument: doc });
            justCreated = name;
            navigate('/ram/policies');
          })
        }
      >
        {versionOf ? (
          <>
            <label class="check-line">
              <input type="checkbox" checked={setDefault} onChange={(e) => setSetDefault((e.target as HTMLInputElement).checked)} />
              Set as the default version (takes effect at once)
            </label>
            <label class="check-line">
              <input type="checkbox" checked={rotate} onChange={(e) => setRotate((e.target as HTMLInputElement).checked)} />
              At the 5-version limit, delete the oldest non-default version
            </label>
          </>
        ) : (
          <div class="grid2">
            <Field label="Policy name" value={name} onInput={setName} required />
            <Field label="Description" value={desc} onInput={setDesc} />
          </div>
        )}
        <div class="field">
          <label for="policy-doc">Policy document (JSON)</label>
          <div class="editor">
            <pre class="gutter" aria-hidden="true">
              {Array.from({ length: lineCount }, (_, i) => i + 1).join('\n')}
            </pre>
            <textarea
              id="policy-doc"
              ref={area}
              class="code"
              rows={Math.max(14, lineCount + 1)}
              spellcheck={false}
              value={doc}
              aria-describedby="policy-check"
              aria-invalid={check ? !check.valid : undefined}
              onInput={(e) => setDoc((e.target as HTMLTextAreaElement).value)}
              onKeyDown={(e) => {
                if (e.key === 'Tab' && !e.shiftKey && !e.ctrlKey && !e.altKey) {
                  // Two spaces, as in the cloud's editor; Escape then Tab leaves the field.
                  if ((e.target as HTMLTextAreaElement).dataset.escaped === '1') return;
                  e.preventDefault();
                  const a = e.target as HTMLTextAreaElement;
                  const s = a.selectionStart;
                  const v = a.value.slice(0, s) + '  ' + a.value.slice(a.selectionEnd);
                  setDoc(v);
                  requestAnimationFrame(() => a.setSelectionRange(s + 2, s + 2));
                }
                (e.target as HTMLTextAreaElement).dataset.escaped = e.key === 'Escape' ? '1' : '';
              }}
            />
          </div>
          <p class="hint">{doc.length} / 6144 characters. Tab indents; press Escape then Tab to leave the editor.</p>
          <div id="policy-check" aria-live="polite" data-testid="policy-check">
            {checking && <span class="muted">Checking…</span>}
            {!checking && checkErr && <span class="muted">Cannot check now: {checkErr}</span>}
            {!checking && check?.valid && !check.warnings?.length && <span class="ok-text">✓ The policy document is valid.</span>}
            {!checking && check?.valid && !!check.warnings?.length && (
              <div class="alert alert-warn" data-testid="policy-warnings">
                <strong>Valid, but check these actions:</strong>
                <ul class="errors warn">
                  {check.warnings.map((er) => (
                    <li>
                      <button type="button" class="btn-link" onClick={() => goTo(er.line, er.column)}>
                        {er.line ? `Line ${er.line}${er.column ? `, column ${er.column}` : ''}: ` : ''}
                        {er.message}
                      </button>
                    </li>
                  ))}
                </ul>
              </div>
            )}
            {!checking && check && !check.valid && (
              <ul class="errors">
                {(check.errors ?? []).map((er) => (
                  <li>
                    <button type="button" class="btn-link" onClick={() => goTo(er.line, er.column)}>
                      {er.line ? `Line ${er.line}${er.column ? `, column ${er.column}` : ''}: ` : ''}
                      {er.message}
                    </button>
                  </li>
                ))}
              </ul>
            )}
          </div>
        </div>
        <ErrorBox error={act.error} title="The policy was not created" />
        <div class="actions">
          <button type="submit" class="btn btn-primary" disabled={act.busy || (check ? !check.valid : false)}>
            OK
          </button>
          <Link to="/ram/policies" class="btn">
            Cancel
          </Link>
        </div>
      </Form>
    </section>
  );
}
