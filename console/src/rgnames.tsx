// Resource groups shown by name, not id: one shared lookup (ListResourceGroups)
// that every page reads, fetched again after anything moves or changes so no
// label goes stale.
import { useEffect, useState } from 'preact/hooks';
import { call, unwrap } from './api';

export interface ResourceGroup {
  Id: string;
  Name: string;
  DisplayName: string;
  IsDefault?: boolean;
}

let cache: Promise<ResourceGroup[]> | undefined;
const listeners = new Set<() => void>();

function load(): Promise<ResourceGroup[]> {
  cache ??= call('ResourceManager', 'ListResourceGroups', { PageSize: 100 }).then(
    (r) => unwrap<ResourceGroup>(r, 'ResourceGroups', 'ResourceGroup'),
    () => [], // may not list them: ids are shown instead
  );
  return cache;
}

// After a create, rename, delete or move: every label reads the list again.
export function refreshResourceGroups() {
  cache = undefined;
  listeners.forEach((f) => f());
}

export function useResourceGroups(): ResourceGroup[] {
  const [groups, setGroups] = useState<ResourceGroup[]>([]);
  useEffect(() => {
    let live = true;
    const get = () => load().then((g) => live && setGroups(g));
    listeners.add(get);
    get();
    return () => {
      live = false;
      listeners.delete(get);
    };
  }, []);
  return groups;
}

// "Display name" with the id beneath it in small print; the id alone when unknown.
export function RgName({ id }: { id?: string }) {
  const groups = useResourceGroups();
  if (!id) return <>—</>;
  const g = groups.find((x) => x.Id === id);
  if (!g) return <code>{id}</code>;
  return (
    <span data-rg={id}>
      {g.DisplayName || g.Name}
      {g.IsDefault && <span class="badge">Default</span>} <span class="muted small">{id}</span>
    </span>
  );
}
