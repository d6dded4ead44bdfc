/**
 * The estate's web applications as Node https servers: the public-service portal, the document
 * management system, the LGSP integration platform (a JSON health endpoint) and the province's web
 * portal. Each answers a small, recognisable page; a site's faults (slow, 500) are read per request.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KeyPair } from './certs.ts';

export type WebSiteId = 'portal' | 'document-mgmt' | 'lgsp' | 'web-portal';

/** What a site's faults do to the next request. */
export interface WebFaults {
  /** Answer this much later. */
  delayMs: number;
  /** Answer 500 instead of the page. */
  error: boolean;
}

const page = (title: string, body: string): string =>
  `<!doctype html>\n<html lang="vi"><head><meta charset="utf-8"><title>${title}</title></head>\n<body><header><h1>${title}</h1></header>\n${body}\n</body></html>\n`;

/** Each site's routes: path -> [content type, body]. */
function routes(site: WebSiteId, host: string): Map<string, [string, string]> {
  const html = 'text/html; charset=utf-8';
  const json = 'application/json; charset=utf-8';
  switch (site) {
    case 'portal':
      return new Map([
        ['/', [html, page('Cổng Dịch vụ công tỉnh', `<nav><a href="/dang-nhap">Đăng nhập</a> | <a href="/thu-tuc">Thủ tục hành chính</a></nav>\n<p>Nộp hồ sơ trực tuyến, tra cứu kết quả giải quyết thủ tục hành chính.</p>`)]],
        ['/dang-nhap', [html, page('Đăng nhập', '<form method="post"><input name="username"><input name="password" type="password"><button>Đăng nhập</button></form>')]],
      ]);
    case 'document-mgmt':
      return new Map([['/', [html, page('Hệ thống Quản lý văn bản và điều hành', '<p>Văn bản đến, văn bản đi, hồ sơ công việc.</p><a href="/sso">Đăng nhập</a>')]]]);
    case 'lgsp':
      return new Map([
        ['/', [json, JSON.stringify({ service: 'LGSP', name: 'Nền tảng tích hợp, chia sẻ dữ liệu cấp tỉnh', host })]],
        ['/health', [json, JSON.stringify({ status: 'UP', components: { database: { status: 'UP' }, esb: { status: 'UP' }, ndxp: { status: 'UP' } } })]],
      ]);
    case 'web-portal':
      return new Map([['/', [html, page('Cổng thông tin điện tử tỉnh', '<p>Tin tức, sự kiện, chỉ đạo điều hành của Ủy ban nhân dân tỉnh.</p>')]]]);
  }
}

/** One site's https server; `faults()` is read per request, `pair` can be swapped with setSecureContext. */
export function webServer(site: WebSiteId, host: string, pair: KeyPair, faults: () => WebFaults): Server {
  const table = routes(site, host);
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = new URL(req.url ?? '/', `https://${host}`).pathname;
    const f = faults();
    if (f.error) {
      res.writeHead(500, { 'content-type': 'text/html; charset=utf-8' }).end(page('500 Internal Server Error', '<p>Lỗi máy chủ nội bộ.</p>'));
      return;
    }
    const route = table.get(path);
    if (req.method !== 'GET' && req.method !== 'HEAD') res.writeHead(405, { allow: 'GET, HEAD' }).end();
    else if (!route) res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Không tìm thấy trang\n');
    else res.writeHead(200, { 'content-type': route[0], 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : route[1]);
  };
  return createServer({ key: pair.key, cert: pair.cert }, (req, res) => {
    const delay = faults().delayMs;
    if (delay <= 0) return handle(req, res);
    const timer = setTimeout(() => handle(req, res), delay);
    timer.unref();
    res.once('close', () => clearTimeout(timer));
  });
}
