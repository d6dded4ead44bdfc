/**
 * The official e-mail service as a check sees it: an SMTP greeting (RFC 5321 §4.2, "220 <domain>
 * ESMTP"), EHLO/HELO, NOOP, RSET and QUIT; everything else "502" (this is not a mail server, it
 * accepts no mail). Lines over 1000 bytes (RFC 5321 §4.5.3.1.6) or 30 s of silence end the session.
 */
import { createServer, type Server } from 'node:net';

const MAX_LINE = 1000;
const IDLE_MS = 30_000;

export function smtpServer(host: string): Server {
  return createServer((socket) => {
    socket.setTimeout(IDLE_MS, () => socket.end(`421 4.4.2 ${host} Error: timeout exceeded\r\n`));
    socket.write(`220 ${host} ESMTP\r\n`);
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).replace(/\r$/, '');
        buffered = buffered.slice(nl + 1);
        const verb = line.split(' ')[0]?.toUpperCase() ?? '';
        if (verb === 'QUIT') {
          socket.end('221 2.0.0 Bye\r\n');
          return;
        }
        if (verb === 'EHLO') socket.write(`250-${host}\r\n250-SIZE 26214400\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n`);
        else if (verb === 'HELO') socket.write(`250 ${host}\r\n`);
        else if (verb === 'NOOP' || verb === 'RSET') socket.write('250 2.0.0 Ok\r\n');
        else socket.write('502 5.5.2 Error: command not recognized\r\n');
      }
      if (buffered.length > MAX_LINE) socket.end('500 5.5.0 Error: line too long\r\n');
    });
  });
}
