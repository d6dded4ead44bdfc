export { startOpsServer, type OpsServer } from './server.ts';
export type { OpsContext, AlertFilter, DevicePresence } from './deps.ts';
export { SessionBook, SESSION_COOKIE } from './sessions.ts';
export { UserBook, Role, type PublicUser } from './users.ts';
export type { TelemetryUpdate } from './realtime.ts';
export { aedesCommandBus, type CommandBus } from './command-bus.ts';
export { audit, verifyAuditFile, type AuditInput, type AuditEntry } from './audit.ts';
export { listRoutes } from './openapi.ts';
export { runUsersCommand, runAuditCommand } from './users-command.ts';
