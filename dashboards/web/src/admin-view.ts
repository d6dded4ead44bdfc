// The Administration view (issue 18, admins only): users (local ones added, given another role,
// disabled or removed; directory users as they signed in), API tokens (created and shown once,
// revoked), MQTT accounts, the audit log (filtered, its chain verified) and the security events, so
// no one edits files to run the product. Every change goes through the API routes, which audit it;
// after each one the audit log is read again, so the admin sees the entry it made.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, http } from './api.ts';
import { named, t } from './i18n.ts';
import { formatStamp } from './soc-common.ts';
import { html, useStore } from './ui.ts';
import type { ViewProps } from './page.ts';
import type { AuditEntry, PublicUser } from '../../../ops-server/index.ts';
import type { SecurityEvent } from '../../../core/index.ts';

const USER_ROLES = ['admin', 'noc', 'soc', 'viewer'] as const;
const TOKEN_ROLES = [...USER_ROLES, 'writer'] as const;
const MQTT_ROLES = ['device', 'collector', 'admin'] as const;
const DAY_MS = 86_400_000;
// The forms' layout, kept here (style.css is shared): fields side by side, each label above its input.
const FORM = 'display:flex;flex-wrap:wrap;gap:0.5rem 1rem;align-items:flex-end;margin:0.5rem 0 1.2rem';
const FIELD = 'display:flex;flex-direction:column;gap:0.2rem;font-size:0.85rem';

interface Token { id: string; name: string; role: string; createdAt: number; createdBy: string; revokedAt?: number; lastUsedAt?: number }
interface MqttAccount { username: string; role: string; devices?: '*' | string[]; kinds?: string[] }
interface Verdict { ok: boolean; entries: number; head: string; anchors?: number; error?: { line: number; reason: string } }

const explain = (e: unknown): string => (e instanceof ApiError ? e.message : (e as Error).message);
const value = (e: Event): string => (e.currentTarget as HTMLInputElement).value;
const when = (ms: number | undefined): string => (ms === undefined ? '—' : formatStamp(ms));

/** A button that acts on the second click (a first click arms it for 4 s): no dialog a wall screen could hide. */
function ConfirmButton({ label, cls, onConfirm }: { label: string; cls: string; onConfirm: () => void }) {
  const [armed, setArmed] = useState(false);
  useEffect(() => {
    if (!armed) return undefined;
    const timer = setTimeout(() => setArmed(false), 4000);
    return () => clearTimeout(timer);
  }, [armed]);
  return html`<button type="button" class=${cls} data-armed=${String(armed)} onClick=${() => (armed ? (setArmed(false), onConfirm()) : setArmed(true))}>${armed ? t('admin.confirm') : label}</button>`;
}

