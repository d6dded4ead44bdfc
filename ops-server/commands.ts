/*
 * Device control: the commands each device kind takes (one zod schema per kind), and the desk that
 * sends one over MQTT (`devices/{id}/commands/{commandId}`) and waits for the device's answer on
 * `devices/{id}/commands/{commandId}/result`. No answer within the timeout is a failure the caller sees.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Logger } from '../core/index.ts';
import type { CommandBus } from './command-bus.ts';

const common = {
  /** The device id typed again; required for commands that can take load down. */
  confirm: z.string().max(256).optional().describe('the device id, typed again: required for dangerous commands'),
  timeoutMs: z.number().int().min(100).max(60_000).optional().describe('how long to wait for the device to answer (default 10000)'),
};

/** ASHRAE TC 9.9's recommended inlet envelope is 18-27 °C; a supply setpoint outside 14-27 °C is a typo. */
export const CracCommand = z.discriminatedUnion('command', [
  z.strictObject({ command: z.literal('set_setpoint'), setpointC: z.number().min(14).max(27), ...common }),
  z.strictObject({ command: z.literal('set_fan_speed'), percent: z.number().min(0).max(100), ...common }),
  z.strictObject({ command: z.literal('power'), state: z.enum(['on', 'off']), ...common }),
]);
export const PduCommand = z.discriminatedUnion('command', [
  z.strictObject({ command: z.literal('outlet'), outlet: z.number().int().min(1).max(48), state: z.enum(['on', 'off', 'cycle']), ...common }),
]);
export const UpsCommand = z.discriminatedUnion('command', [z.strictObject({ command: z.literal('self_test'), ...common })]);

/** The commands each device kind takes; kinds not listed take none. */
export const commandSchemas = { crac: CracCommand, pdu: PduCommand, ups: UpsCommand } as const;
export type CommandKind = keyof typeof commandSchemas;
export type DeviceCommand = z.infer<(typeof commandSchemas)[CommandKind]>;

/** Commands that can take load or cooling down: they need `confirm` equal to the device id. */
export function isDangerous(c: DeviceCommand): boolean {
  if (c.command === 'power') return c.state === 'off';
  if (c.command === 'set_fan_speed') return c.percent < 20;
  if (c.command === 'outlet') return c.state !== 'on';
  return false;
}

/** What a device answers on `.../result`. */
export const CommandResult = z.object({
  ok: z.boolean(),
  message: z.string().max(1000).optional(),
  state: z.record(z.string(), z.unknown()).optional(),
});
export type CommandResult = z.infer<typeof CommandResult>;

export type CommandOutcome =
  | { status: 'ok' | 'failed'; commandId: string; result: CommandResult }
  | { status: 'timeout'; commandId: string };

const RESULT_TOPIC = /^devices\/([^/]+)\/commands\/([^/]+)\/result$/;

/** Sends commands and matches answers to them by command id. */
export class CommandDesk {
  private readonly waiting = new Map<string, { device: string; settle: (r: CommandResult) => void }>();
  private unsubscribe?: () => Promise<void>;

  constructor(
    private readonly bus: CommandBus,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.unsubscribe = await this.bus.subscribe('devices/+/commands/+/result', (topic, payload) => this.onResult(topic, payload));
  }

  /** Publishes the command and resolves with the device's answer, or `timeout`. */
  async send(device: string, command: Omit<DeviceCommand, 'confirm' | 'timeoutMs'>, meta: { by: string; ts: number }, timeoutMs: number): Promise<CommandOutcome> {
    const commandId = randomUUID();
    let timer: NodeJS.Timeout | undefined;
    const answered = new Promise<CommandResult | undefined>((resolve) => {
      this.waiting.set(commandId, { device, settle: resolve });
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    try {
      await this.bus.publish(`devices/${device}/commands/${commandId}`, JSON.stringify({ commandId, ...command, issuedBy: meta.by, ts: meta.ts }));
      const result = await answered;
      if (!result) return { status: 'timeout', commandId };
      return { status: result.ok ? 'ok' : 'failed', commandId, result };
    } finally {
      clearTimeout(timer);
      this.waiting.delete(commandId);
    }
  }

  private onResult(topic: string, payload: Buffer): void {
    const m = RESULT_TOPIC.exec(topic);
    const w = m ? this.waiting.get(m[2] as string) : undefined;
    // The broker's ACL lets only the device (or its collector) publish under its id; still, match both.
    if (!m || !w || w.device !== m[1]) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload.toString('utf8'));
    } catch {
      parsed = undefined;
    }
    const r = CommandResult.safeParse(parsed);
    if (!r.success) this.logger.warn({ topic }, 'command result: unreadable answer');
    w.settle(r.success ? r.data : { ok: false, message: 'the device answered something unreadable' });
  }

  async stop(): Promise<void> {
    await this.unsubscribe?.();
    for (const w of this.waiting.values()) w.settle({ ok: false, message: 'the server is stopping' });
  }
}
