/*
 * The lock model moved to core/login-guard.ts, shared with the MQTT broker's password checks
 * (broker/login-gate.ts). Kept here so the ops server's importers (password-gate.ts, routes/auth.ts,
 * users-command.ts) and the tests keep their path.
 */
export { defaultLoginLimits, LoginGuard, locksInFile, MQTT_LOGIN_LOCKS_FILE, plainSource, unlockInFile, type LockOutcome, type LockPolicy, type LoginLimits, type Unlocked } from '../core/login-guard.ts';
