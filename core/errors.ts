/**
 * Errors declared once, each with a stable code, a message and an HTTP status (after fastify's
 * FST_ERR_* catalogue), so a log line or an API answer says what went wrong and where to look.
 */
export class WatchfloorError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 500,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'WatchfloorError';
  }
}

/** A configuration or inventory file that does not validate; `issues` name the path inside the file. */
export class ConfigError extends WatchfloorError {
  constructor(
    readonly file: string,
    readonly issues: string[],
  ) {
    super('WF_ERR_CONFIG', `invalid configuration in ${file}:\n  ${issues.join('\n  ')}`, 500);
    this.name = 'ConfigError';
  }
}

export const badRequest = (field: string, message: string): WatchfloorError =>
  new WatchfloorError('WF_ERR_BAD_REQUEST', message, 400, field);
export const notFound = (what: string): WatchfloorError => new WatchfloorError('WF_ERR_NOT_FOUND', `${what} not found`, 404);
export const unauthorized = (): WatchfloorError => new WatchfloorError('WF_ERR_UNAUTHORIZED', 'log in first', 401);
export const forbidden = (): WatchfloorError =>
  new WatchfloorError('WF_ERR_FORBIDDEN', 'your role does not allow this', 403);
export const conflict = (message: string): WatchfloorError => new WatchfloorError('WF_ERR_CONFLICT', message, 409);
