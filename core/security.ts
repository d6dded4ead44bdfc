import { z } from 'zod';

/**
 * Something a SOC should see: a refused login, a denied publish, a probe with a wrong SNMP community.
 * Every source (broker, trap receiver, ops server) reports in this one shape.
 */
export interface SecurityEvent {
  ts: number;
  /** What happened, e.g. bad_credentials, topic_denied, snmp_bad_community, login_failed. */
  type: string;
  /** Where it came from: the component that saw it (mqtt, snmp, http, syslog). */
  origin: 'mqtt' | 'snmp' | 'http' | 'syslog';
  /** The remote address, when there is one. */
  source?: string;
  username?: string;
  clientId?: string;
  device?: string;
  topic?: string;
  detail?: string;
}

/**
 * A security event arriving from outside this process (another cluster node, over Redis), checked
 * before it reaches the rules; the bounds keep a forged one from carrying megabytes.
 */
export const SecurityEventSchema = z.object({
  ts: z.number(),
  type: z.string().min(1).max(64),
  origin: z.enum(['mqtt', 'snmp', 'http', 'syslog']),
  source: z.string().max(256).optional(),
  username: z.string().max(256).optional(),
  clientId: z.string().max(256).optional(),
  device: z.string().max(256).optional(),
  topic: z.string().max(1024).optional(),
  detail: z.string().max(2048).optional(),
}) satisfies z.ZodType<SecurityEvent>;
