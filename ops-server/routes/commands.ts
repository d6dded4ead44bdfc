import { Router } from 'express';
import { WatchfloorError, badRequest, notFound } from '../../core/index.ts';
import { audit } from '../audit.ts';
import { commandSchemas, isDangerous, type CommandKind } from '../commands.ts';
import type { OpsContext } from '../context.ts';
import { requireRole, route } from '../guards.ts';
import type { OpsParts } from '../parts.ts';
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
        throw new WatchfloorError('WF_ERR_NO_COMMANDS', `a ${device.kind} takes no commands (crac, pdu and ups do)`, 400, 'command');
      }
      const { confirm, timeoutMs, ...command } = parseInput(commandSchemas[device.kind as CommandKind], req.body, 'body');
      if (isDangerous({ ...command, confirm } as never) && confirm !== id) {
        throw badRequest('confirm', `confirm: "${command.command}" can take load down; send "confirm": "${id}" to go ahead`);
      }
      if (!parts.commands) throw new WatchfloorError('WF_ERR_UNAVAILABLE', 'device control needs the embedded MQTT broker', 503);
      const outcome = await parts.commands.send(id, command, { by: req.session?.username ?? '-', ts: ctx.clock.now() }, timeoutMs ?? DEFAULT_TIMEOUT_MS);
      const detail = { ...command, commandId: outcome.commandId, ...(outcome.status === 'timeout' ? {} : { result: outcome.result }) };
      audit(req, { action: 'device.command', target: id, outcome: outcome.status === 'ok' ? 'ok' : 'failed', detail: { ...detail, status: outcome.status } });
      if (outcome.status === 'timeout') {
        throw new WatchfloorError('WF_ERR_DEVICE_TIMEOUT', `${id} did not answer "${command.command}" within ${timeoutMs ?? DEFAULT_TIMEOUT_MS} ms; it may be offline`, 504);
      }
      if (outcome.status === 'failed') {
        throw new WatchfloorError('WF_ERR_COMMAND_FAILED', `${id} refused "${command.command}": ${outcome.result.message ?? 'no reason given'}`, 502);
      }
      res.json({ device: id, commandId: outcome.commandId, command: command.command, result: outcome.result });
    }),
  );
  return r;
}
