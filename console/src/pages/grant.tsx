// The Grant Permission panel ("Add Permissions"): resource scope (Account or a
// resource group), one or many principals, one or many policies (System /
// Custom tabs, searchable), and a confirmation for high-risk policies.
import { useMemo, useState } from 'preact/hooks';
import { ApiError, call, unwrap } from '../api';
import { CloseActions, ErrorBox, Notice, Panel, SearchInput, Select, toApiError, useLoad } from '../ui';

export type PrincipalType = 'IMSUser' | 'IMSGroup' | 'ServiceRole';
export interface PrincipalRef {
  type: PrincipalType;
  name: string;
}
export const principalKey = (p: PrincipalRef) => `${p.type}:${p.name}`;
const typeLabel: Record<PrincipalType, string> = { IMSUser: 'RAM user', IMSGroup: 'User group', ServiceRole: 'RAM role' };

export function isHighRisk(policy: string): boolean {
  return policy === 'AdministratorAccess' || policy === 'AliyunRAMFullAccess' || /FullAccess$/.test(policy);
}
// The two the cloud itself flags everywhere they are offered.
export const isFlaggedHighRisk = (policy: string) => policy === 'AdministratorAccess' || policy === 'AliyunRAMFullAccess';

// One label for a policy's risk, the same on every page: "High risk" for the
// two the cloud flags, "Full access" for the other *FullAccess policies.
export function RiskBadge({ policy }: { policy: string }) {
  if (isFlaggedHighRisk(policy))
    return (
      <span class="badge badge-risk" title="High-risk policy: avoid attaching it unless necessary">
        High risk
      </span>
    );
  if (isHighRisk(policy))
    return (
      <span class="badge badge-warn" title="Full access to a service">
        Full access
      </span>
    );
  return null;
}

// The System / Custom tabs over policy lists.
export function PolicyTypeTabs(props: { value: 'System' | 'Custom'; onChange: (t: 'System' | 'Custom') => void }) {
  return (
    <div class="tabs small-tabs" role="tablist" aria-label="Policy type">
      {(['System', 'Custom'] as const).map((t) => (
        <button type="button" role="tab" class="tab" aria-selected={props.value === t} onClick={() => props.onChange(t)}>
          {t} Policy
        </button>
      ))}
    </div>
  );
}

interface Policy {
  PolicyName: string;
  PolicyType: 'System' | 'Custom';
  Description: string;
}

