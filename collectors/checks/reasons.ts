/**
 * Socket and TLS errors in words. A reason names what failed and at which step, so "connection
 * reset during TLS handshake" tells the reader the TCP side worked and the TLS peer hung up.
 */

/** The step a connection had reached when it failed. */
export type Stage = 'dns' | 'connect' | 'tls' | 'request' | 'response' | 'body' | 'banner';

const STAGE_WORDS: Record<Stage, string> = {
  dns: 'resolving the name',
  connect: 'connecting',
  tls: 'TLS handshake',
  request: 'sending the request',
  response: 'waiting for the response',
  body: 'reading the body',
  banner: 'waiting for the banner',
};

// OpenSSL's X509_V_ERR_* names as Node reports them (err.code), in words.
const CERT_WORDS: Record<string, string> = {
  CERT_HAS_EXPIRED: 'certificate has expired',
  CERT_NOT_YET_VALID: 'certificate is not yet valid',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in the chain',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'certificate chain incomplete (unable to verify the first certificate)',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'certificate issuer not trusted',
  ERR_TLS_CERT_ALTNAME_INVALID: 'certificate does not match the host name',
  CERT_REVOKED: 'certificate revoked',
};

/** Words for an OpenSSL verification code, or the code itself. */
export function certificateWords(code: string): string {
  return CERT_WORDS[code] ?? code.toLowerCase().replace(/_/g, ' ');
}

/** One error of a socket, request or handshake, in words, naming the stage reached. */
export function describeError(err: unknown, stage: Stage, target: string): string {
  const e = err as NodeJS.ErrnoException & { reason?: string };
  const code = typeof e?.code === 'string' ? e.code : '';
  const during = STAGE_WORDS[stage];
  if (code in CERT_WORDS || /CERT|SIGNATURE|ISSUER/.test(code)) return `TLS certificate not accepted: ${certificateWords(code)} (${code})`;
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused by ${target}`;
    case 'ECONNRESET':
      return `connection reset during ${during}`;
    case 'EPIPE':
      return `connection closed by ${target} during ${during}`;
    case 'ENOTFOUND':
      return `DNS: ${target} not found`;
    case 'EAI_AGAIN':
      return `DNS: temporary failure resolving ${target}`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${target} unreachable (${code})`;
    case 'ETIMEDOUT':
      return `timed out during ${during}`;
    case 'HPE_INVALID_CONSTANT':
    case 'HPE_INVALID_STATUS':
    case 'HPE_INVALID_HEADER_TOKEN':
      return `not an HTTP answer from ${target} (${code})`;
    default:
      break;
  }
  if (e?.message === 'socket hang up' || code === 'ERR_SOCKET_CLOSED') return `connection closed by ${target} during ${during}`;
  if (/^ERR_SSL_|^ERR_TLS_/.test(code) || /SSL routines|wrong version number|handshake failure/i.test(e?.message ?? '')) {
    return `TLS handshake failed: ${e.reason ?? e.message}`;
  }
  return `${during} failed: ${e?.message ?? String(err)}${code ? ` (${code})` : ''}`;
}

/** The words for a timeout at a stage. */
export function describeTimeout(elapsedMs: number, stage: Stage): string {
  const ms = Math.round(elapsedMs);
  if (stage === 'response') return `timed out after ${ms} ms waiting for the response (connected, no answer)`;
  if (stage === 'banner') return `timed out after ${ms} ms waiting for the banner (connected, nothing matching received)`;
  return `timed out after ${ms} ms during ${STAGE_WORDS[stage]}`;
}
