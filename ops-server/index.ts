export { startOpsServer, type OpsServer } from './server.ts';
export type { OpsContext, AlertFilter, DevicePresence } from './context.ts';
export { SessionBook, SESSION_COOKIE } from './sessions.ts';
export { UserBook, Role, type PublicUser } from './users.ts';
export type { TelemetryUpdate } from './realtime.ts';
