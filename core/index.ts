export * from './errors.ts';
export * from './clock.ts';
export * from './logger.ts';
export * from './inventory.ts';
export * from './telemetry.ts';
export * from './alert.ts';
export * from './config.ts';
export * from './secrets.ts';