export function GrantPanel(props: { initial: PrincipalRef[]; onClose: () => void; onGranted?: () => void }) {
  const [scope, setScope] = useState<'Account' | 'ResourceGroup'>('Account');
  const [rg, setRg] = useState('');
  const [principals, setPrincipals] = useState<PrincipalRef[]>(props.initial);
  const [addType, setAddType] = useState<PrincipalType>('IMSUser');
  const [addName, setAddName] = useState('');
  const [tab, setTab] = useState<'System' | 'Custom'>('System');
  const [q, setQ] = useState('');
  const [chosen, setChosen] = useState<Policy[]>([]);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [results, setResults] = useState<{ what: string; error?: ApiError }[] | undefined>();

  const rgs = useLoad(() => call('ResourceManager', 'ListResourceGroups', { PageSize: 100 }));
  const sys = useLoad(() => call('Ram', 'ListPolicies', { PolicyType: 'System', MaxItems: 1000 }));
  const cus = useLoad(() => call('Ram', 'ListPolicies', { PolicyType: 'Custom', MaxItems: 1000 }));
  const users = useLoad(() => call('Ram', 'ListUsers', { MaxItems: 1000 }));
  const groups = useLoad(() => call('Ram', 'ListGroups', { MaxItems: 1000 }));
  const roles = useLoad(() => call('Ram', 'ListRoles', { MaxItems: 1000 }));

  const policies = unwrap<Policy>((tab === 'System' ? sys : cus).data, 'Policies', 'Policy');
  const shown = useMemo(() => {
    const n = q.trim().toLowerCase();
    return policies.filter((p) => !n || p.PolicyName.toLowerCase().includes(n) || (p.Description || '').toLowerCase().includes(n));
  }, [policies, q]);
  const candidates: string[] =
    addType === 'IMSUser'
      ? unwrap<any>(users.data, 'Users', 'User').map((u) => u.UserName)
      : addType === 'IMSGroup'
        ? unwrap<any>(groups.data, 'Groups', 'Group').map((g) => g.GroupName)
        : unwrap<any>(roles.data, 'Roles', 'Role').map((r) => r.RoleName);
  const rgList = unwrap<any>(rgs.data, 'ResourceGroups', 'ResourceGroup');
  const risky = chosen.filter((p) => isHighRisk(p.PolicyName));
  const isChosen = (p: Policy) => chosen.some((c) => c.PolicyName === p.PolicyName && c.PolicyType === p.PolicyType);
  const toggle = (p: Policy) => setChosen((c) => (isChosen(p) ? c.filter((x) => !(x.PolicyName === p.PolicyName && x.PolicyType === p.PolicyType)) : [...c, p]));
  const canGrant = principals.length > 0 && chosen.length > 0 && (scope === 'Account' || rg) && !busy;

  const grant = async () => {
    setBusy(true);
    const out: { what: string; error?: ApiError }[] = [];
    for (const pr of principals)
      for (const p of chosen) {
        const what = `${p.PolicyName} → ${typeLabel[pr.type]} ${pr.name}${scope === 'ResourceGroup' ? ` (resource group ${rg})` : ' (account)'}`;
        try {
          if (scope === 'Account') {
            const kind = pr.type === 'IMSUser' ? 'User' : pr.type === 'IMSGroup' ? 'Group' : 'Role';
            await call('Ram', `AttachPolicyTo${kind}`, { PolicyType: p.PolicyType, PolicyName: p.PolicyName, [`${kind}Name`]: pr.name });
          } else {
            await call('ResourceManager', 'AttachPolicy', {
              ResourceGroupId: rg,
              PolicyType: p.PolicyType,
              PolicyName: p.PolicyName,
              PrincipalType: pr.type,
              PrincipalName: pr.name,
            });
          }
          out.push({ what });
        } catch (e) {
          out.push({ what, error: toApiError(e) });
        }
      }
    setBusy(false);
    setConfirming(false);
    setResults(out);
    if (out.some((r) => !r.error)) props.onGranted?.();
  };

  if (results)
    return (
      <Panel title="Grant Permission" onClose={props.onClose} wide>
        <h3>{results.every((r) => !r.error) ? 'Permissions granted' : 'Some permissions were not granted'}</h3>
        <ul class="results" data-testid="grant-results">
          {results.map((r) => (
            <li class={r.error ? 'fail' : 'ok'}>
              {r.error ? '✗' : '✓'} {r.what}
              {r.error && <ErrorBox error={r.error} />}
            </li>
          ))}
        </ul>
        <CloseActions onClose={props.onClose} />
      </Panel>
    );

  return (
    <Panel title="Grant Permission" onClose={props.onClose} wide>
      <fieldset class="field">
        <legend>Resource Scope</legend>
        <label class="check-line">
          <input type="radio" name="scope" checked={scope === 'Account'} onChange={() => setScope('Account')} />
          Account <span class="muted small">— the authorization applies to the current account.</span>
        </label>
        <label class="check-line">
          <input type="radio" name="scope" checked={scope === 'ResourceGroup'} onChange={() => setScope('ResourceGroup')} />
          ResourceGroup <span class="muted small">— the authorization applies to a specific resource group.</span>
        </label>
        {scope === 'ResourceGroup' &&
          (rgs.error ? (
            <ErrorBox error={rgs.error} title="Resource groups cannot be listed" />
          ) : (
            <Select
              label="Resource group"
              value={rg}
              onChange={setRg}
              options={[{ value: '', label: 'Select a resource group' }, ...rgList.map((g) => ({ value: g.Id, label: `${g.DisplayName || g.Name} (${g.Id})` }))]}
            />
          ))}
      </fieldset>

      <fieldset class="field">
        <legend>Principal</legend>
        <ul class="chips" aria-label="Selected principals">
          {principals.length === 0 && <li class="muted">No principal selected.</li>}
          {principals.map((p) => (
            <li class="chip" data-principal={p.name}>
              {typeLabel[p.type]}: {p.name}
              <button type="button" class="btn-link" aria-label={`Remove ${p.name}`} onClick={() => setPrincipals((ps) => ps.filter((x) => principalKey(x) !== principalKey(p)))}>
                ✕
              </button>
            </li>
          ))}
        </ul>
        <div class="inline-form">
          <Select
            label="Principal type"
            value={addType}
            onChange={(v) => {
              setAddType(v as PrincipalType);
              setAddName('');
            }}
            options={[
              { value: 'IMSUser', label: 'RAM user' },
              { value: 'IMSGroup', label: 'User group' },
              { value: 'ServiceRole', label: 'RAM role' },
            ]}
          />
          <Select
            label="Add principal"
            value={addName}
            onChange={setAddName}
            options={[{ value: '', label: 'Select…' }, ...candidates.filter((n) => !principals.some((p) => p.type === addType && p.name === n)).map((n) => ({ value: n, label: n }))]}
          />
          <button
            type="button"
            class="btn"
            disabled={!addName}
            onClick={() => {
              setPrincipals((ps) => [...ps, { type: addType, name: addName }]);
              setAddName('');
            }}
          >
            Add
          </button>
        </div>
      </fieldset>

      <fieldset class="field">
        <legend>Policy</legend>
        <PolicyTypeTabs value={tab} onChange={setTab} />
        <SearchInput label="Search policies" placeholder="Search by policy name or description" value={q} onInput={setQ} />
        <ErrorBox error={(tab === 'System' ? sys : cus).error} title="Policies cannot be listed" />
        <div role="tabpanel" aria-label={`${tab} policies`}>
        <ul class="policy-pick">
          {shown.length === 0 && <li class="muted">No policy matches.</li>}
          {shown.map((p) => (
            <li>
              <label class="check-line">
                <input type="checkbox" checked={isChosen(p)} onChange={() => toggle(p)} data-policy={p.PolicyName} />
                <span>
                  <strong>{p.PolicyName}</strong>
                  <RiskBadge policy={p.PolicyName} />
                  <span class="muted small block">{p.Description}</span>
                </span>
              </label>
            </li>
          ))}
        </ul>
        </div>
        <p class="muted small" aria-live="polite">
          Selected ({chosen.length}): {chosen.map((c) => c.PolicyName).join(', ') || 'none'}
        </p>
      </fieldset>

      {confirming && (
        <div class="alert alert-warn" role="alertdialog" aria-label="High-risk policies">
          <strong>High-risk policies selected</strong>
          <p>
            {risky.map((r) => r.PolicyName).join(', ')} {risky.length > 1 ? 'grant' : 'grants'} broad permissions. Avoid attaching
            {risky.length > 1 ? ' these policies' : ' this policy'} unless necessary. Grant anyway?
          </p>
          <div class="actions">
            <button type="button" class="btn btn-danger" onClick={grant} disabled={busy}>
              Confirm and grant
            </button>
            <button type="button" class="btn" onClick={() => setConfirming(false)}>
              Back
            </button>
          </div>
        </div>
      )}
      {!confirming && (
        <div class="actions sticky-actions">
          <button type="button" class="btn btn-primary" disabled={!canGrant} onClick={() => (risky.length ? setConfirming(true) : grant())}>
            {busy ? 'Granting…' : 'Grant permissions'}
          </button>
          <button type="button" class="btn" onClick={props.onClose}>
            Cancel
          </button>
        </div>
      )}
      {principals.length > 0 && chosen.length > 0 && (
        <Notice>
          {principals.length * chosen.length} grant{principals.length * chosen.length > 1 ? 's' : ''} will be made.
        </Notice>
      )}
    </Panel>
  );
}
