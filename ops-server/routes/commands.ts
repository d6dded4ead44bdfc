import { Router } from 'express';
import { badRequest, notFound, wfError, wfFieldError } from '../../core/index.ts';
import { audit } from '../audit.ts';
import { commandSchemas, isDangerous, type CommandKind } from '../commands.ts';
import type { OpsContext } from '../deps.ts';
import { requireRole, route } from '../guards.ts';
import type { OpsParts } from '../own-state.ts';
import { parseInput } from '../validate.ts';

const DEFAULT_TIMEOUT_MS = 10_000;

/** `POST /devices/{id}/commands`: admins and the NOC control CRACs, PDUs and UPSes over MQTT. */
export function commandRoutes(ctx: OpsContext, parts: OpsParts): Router {
  const r = Router();
  r.post(
    '/devices/:id/commands',
    requireRole('admin', 'noc'),
    route(async (req, res) => {
      const id = String(req.params.id);
      const device = ctx.estate.devices.get(id);
      if (!device) throw notFound(`device "${id}"`);
      if (!Object.hasOwn(commandSchemas, device.kind)) {
        throw wfFieldError('NO_COMMANDS', 'command', device.kind);
      }
      const { confirm, timeoutMs, ...command } = parseInput(commandSchemas[device.kind as CommandKind], req.body, 'body');
      if (isDangerous({ ...command, confirm } as never) && confirm !== id) {
        throw badRequest('confirm', `confirm: "${command.command}" can take load down; send "confirm": "${id}" to go ahead`);
      }
      if (!parts.commands) throw wfError('UNAVAILABLE', 'device control needs the embedded MQTT broker');
      const outcome = await parts.commands.send(id, command, { by: req.session?.username ?? '-', ts: ctx.clock.now() }, timeoutMs ?? DEFAULT_TIMEOUT_MS);
      const detail = { ...command, commandId: outcome.commandId, ...(outcome.status === 'timeout' ? {} : { result: outcome.result }) };
      audit(req, { action: 'device.command', target: id, outcome: outcome.status === 'ok' ? 'ok' : 'failed', detail: { ...detail, status: outcome.status } });
      if (outcome.status === 'timeout') {
        throw wfError('DEVICE_TIMEOUT', id, command.command, timeoutMs ?? DEFAULT_TIMEOUT_MS);
      }
      if (outcome.status === 'failed') {
        throw wfError('COMMAND_FAILED', id, command.command, outcome.result.message ?? 'no reason given');
      }
      res.json({ device: id, commandId: outcome.commandId, command: command.command, result: outcome.result });
    }),
  );
  return r;
}
