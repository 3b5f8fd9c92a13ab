// Small shared pieces: routing, async data, error boxes, tables, dialogs.
import { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api';

// ---- routing (history API under /console/) ----
export const BASE = '/console';
type Listener = () => void;
const listeners = new Set<Listener>();
export function currentPath(): string {
  const p = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : location.pathname;
  return p === '' ? '/' : p;
}
export function navigate(to: string, replace = false) {
  const url = BASE + to;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  listeners.forEach((l) => l());
  window.scrollTo(0, 0);
}
window.addEventListener('popstate', () => listeners.forEach((l) => l()));
export function useRoute(): { path: string; query: URLSearchParams } {
  const [, force] = useState(0);
  useEffect(() => {
    const l = () => force((n) => n + 1);
    listeners.add(l);
    return () => listeners.delete(l);
  }, []);
  return { path: currentPath(), query: new URLSearchParams(location.search) };
}
export function Link(props: { to: string; children: ComponentChildren; class?: string; 'aria-current'?: any }) {
  return (
    <a
      href={BASE + props.to}
      class={props.class}
      aria-current={props['aria-current']}
      onClick={(e) => {
        if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        navigate(props.to);
      }}
    >
      {props.children}
    </a>
  );
}

// Marks the page as interactive (its main content is visible): the browser
// tests read this mark to check the 1 s budget.
export function markReady(page: string) {
  const main = document.querySelector('main');
  if (main && main.getAttribute('data-ready') !== page) {
    main.setAttribute('data-ready', page);
    performance.mark(`sluice-ready:${page}`);
  }
}

// ---- async data ----
export interface Loaded<T> {
  data?: T;
  error?: ApiError;
  loading: boolean;
  reload: () => void;
}
export function useLoad<T>(fn: () => Promise<T>, deps: unknown[] = []): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: ApiError; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    fn().then(
      (data) => live && setState({ data, loading: false }),
      (error) => live && setState({ error: toApiError(error), loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  return new ApiError(0, 'ClientError', e instanceof Error ? e.message : String(e));
}

// Runs an action from a button; keeps its error and busy state.
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const run = useCallback(async <T,>(f: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(undefined);
    try {
      return await f();
    } catch (e) {
      setError(toApiError(e));
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run, setError };
}

// ---- display ----
export function ErrorBox({ error, title }: { error?: ApiError; title?: string }) {
  if (!error) return null;
  return (
    <div class={`alert ${error.denied ? 'alert-denied' : 'alert-error'}`} role="alert" data-code={error.code}>
      <strong>{title ?? (error.denied ? 'Access denied' : 'Request failed')}</strong>
      <p class="alert-text">{error.text}</p>
      {error.denied && error.text !== error.message && error.message && (
        <details>
          <summary>Details</summary>
          <p class="muted">{error.message}</p>
        </details>
      )}
      <p class="muted small">
        Code: {error.code}
        {error.requestId ? ` · RequestId: ${error.requestId}` : ''}
      </p>
    </div>
  );
}
export function Notice({ children, kind = 'info' }: { children: ComponentChildren; kind?: 'info' | 'success' | 'warn' }) {
  return (
    <div class={`alert alert-${kind}`} role="status">
      {children}
    </div>
  );
}
export function Loading() {
  return (
    <p class="muted" aria-live="polite">
      Loading…
    </p>
  );
}

export interface Column<T> {
  title: string;
  render: (row: T) => ComponentChildren;
}
export function Table<T>(props: {
  label: string;
  rows: T[];
  columns: Column<T>[];
  empty?: ComponentChildren;
  rowKey: (r: T) => string;
  select?: { selected: Set<string>; onChange: (s: Set<string>) => void };
}) {
  const { rows, columns, select } = props;
  const allOn = select && rows.length > 0 && rows.every((r) => select.selected.has(props.rowKey(r)));
  return (
    <div class="table-wrap">
      <table aria-label={props.label}>
        <thead>
          <tr>
            {select && (
              <th class="check">
                <input
                  type="checkbox"
                  aria-label="Select all"
                  checked={!!allOn}
                  onChange={(e) =>
                    select.onChange((e.target as HTMLInputElement).checked ? new Set(rows.map(props.rowKey)) : new Set())
                  }
                />
              </th>
            )}
            {columns.map((c) => (
              <th scope="col">{c.title}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 && (
            <tr>
              <td colSpan={columns.length + (select ? 1 : 0)} class="empty">
                {props.empty ?? 'No data'}
              </td>
            </tr>
          )}
          {rows.map((r) => {
            const k = props.rowKey(r);
            return (
              <tr key={k} data-row={k}>
                {select && (
                  <td class="check">
                    <input
                      type="checkbox"
                      aria-label={`Select ${k}`}
                      checked={select.selected.has(k)}
                      onChange={(e) => {
                        const s = new Set(select.selected);
                        if ((e.target as HTMLInputElement).checked) s.add(k);
                        else s.delete(k);
                        select.onChange(s);
                      }}
                    />
                  </td>
                )}
                {columns.map((c) => (
                  <td>{c.render(r)}</td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

let fieldSeq = 0;
export function useId(prefix = 'f'): string {
  const r = useRef<string | undefined>(undefined);
  if (!r.current) r.current = `${prefix}-${++fieldSeq}`;
  return r.current;
}
export function Field(props: {
  label: string;
  value: string;
  onInput: (v: string) => void;
  type?: string;
  required?: boolean;
  placeholder?: string;
  hint?: string;
  autoComplete?: string;
  name?: string;
  autoFocus?: boolean;
}) {
  const id = useId();
  return (
    <div class="field">
      <div class="label-line">
        <label for={id}>{props.label}</label>
        {props.required && (
          <span class="req" aria-hidden="true">
            *
          </span>
        )}
      </div>
      <input
        id={id}
        name={props.name}
        type={(props.type ?? 'text') as any}
        value={props.value}
        required={props.required}
        placeholder={props.placeholder}
        autoComplete={props.autoComplete ?? 'off'}
        autoFocus={props.autoFocus}
        aria-describedby={props.hint ? `${id}-hint` : undefined}
        onInput={(e) => props.onInput((e.target as HTMLInputElement).value)}
      />
      {props.hint && (
        <p id={`${id}-hint`} class="hint">
          {props.hint}
        </p>
      )}
    </div>
  );
}
export function Select(props: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  options: { value: string; label: string }[];
  hint?: string;
}) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <select id={id} value={props.value} onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}>
        {props.options.map((o) => (
          <option value={o.value}>{o.label}</option>
        ))}
      </select>
      {props.hint && <p class="hint">{props.hint}</p>}
    </div>
  );
}

// A side panel (the cloud console's drawers) that traps nothing but Escape closes it.
export function Panel(props: { title: string; onClose: () => void; children: ComponentChildren; wide?: boolean }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const prev = document.activeElement as HTMLElement | null;
    const first = ref.current?.querySelector<HTMLElement>('input, select, textarea, button:not(.panel-close)');
    first?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') props.onClose();
    };
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('keydown', onKey);
      prev?.focus?.();
    };
  }, []);
  return (
    <div class="overlay" onClick={(e) => e.target === e.currentTarget && props.onClose()}>
      <div class={`panel ${props.wide ? 'panel-wide' : ''}`} role="dialog" aria-modal="true" aria-label={props.title} ref={ref}>
        <header class="panel-head">
          <h2>{props.title}</h2>
          <button type="button" class="panel-close btn-link" aria-label="Close" onClick={props.onClose}>
            ✕
          </button>
        </header>
        <div class="panel-body">{props.children}</div>
      </div>
    </div>
  );
}

export function Form(props: { onSubmit: () => void; children: ComponentChildren; label?: string; class?: string }) {
  return (
    <form
      class={props.class}
      aria-label={props.label}
      onSubmit={(e: Event) => {
        e.preventDefault();
        props.onSubmit();
      }}
    >
      {props.children}
    </form>
  );
}

export function fmtTime(v: unknown): string {
  if (v === undefined || v === null || v === '') return '—';
  const d = typeof v === 'number' ? new Date(v) : new Date(String(v));
  if (isNaN(d.getTime())) return String(v);
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

export function PageHead(props: { title: string; children?: ComponentChildren; sub?: ComponentChildren }) {
  return (
    <div class="page-head">
      <div>
        <h1>{props.title}</h1>
        {props.sub && <p class="muted">{props.sub}</p>}
      </div>
      <div class="page-actions">{props.children}</div>
    </div>
  );
}
