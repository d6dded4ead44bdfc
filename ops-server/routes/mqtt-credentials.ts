import { Router } from 'express';
import { z } from 'zod';
import { badRequest, notFound, randomSecret } from '../../core/index.ts';
import { audit } from '../audit.ts';
import type { MqttCredentialBook, OpsContext } from '../deps.ts';
import { requireRole, route } from '../guards.ts';
import { parseInput } from '../validate.ts';

/** An MQTT username is also a topic level for devices: no `/`, `+`, `#`, no leading `$`. */
const MqttUsername = z.string().min(1).max(128).regex(/^[^/+#$\s][^/+#\s]*$/, 'no "/", "+", "#", spaces or leading "$"');

export const SetAccount = z.strictObject({
  role: z.enum(['device', 'collector', 'admin']),
  /** Omit to have one generated; it is shown once in the answer and never stored in clear. */
  password: z.string().min(8, 'at least 8 characters').max(256).optional(),
  devices: z.union([z.literal('*'), z.array(MqttUsername)]).optional(),
  kinds: z.array(z.string().min(1)).optional(),
});

/**
 * MQTT credentials (devices, collectors, admins): list, set or rotate, remove; admins only; passwords
 * never echoed back but once. Audited as `mqtt.account.create` (a new account), `mqtt.account.rotate`
 * (a new password, and grants, for an existing one) and `mqtt.account.revoke`, with the account's name
 * and role and never its password: whether one was generated is all the entry says of it.
 */
export function mqttCredentialRoutes(ctx: OpsContext): Router {
  const r = Router();
  const book = (): MqttCredentialBook => {
    if (!ctx.mqttAccounts) throw notFound('embedded MQTT broker');
    return ctx.mqttAccounts;
  };
  r.get('/mqtt/accounts', requireRole('admin'), route((_req, res) => {
    res.json(book().list());
  }));
  r.put(
    '/mqtt/accounts/:username',
    requireRole('admin'),
    route(async (req, res) => {
      const username = parseInput(MqttUsername, req.params.username, 'query');
      const body = parseInput(SetAccount, req.body, 'body');
      const accounts = book();
      const before = accounts.list().find((a) => a.username === username);
      const generated = body.password === undefined;
      const password = body.password ?? randomSecret();
      if (body.role === 'device') {
        if (!ctx.estate.devices.has(username)) throw badRequest('username', `username: no device "${username}" in the inventory`);
        if (body.devices !== undefined || body.kinds !== undefined) throw badRequest('devices', 'devices: only collector accounts list devices or kinds');
        await accounts.setDevicePassword(username, password);
      } else if (body.role === 'collector') {
        if (body.devices === undefined && (body.kinds === undefined || body.kinds.length === 0)) {
          throw badRequest('devices', 'devices: a collector needs "devices" (ids or "*") or "kinds"');
        }
        await accounts.setCollector(username, password, body.devices ?? [], body.kinds);
      } else {
        await accounts.setAdmin(username, password);
      }
      ctx.logger.info({ username, role: body.role, by: req.session?.username }, 'mqtt: credentials set');
      const view = accounts.list().find((a) => a.username === username);
      audit(req, {
        action: before ? 'mqtt.account.rotate' : 'mqtt.account.create',
        target: username,
        detail: {
          role: body.role,
          generated,
          ...(before && before.role !== body.role ? { was: before.role } : {}),
          ...(view?.devices !== undefined ? { devices: view.devices } : {}),
          ...(view?.kinds !== undefined ? { kinds: view.kinds } : {}),
        },
      });
      res.json({ account: view, ...(generated ? { password } : {}) });
    }),
  );
  r.delete('/mqtt/accounts/:username', requireRole('admin'), route((req, res) => {
    const username = String(req.params.username);
    const accounts = book();
    const before = accounts.list().find((a) => a.username === username);
    if (!accounts.remove(username)) throw notFound(`MQTT account "${username}"`);
    ctx.logger.info({ username, by: req.session?.username }, 'mqtt: credentials removed');
    audit(req, { action: 'mqtt.account.revoke', target: username, ...(before ? { detail: { role: before.role } } : {}) });
    res.status(204).end();
  }));
  return r;
}
