/** Test peers for the password-gate suites: HTTP from a chosen loopback address, and the real CLI. */
import { request } from 'node:http';
import { runCli } from '../support/cli.ts';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/**
 * One HTTP request from `localAddress` (127.0.0.1, 127.0.0.2...: all loopback on Linux), which
 * fetch cannot choose; the server sees it as the request's source address.
 */
export function httpFrom(localAddress: string, url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers, localAddress }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

export const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** `GET /query?q=SHOW MEASUREMENTS` with HTTP basic auth, from `from`. */
export const queryAs = (base: string, from: string, user: string, password: string): Promise<Answer> =>
  httpFrom(from, `${base}/query?q=${encodeURIComponent('SHOW MEASUREMENTS')}`, { headers: { authorization: basic(user, password) } });

/** `POST /api/v1/auth/login` from `from`. */
export const loginFrom = (base: string, from: string, username: string, password: string): Promise<Answer> =>
  httpFrom(from, `${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });

/** Runs the real CLI on the product's data directory. */
export const cli = runCli;
