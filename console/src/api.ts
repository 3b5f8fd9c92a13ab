// The console's JSON API (docs/console-api.md): cookie session + CSRF token,
// and /console/api/call, which answers exactly what the cloud RPC API answers.

export type Product = 'OnsMqtt' | 'Ons' | 'Ram' | 'ResourceManager' | 'Sts' | 'Actiontrail';

export interface Principal {
  kind: 'Root' | 'User' | string;
  accountId: string;
  name: string;
  displayName?: string;
  arn: string;
}
export interface Session {
  principal: Principal;
  csrfToken: string;
  mustChangePassword: boolean;
  // The login profile's MFABindRequired and no device bound: enrolment first.
  mustBindMfa?: boolean;
  expiresAt?: string | number;
}

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public authAction?: string,
    public authResource?: string,
    public requestId?: string,
  ) {
    super(message);
  }
  get denied(): boolean {
    return this.status === 403 || this.code === 'NoPermission';
  }
  // The server is up but its store is not (PostgreSQL lost): nothing was changed, try again.
  get unavailable(): boolean {
    return this.status === 503 || this.code === 'ServiceUnavailable';
  }
  // The sentence shown to people: which action on which resource is missing.
  get text(): string {
    if (this.authAction && this.authResource) return `You need ${this.authAction} on ${this.authResource}`;
    const m = /needs (\S+) on (\S+)/.exec(this.message);
    if (this.code === 'NoPermission' && m) return `You need ${m[1]} on ${m[2]}`;
    return this.message || this.code || `Request failed (HTTP ${this.status})`;
  }
}

let csrf = '';
let onSignedOut: (why: ApiError) => void = () => {};
export function setCsrf(t: string) {
  csrf = t;
}
// Called when the server says the session is gone: expired or signed out
// (NotSignedIn), or ended because the user's password or console access
// changed (SessionEnded, whose message the sign-in page shows).
export function onSessionLost(f: (why: ApiError) => void) {
  onSignedOut = f;
}

async function post<T>(path: string, body: unknown, opts: { csrf?: boolean } = {}): Promise<T> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (opts.csrf !== false && csrf) headers['X-CSRF-Token'] = csrf;
  let res: Response;
  try {
    res = await fetch(`/console/api/${path}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(body ?? {}),
      credentials: 'same-origin',
    });
  } catch (e) {
    throw new ApiError(0, 'NetworkError', 'The server cannot be reached. Check that Sluice is running.');
  }
  return parse<T>(res, path);
}

async function parse<T>(res: Response, path: string): Promise<T> {
  const text = await res.text();
  let data: any = {};
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    data = { Code: 'BadResponse', Message: text.slice(0, 200) };
  }
  if (!res.ok) {
    const d = data.AccessDeniedDetail || {};
    const err = new ApiError(res.status, data.Code || data.code || 'Error', data.Message || data.message || '',
      d.AuthAction, d.AuthResource, data.RequestId);
    if (res.status === 401 && path !== 'login' && path !== 'session') onSignedOut(err);
    throw err;
  }
  return data as T;
}

export async function getSession(): Promise<Session | null> {
  const res = await fetch('/console/api/session', { credentials: 'same-origin' });
  if (res.status === 401) {
    const d = await res.json().catch(() => ({}));
    if (d.Code === 'SessionEnded') onSignedOut(new ApiError(401, d.Code, d.Message || '', undefined, undefined, d.RequestId));
    return null;
  }
  const s = await parse<Session>(res, 'session');
  setCsrf(s.csrfToken);
  return s;
}
// mfaCode: the second step of a RAM user with an MFA device (the first answers MFARequired).
export async function login(loginName: string, password: string, mfaCode?: string): Promise<Session> {
  const body: Record<string, string> = { login: loginName, password };
  if (mfaCode) body.mfaCode = mfaCode;
  const s = await post<Session>('login', body, { csrf: false });
  setCsrf(s.csrfToken);
  return s;
}
export async function logout(): Promise<void> {
  try {
    await post('logout', {});
  } finally {
    csrf = '';
  }
}
export function changePassword(oldPassword: string, newPassword: string) {
  return post<Record<string, unknown>>('password', { oldPassword, newPassword });
}
export interface PolicyCheck {
  valid: boolean;
  errors?: { message: string; line?: number; column?: number }[];
  // Valid, but naming actions the server does not know for a known service (typos).
  warnings?: { message: string; line?: number; column?: number }[];
}
export function validatePolicy(document: string) {
  return post<PolicyCheck>('policy/validate', { document });
}

export type Params = Record<string, string | number | boolean | string[] | undefined | null>;

// Lists are flattened the RPC way: Name.1, Name.2, ...
export function flatten(params: Params): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) v.forEach((x, i) => (out[`${k}.${i + 1}`] = String(x)));
    else out[k] = String(v);
  }
  return out;
}

// opts.background: a read the console makes on its own (polling), which the
// server answers alike but does not audit as a user's action.
export function call<T = any>(product: Product, action: string, params: Params = {}, opts: { background?: boolean } = {}): Promise<T> {
  return post<T>('call', { product, action, params: flatten(params), ...(opts.background ? { background: true } : {}) });
}

// The cloud wraps lists as {"Users":{"User":[...]}}.
export function unwrap<T = any>(obj: any, outer: string, inner: string): T[] {
  const o = obj?.[outer];
  if (Array.isArray(o)) return o;
  const i = o?.[inner];
  return Array.isArray(i) ? i : [];
}
