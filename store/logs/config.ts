/** `logs:` in the config: its schema lives in core (core/logs-config.ts) beside the other config sections. */
export { LogsConfig, type LogsConfigInput } from '../../core/index.ts';
