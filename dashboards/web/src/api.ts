// The ops server's REST API, same origin. The session lives in an HttpOnly cookie; the CSRF token
// is kept in memory only, and no password is ever kept after the login request.
import { t } from './i18n.ts';
import type { Alert, InventoryAnswer, LatestValue, ListedDevice, PageUser } from './page.ts';

const REQUEST_TIMEOUT_MS = 10_000;

/** A failed request: `status` 0 when the server could not be reached at all. */
export class ApiError extends Error {
  status: number;
  code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

let csrfToken: string | undefined = '';

// The answers are the server's types, taken on trust: the page checks what it draws, not every field.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function request<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const controller = new window.AbortController();
  const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      signal: controller.signal,
    });
  } catch (err) {
    const timedOut = (err as { name?: string } | null)?.name === 'AbortError';
    throw new ApiError(0, 'WF_NETWORK', timedOut ? t('api.timeout', { s: REQUEST_TIMEOUT_MS / 1000 }) : t('api.unreachable'));
  } finally {
    clearTimeout(timer);
  }
  if (res.status === 204) return undefined as T;
  let data;
  try {
    data = await res.json();
  } catch {
    data = undefined;
  }
  if (!res.ok) {
    const e = data && data.error;
    throw new ApiError(res.status, (e && e.code) || `HTTP_${res.status}`, (e && e.message) || `${res.status} ${res.statusText}`);
  }
  if (data === undefined) throw new ApiError(res.status, 'WF_BAD_ANSWER', t('api.notJson', { path }));
  return data;
}

/** The calls the floor plan makes; each resolves to the parsed JSON or rejects with an ApiError. */
export const api = {
  async login(username: string, password: string): Promise<{ csrfToken: string; user: PageUser }> {
    const r = await request<{ csrfToken: string; user: PageUser }>('POST', '/auth/login', { username, password });
    csrfToken = r.csrfToken;
    return r;
  },
  /** The logged-in user, and the server clock offset (server minus browser, ms, half the round trip allowed for). */
  async me(): Promise<{ user: PageUser; clockOffsetMs: number }> {
    const sent = Date.now();
    const r = await request<{ user: PageUser; csrfToken?: string; serverTime: number }>('GET', '/auth/me');
    const received = Date.now();
    csrfToken = r.csrfToken;
    // Whole milliseconds: the API takes integer times (a fractional `to` would be refused as a bad request).
    return { user: r.user, clockOffsetMs: Math.round(r.serverTime - (sent + received) / 2) };
  },
  async logout(): Promise<void> {
    try {
      await request('POST', '/auth/logout');
    } finally {
      csrfToken = '';
    }
  },
  inventory: () => request<InventoryAnswer>('GET', '/inventory'),
  latest: () => request<LatestValue[]>('GET', '/metrics/latest'),
  alerts: () => request<Alert[]>('GET', '/alerts'),
  devices: () => request<ListedDevice[]>('GET', '/devices'),
};

/** True when an error means the route does not exist on this server (an older or partial build). */
export const missingRoute = (err: unknown): boolean => err instanceof ApiError && (err.status === 405 || (err.status === 404 && /route|action/i.test(err.message)));

/** Any other call: GET with a query, or a state change with a JSON body. */
export const http = {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  get: <T = any>(path: string, query?: Record<string, string>) => request<T>('GET', query ? `${path}?${new window.URLSearchParams(query)}` : path),
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  post: <T = any>(path: string, body: unknown = {}) => request<T>('POST', path, body),
  del: (path: string) => request<unknown>('DELETE', path),
  /** PUT or PATCH with a JSON body (the admin view's changes to users and MQTT accounts). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  send: <T = any>(method: 'PUT' | 'PATCH', path: string, body: unknown = {}) => request<T>(method, path, body),
};

/**
 * InfluxQL over the product's `/query` (InfluxDB v1 API), read with the session cookie: the answer's
 * `results`, or an ApiError with InfluxDB's own message.
 */
/** One statement's answer from /query: its series (name, columns, rows of values), or InfluxDB's error. */
export interface InfluxResult {
  statement_id?: number;
  series?: { name: string; tags?: Record<string, string>; columns: string[]; values: (number | string | null)[][] }[];
  error?: string;
}

export async function influxql(q: string): Promise<InfluxResult[]> {
  const controller = new window.AbortController();
  const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
  let res: Response;
  try {
    res = await fetch(`/query?${new window.URLSearchParams({ db: 'watchfloor', epoch: 'ms', q })}`, { credentials: 'same-origin', cache: 'no-store', signal: controller.signal });
  } catch (err) {
    const timedOut = (err as { name?: string } | null)?.name === 'AbortError';
    throw new ApiError(0, 'WF_NETWORK', timedOut ? t('api.timeout', { s: REQUEST_TIMEOUT_MS / 1000 }) : t('api.unreachable'));
  } finally {
    clearTimeout(timer);
  }
  const data = await res.json().catch(() => undefined);
  if (!res.ok || !data || !Array.isArray(data.results)) throw new ApiError(res.status, `HTTP_${res.status}`, (data && data.error) || `${res.status} ${res.statusText}`);
  return data.results;
}
