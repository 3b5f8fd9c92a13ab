// Small shared pieces: routing, async data, error boxes, tables, dialogs.
import { ComponentChildren } from 'preact';
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
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
      <strong>
        {error.unavailable ? 'Service unavailable' : title ?? (error.denied ? 'Access denied' : 'Request failed')}
      </strong>
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
export interface TableProps<T> {
  label: string;
  rows: T[];
  columns: Column<T>[];
  empty?: ComponentChildren;
  rowKey: (r: T) => string;
  select?: { selected: Set<string>; onChange: (s: Set<string>) => void };
}
export function Table<T>(props: TableProps<T>) {
  const { rows, columns, select } = props;
  const allOn = select && rows.length > 0 && rows.every((r) => select.selected.has(props.rowKey(r)));
  return (
    // Focusable so a keyboard user can scroll a table wider than the screen (WCAG 2.1.1).
    <div class="table-wrap" tabIndex={0} role="region" aria-label={`${props.label} (scrolls sideways on a narrow screen)`}>
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

// A list page's table over a useLoad(): the load's error (titled) and an action's error,
// Loading until the first data, then the table of rows(data).
export function LoadedTable<D, T>(
  props: { list: Loaded<D>; errorTitle: string; actionError?: ApiError; rows: (data: D) => T[] } & Omit<TableProps<T>, 'rows'>,
) {
  const { list, errorTitle, actionError, rows, ...table } = props;
  return (
    <>
      <ErrorBox error={list.error} title={errorTitle} />
      <ErrorBox error={actionError} />
      {list.loading && !list.data && <Loading />}
      {list.data && <Table {...table} rows={rows(list.data)} />}
    </>
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
  minLength?: number;
  maxLength?: number;
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
        minLength={props.minLength}
        maxLength={props.maxLength}
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

// What Tab can reach inside an element.
const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

// Focus back where a dialog was opened from. The opener may have been
// re-rendered away meanwhile (a row replaced after a grant): then the element
// with the same id, else the same accessible text, else the page's main.
function returnFocus(prev: HTMLElement | null) {
  if (prev && prev.isConnected) return prev.focus();
  const byId = prev?.id ? document.getElementById(prev.id) : null;
  const label = prev?.getAttribute('aria-label') || prev?.textContent?.trim();
  const same =
    byId ||
    Array.from(document.querySelectorAll<HTMLElement>(prev?.tagName || 'button')).find(
      (e) => (e.getAttribute('aria-label') || e.textContent?.trim()) === label,
    );
  (same || document.getElementById('main'))?.focus();
}

// A side panel (the cloud console's drawers), modal: Tab and Shift+Tab stay
// inside it, Escape closes it, and focus goes back where it came from (WCAG 2.4.3).
export function Panel(props: { title: string; onClose: () => void; children: ComponentChildren; wide?: boolean }) {
  const ref = useRef<HTMLDivElement>(null);
  // A layout effect, not an effect: it runs as the panel enters the DOM, before
  // the browser paints it or handles another key. A deferred effect left a gap on
  // a busy machine in which Escape was ignored and a Tab moved focus into the
  // panel before the opener was remembered, so focus came back to the wrong place.
  useLayoutEffect(() => {
    const prev = document.activeElement as HTMLElement | null;
    const first = ref.current?.querySelector<HTMLElement>('input, select, textarea, button:not(.panel-close)');
    (first || ref.current?.querySelector<HTMLElement>(FOCUSABLE))?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') props.onClose();
      if (e.key !== 'Tab' || !ref.current) return;
      const all = Array.from(ref.current.querySelectorAll<HTMLElement>(FOCUSABLE)).filter((el) => el.offsetParent !== null);
      if (!all.length) return;
      const [head, tail] = [all[0], all[all.length - 1]];
      const inside = ref.current.contains(document.activeElement);
      if (e.shiftKey && (document.activeElement === head || !inside)) {
        e.preventDefault();
        tail.focus();
      } else if (!e.shiftKey && (document.activeElement === tail || !inside)) {
        e.preventDefault();
        head.focus();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('keydown', onKey);
      setTimeout(() => returnFocus(prev), 0);
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
  if (d.getTime() <= 0) return '—'; // no date known (the epoch), never "1970-01-01"
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

// Marks the page ready (markReady) once `ready` turns true, typically `!list.loading`.
export function useReady(page: string, ready: boolean) {
  useEffect(() => {
    if (ready) markReady(page);
  }, [ready]);
}

// A button that runs `action` through a useAction() runner, asking `confirm` first when given.
// By default a red "Delete" link, as in every table's Actions column.
type Runner = { run: (f: () => Promise<unknown>) => Promise<unknown> };
export function ActionButton(props: {
  act: Runner;
  action: () => Promise<unknown>;
  confirm?: string;
  class?: string;
  disabled?: boolean;
  children?: ComponentChildren;
}) {
  return (
    <button
      type="button"
      class={props.class ?? 'btn-link danger'}
      disabled={props.disabled}
      onClick={() => {
        if (props.confirm === undefined || confirm(props.confirm)) props.act.run(props.action);
      }}
    >
      {props.children ?? 'Delete'}
    </button>
  );
}

// The end of a form: its error, then the primary submit button (and Cancel when onCancel is given).
export function FormActions(props: {
  busy: boolean;
  error?: ApiError;
  errorTitle?: string;
  submit?: ComponentChildren;
  disabled?: boolean;
  onCancel?: () => void;
}) {
  return (
    <>
      <ErrorBox error={props.error} title={props.errorTitle} />
      <div class="actions">
        <button type="submit" class="btn btn-primary" disabled={props.busy || !!props.disabled}>
          {props.submit ?? 'OK'}
        </button>
        {props.onCancel && (
          <button type="button" class="btn" onClick={props.onCancel}>
            Cancel
          </button>
        )}
      </div>
    </>
  );
}

// A side panel holding one form of the same name (Create …, Edit …), ending in FormActions.
export function FormPanel(props: {
  title: string;
  onClose: () => void;
  onSubmit: () => void;
  busy: boolean;
  error?: ApiError;
  errorTitle?: string;
  submit?: ComponentChildren;
  cancel?: boolean;
  wide?: boolean;
  children: ComponentChildren;
  after?: ComponentChildren;
}) {
  return (
    <Panel title={props.title} onClose={props.onClose} wide={props.wide}>
      <Form label={props.title} onSubmit={props.onSubmit}>
        {props.children}
        <FormActions busy={props.busy} error={props.error} errorTitle={props.errorTitle} submit={props.submit} onCancel={props.cancel ? props.onClose : undefined} />
      </Form>
      {props.after}
    </Panel>
  );
}

// A panel's single Close button (after a result is shown).
export function CloseActions({ onClose }: { onClose: () => void }) {
  return (
    <div class="actions">
      <button type="button" class="btn btn-primary" onClick={onClose}>
        Close
      </button>
    </div>
  );
}

// An inline query form ending in Search, with the query's error below it.
export function QueryForm(props: { label: string; onSubmit: () => void; busy: boolean; error?: ApiError; errorTitle: string; children: ComponentChildren }) {
  return (
    <>
      <Form class="inline-form" label={props.label} onSubmit={props.onSubmit}>
        {props.children}
        <button type="submit" class="btn btn-primary" disabled={props.busy}>
          Search
        </button>
      </Form>
      <ErrorBox error={props.error} title={props.errorTitle} />
    </>
  );
}

// "Time range" over the last N hours; `hours` are the choices offered.
const RANGE_LABELS: Record<string, string> = {
  '1': 'Last hour',
  '6': 'Last 6 hours',
  '24': 'Last 24 hours',
  '72': 'Last 3 days',
  '168': 'Last 7 days',
  '720': 'Last 30 days',
};
export function TimeRange(props: { value: string; onChange: (v: string) => void; hours: (keyof typeof RANGE_LABELS)[] }) {
  return <Select label="Time range" value={props.value} onChange={props.onChange} options={props.hours.map((h) => ({ value: h, label: RANGE_LABELS[h] }))} />;
}
// The window [begin, end] in ms of the last `hours` hours, ending a second from now.
export function lastHours(hours: string): { begin: number; end: number } {
  const end = Date.now() + 1000;
  return { begin: end - Number(hours) * 3600_000, end };
}

// A search box with a screen-reader-only label.
export function SearchInput(props: { label: string; value: string; onInput: (v: string) => void; placeholder: string; idPrefix?: string }) {
  const id = useId(props.idPrefix ?? 'search');
  return (
    <>
      <label for={id} class="sr-only">
        {props.label}
      </label>
      <input id={id} type="search" placeholder={props.placeholder} value={props.value} onInput={(e) => props.onInput((e.target as HTMLInputElement).value)} />
    </>
  );
}

// Copies a value to the clipboard and says so (role=status, read by screen readers).
export function CopyButton(props: { value: string; label: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <>
      <button
        type="button"
        class="btn-link copy"
        aria-label={props.label}
        onClick={async () => {
          try {
            await navigator.clipboard.writeText(props.value);
          } catch {
            // No clipboard permission (an http page): select-and-copy by hand still works.
          }
          setCopied(true);
          setTimeout(() => setCopied(false), 2000);
        }}
      >
        Copy
      </button>
      <span role="status" class="muted small">
        {copied ? ' Copied' : ''}
      </span>
    </>
  );
}

// Offers rows as a CSV file download (the cloud's "Download CSV File" of a new AccessKey).
export function downloadCsv(filename: string, rows: string[][]) {
  const cell = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const blob = new Blob([rows.map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n'], { type: 'text/csv' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}
