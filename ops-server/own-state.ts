import { join } from 'node:path';
import { AuditLog } from './audit.ts';
import type { CommandDesk } from './commands.ts';
import type { OpsContext } from './deps.ts';
import { TokenBook } from './tokens.ts';

/** The ops server's own state (API tokens, audit log, device command desk), made once per server and handed to the route modules; what it is given is deps.ts. */
export interface OpsParts {
  tokens: TokenBook;
  auditLog: AuditLog;
  /** Absent when no broker is wired (the device command route then answers 503). */
  commands?: CommandDesk;
}

/** The parts for a context: files under ctx.dataDir when it has one, else in memory. */
export function defaultParts(ctx: OpsContext, commands?: CommandDesk): OpsParts {
  return {
    tokens: new TokenBook(ctx.dataDir ? join(ctx.dataDir, 'api-tokens.json') : undefined),
    auditLog: new AuditLog(ctx.clock, ctx.dataDir ? join(ctx.dataDir, 'audit.jsonl') : undefined),
    commands,
  };
}