export function AdminView({ page }: ViewProps) {
  useStore(page.store, 'lang');
  const [users, setUsers] = useState<PublicUser[]>([]);
  const [tokens, setTokens] = useState<Token[]>([]);
  const [mqtt, setMqtt] = useState<MqttAccount[] | null>([]);
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [refused, setRefused] = useState<AuditEntry[]>([]);
  const [events, setEvents] = useState<SecurityEvent[]>([]);
  const [filter, setFilter] = useState({ actor: '', action: '', since: '' });
  const [verdict, setVerdict] = useState<Verdict | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [newToken, setNewToken] = useState<{ name: string; token: string } | null>(null);
  const [newUser, setNewUser] = useState({ username: '', role: 'viewer', password: '' });
  const [tokenForm, setTokenForm] = useState({ name: '', role: 'writer' });
  const [mqttForm, setMqttForm] = useState({ username: '', role: 'device', devices: '', password: '' });

  const auditQuery = (f = filter): Record<string, string> => {
    const q: Record<string, string> = { limit: '500' };
    if (f.actor.trim()) q.actor = f.actor.trim();
    if (f.action.trim()) q.action = f.action.trim();
    if (f.since) q.since = String(new Date(f.since).getTime());
    return q;
  };
  const loadAudit = async (f = filter): Promise<void> => {
    setEntries(await http.get<AuditEntry[]>('/audit', auditQuery(f)));
    setRefused((await http.get<AuditEntry[]>('/audit', { limit: '500' })).filter((e) => e.outcome !== 'ok').slice(0, 100));
  };
  const load = async (): Promise<void> => {
    try {
      const [u, tk, ev] = await Promise.all([
        http.get<PublicUser[]>('/users'),
        http.get<Token[]>('/tokens'),
        http.get<SecurityEvent[]>('/security-events', { since: String(page.now() - DAY_MS) }),
      ]);
      setUsers(u);
      setTokens(tk);
      setEvents(ev);
      // 404 when no embedded broker runs: its accounts are an external broker's.
      setMqtt(await http.get<MqttAccount[]>('/mqtt/accounts').catch((e: unknown) => (e instanceof ApiError && e.status === 404 ? null : Promise.reject(e))));
      await loadAudit();
    } catch (e) {
      setError(t('admin.failed', { error: explain(e) }));
    }
  };
  useEffect(() => {
    load();
  }, []);

  /** Runs a change, then reads everything again (the audit log shows the change's entry). */
  const act = async (fn: () => Promise<unknown>, done?: string): Promise<void> => {
    setError(null);
    setNote(null);
    try {
      await fn();
      if (done) setNote(done);
    } catch (e) {
      setError(t('admin.failed', { error: explain(e) }));
    }
    await load();
  };

  const addUser = (ev: Event): void => {
    ev.preventDefault();
    const body = { ...newUser, username: newUser.username.trim() };
    act(async () => {
      await http.post('/users', body);
      setNewUser({ username: '', role: 'viewer', password: '' });
    }, t('admin.user.added', { name: body.username }));
  };
  const patchUser = (name: string, body: object): Promise<void> => act(() => http.send('PATCH', `/users/${encodeURIComponent(name)}`, body));
  const createToken = (ev: Event): void => {
    ev.preventDefault();
    act(async () => {
      const r = await http.post<{ token: string; name: string }>('/tokens', { name: tokenForm.name.trim(), role: tokenForm.role });
      setNewToken({ name: r.name, token: r.token });
      setTokenForm({ name: '', role: 'writer' });
    });
  };
  const saveMqtt = (ev: Event): void => {
    ev.preventDefault();
    const f = mqttForm;
    const devices = f.devices.trim() === '*' ? '*' : f.devices.split(/[\s,]+/).filter(Boolean);
    const body = { role: f.role, ...(f.password ? { password: f.password } : {}), ...(f.role === 'collector' ? { devices } : {}) };
    act(async () => {
      const r = await http.send<{ password?: string }>('PUT', `/mqtt/accounts/${encodeURIComponent(f.username.trim())}`, body);
      setNote(r.password ? t('admin.mqtt.generated', { name: f.username.trim(), password: r.password }) : null);
      setMqttForm({ username: '', role: 'device', devices: '', password: '' });
    });
  };
  const verify = async (): Promise<void> => {
    setError(null);
    try {
      setVerdict(await http.get<Verdict>('/audit/verify'));
      await loadAudit();
    } catch (e) {
      setError(t('admin.failed', { error: explain(e) }));
    }
  };

  const roleOptions = (roles: readonly string[], selected: string) => roles.map((r) => html`<option value=${r} selected=${r === selected}>${named('role', r)}</option>`);

  return html`<div class="view-body" id="admin-view">
    <h2>${t('admin.title')} <button type="button" id="admin-refresh" onClick=${() => act(async () => undefined)}>${t('admin.refresh')}</button></h2>
    ${error ? html`<p class="error" role="alert" id="admin-error">${error}</p>` : ''}
    ${note ? html`<p class="note" role="status" id="admin-note">${note}</p>` : ''}

    <section id="admin-users">
      <h3>${t('admin.users')}</h3>
      <p class="muted">${t('admin.users.note')}</p>
      <table class="data-table" id="admin-users-table">
        <thead><tr><th>${t('admin.user.name')}</th><th>${t('admin.user.role')}</th><th>${t('admin.user.source')}</th><th>${t('admin.user.state')}</th><th></th></tr></thead>
        <tbody>${users.map((u) => html`<tr data-user=${u.username} data-source=${u.source} data-role=${u.role} data-disabled=${String(u.disabled)}>
          <td>${u.username}</td>
          <td>${u.source === 'directory'
            ? named('role', u.role)
            : html`<select class="user-role" aria-label=${t('admin.user.role')} onChange=${(e: Event) => patchUser(u.username, { role: value(e) })}>${roleOptions(USER_ROLES, u.role)}</select>`}</td>
          <td>${t(`admin.user.${u.source}`)}${u.dn ? html` <small class="muted">${u.dn}</small>` : ''}${u.lastLoginAt ? html` <small class="muted">${t('admin.user.lastLogin', { time: when(u.lastLoginAt) })}</small>` : ''}</td>
          <td>${t(u.disabled ? 'admin.user.disabled' : 'admin.user.enabled')}</td>
          <td><button type="button" class=${u.disabled ? 'user-enable' : 'user-disable'} onClick=${() => patchUser(u.username, { disabled: !u.disabled })}>${t(u.disabled ? 'admin.user.enable' : 'admin.user.disable')}</button>
            <${ConfirmButton} cls="user-remove" label=${t('admin.user.remove')} onConfirm=${() => act(() => http.del(`/users/${encodeURIComponent(u.username)}`))} /></td>
        </tr>`)}</tbody>
      </table>
      <form id="admin-user-form" class="admin-form" style=${FORM} onSubmit=${addUser}>
        <label style=${FIELD}>${t('admin.user.name')} <input id="admin-user-name" required value=${newUser.username} onInput=${(e: Event) => setNewUser({ ...newUser, username: value(e) })} /></label>
        <label style=${FIELD}>${t('admin.user.role')} <select id="admin-user-role" onChange=${(e: Event) => setNewUser({ ...newUser, role: value(e) })}>${roleOptions(USER_ROLES, newUser.role)}</select></label>
        <label style=${FIELD}>${t('admin.user.password')} <input id="admin-user-password" type="password" autocomplete="new-password" required value=${newUser.password} onInput=${(e: Event) => setNewUser({ ...newUser, password: value(e) })} /></label>
        <button type="submit" id="admin-user-add">${t('admin.user.add')}</button>
      </form>
    </section>

    <section id="admin-tokens">
      <h3>${t('admin.tokens')}</h3>
      ${newToken ? html`<p class="note" id="admin-token-new">${t('admin.token.shownOnce', { name: newToken.name })} <code id="admin-token-value">${newToken.token}</code></p>` : ''}
      <table class="data-table" id="admin-tokens-table">
        <thead><tr><th>${t('admin.token.name')}</th><th>${t('admin.token.role')}</th><th>${t('admin.token.created')}</th><th>${t('admin.token.by')}</th><th>${t('admin.token.lastUsed')}</th><th>${t('admin.user.state')}</th><th></th></tr></thead>
        <tbody>${tokens.map((k) => html`<tr data-token=${k.id} data-name=${k.name} data-revoked=${String(k.revokedAt !== undefined)}>
          <td>${k.name}</td><td>${named('role', k.role)}</td><td>${when(k.createdAt)}</td><td>${k.createdBy}</td><td>${when(k.lastUsedAt)}</td>
          <td>${k.revokedAt !== undefined ? t('admin.token.revoked', { time: when(k.revokedAt) }) : t('admin.token.live')}</td>
          <td>${k.revokedAt === undefined ? html`<${ConfirmButton} cls="token-revoke" label=${t('admin.token.revoke')} onConfirm=${() => act(() => http.del(`/tokens/${encodeURIComponent(k.id)}`))} />` : ''}</td>
        </tr>`)}</tbody>
      </table>
      <form id="admin-token-form" class="admin-form" style=${FORM} onSubmit=${createToken}>
        <label style=${FIELD}>${t('admin.token.name')} <input id="admin-token-name" required value=${tokenForm.name} onInput=${(e: Event) => setTokenForm({ ...tokenForm, name: value(e) })} /></label>
        <label style=${FIELD}>${t('admin.token.role')} <select id="admin-token-role" onChange=${(e: Event) => setTokenForm({ ...tokenForm, role: value(e) })}>${roleOptions(TOKEN_ROLES, tokenForm.role)}</select></label>
        <button type="submit" id="admin-token-create">${t('admin.token.create')}</button>
      </form>
    </section>

    <section id="admin-mqtt">
      <h3>${t('admin.mqtt')}</h3>
      ${mqtt === null ? html`<p class="muted">${t('admin.mqtt.none')}</p>` : html`
        <table class="data-table" id="admin-mqtt-table">
          <thead><tr><th>${t('admin.user.name')}</th><th>${t('admin.mqtt.role')}</th><th>${t('admin.mqtt.devices')}</th><th></th></tr></thead>
          <tbody>${mqtt.map((a) => html`<tr data-account=${a.username} data-role=${a.role}>
            <td>${a.username}</td><td>${a.role}</td><td>${a.devices === '*' ? '*' : [...(a.devices ?? []), ...(a.kinds ?? []).map((k) => `kind:${k}`)].join(', ')}</td>
            <td><${ConfirmButton} cls="mqtt-remove" label=${t('admin.mqtt.remove')} onConfirm=${() => act(() => http.del(`/mqtt/accounts/${encodeURIComponent(a.username)}`))} /></td>
          </tr>`)}</tbody>
        </table>
        <form id="admin-mqtt-form" class="admin-form" style=${FORM} onSubmit=${saveMqtt}>
          <label style=${FIELD}>${t('admin.mqtt.name')} <input id="admin-mqtt-name" required value=${mqttForm.username} onInput=${(e: Event) => setMqttForm({ ...mqttForm, username: value(e) })} /></label>
          <label style=${FIELD}>${t('admin.mqtt.role')} <select id="admin-mqtt-role" onChange=${(e: Event) => setMqttForm({ ...mqttForm, role: value(e) })}>${MQTT_ROLES.map((r) => html`<option value=${r} selected=${r === mqttForm.role}>${r}</option>`)}</select></label>
          ${mqttForm.role === 'collector' ? html`<label style=${FIELD}>${t('admin.mqtt.devices')} <input id="admin-mqtt-devices" value=${mqttForm.devices} onInput=${(e: Event) => setMqttForm({ ...mqttForm, devices: value(e) })} /></label>` : ''}
          <label style=${FIELD}>${t('admin.mqtt.password')} <input id="admin-mqtt-password" type="password" autocomplete="new-password" value=${mqttForm.password} onInput=${(e: Event) => setMqttForm({ ...mqttForm, password: value(e) })} /></label>
          <button type="submit" id="admin-mqtt-save">${t('admin.mqtt.save')}</button>
        </form>`}
    </section>

    <section id="admin-audit">
      <h3>${t('admin.audit')}</h3>
      <form id="admin-audit-filter" class="admin-form" style=${FORM} onSubmit=${(ev: Event) => { ev.preventDefault(); loadAudit().catch((e: unknown) => setError(t('admin.failed', { error: explain(e) }))); }}>
        <label style=${FIELD}>${t('admin.audit.actor')} <input id="admin-audit-actor" value=${filter.actor} onInput=${(e: Event) => setFilter({ ...filter, actor: value(e) })} /></label>
        <label style=${FIELD}>${t('admin.audit.action')} <input id="admin-audit-action" value=${filter.action} onInput=${(e: Event) => setFilter({ ...filter, action: value(e) })} /></label>
        <label style=${FIELD}>${t('admin.audit.since')} <input id="admin-audit-since" type="datetime-local" value=${filter.since} onInput=${(e: Event) => setFilter({ ...filter, since: value(e) })} /></label>
        <button type="submit" id="admin-audit-apply">${t('admin.audit.apply')}</button>
        <button type="button" id="admin-audit-verify" onClick=${verify}>${t('admin.audit.verify')}</button>
      </form>
      ${verdict ? html`<p id="admin-audit-verdict" class=${verdict.ok ? 'note' : 'error'} data-ok=${String(verdict.ok)} role="status">${verdict.ok
        ? t('admin.audit.ok', { entries: verdict.entries, anchors: verdict.anchors ?? 0, head: verdict.head.slice(0, 16) })
        : t('admin.audit.broken', { line: verdict.error?.line ?? 0, reason: verdict.error?.reason ?? '' })}</p>` : ''}
      <${AuditTable} id="admin-audit-table" entries=${entries} />
    </section>

    <section id="admin-security">
      <h3>${t('admin.security')}</h3>
      <p class="muted">${t('admin.security.note')}</p>
      ${events.length === 0 ? html`<p class="empty" id="admin-security-none">${t('admin.security.none')}</p>` : html`<table class="data-table" id="admin-security-table">
        <thead><tr><th>${t('admin.audit.time')}</th><th>${t('admin.security.type')}</th><th>${t('admin.security.origin')}</th><th>${t('admin.audit.source')}</th><th>${t('admin.security.who')}</th><th>${t('admin.security.detail')}</th></tr></thead>
        <tbody>${events.slice(0, 200).map((e) => html`<tr data-type=${e.type} data-username=${e.username ?? ''}>
          <td>${when(e.ts)}</td><td>${e.type}</td><td>${e.origin}</td><td>${e.source ?? ''}</td><td>${e.username ?? e.clientId ?? e.device ?? ''}</td><td>${e.detail ?? e.topic ?? ''}</td></tr>`)}</tbody></table>`}
      <h3>${t('admin.security.refused')}</h3>
      <${AuditTable} id="admin-refused-table" entries=${refused} />
    </section>
  </div>`;
}

function AuditTable({ id, entries }: { id: string; entries: AuditEntry[] }) {
  if (entries.length === 0) return html`<p class="empty" id=${`${id}-none`}>${t('admin.audit.none')}</p>`;
  return html`<table class="data-table" id=${id}>
    <thead><tr><th>${t('admin.audit.time')}</th><th>${t('admin.audit.actor')}</th><th>${t('admin.user.role')}</th><th>${t('admin.audit.actionCol')}</th><th>${t('admin.audit.target')}</th><th>${t('admin.audit.outcome')}</th><th>${t('admin.audit.source')}</th></tr></thead>
    <tbody>${entries.map((e) => html`<tr data-seq=${e.seq} data-action=${e.action} data-actor=${e.actor} data-target=${e.target ?? ''} data-outcome=${e.outcome}>
      <td>${formatStamp(e.ts)}</td><td>${e.actor}</td><td>${e.role ? named('role', e.role) : ''}</td><td>${e.action}</td><td>${e.target ?? ''}</td><td>${e.outcome}</td><td>${e.source ?? ''}</td></tr>`)}</tbody></table>`;
}
