import { createTransport } from 'nodemailer';
import { titleOf } from '../messages.ts';
import type { Receiver } from '../schema.ts';
import { plainText, type Site, type Transport } from './site.ts';

/** Mail over SMTP: the title as subject, each alert's lines as the text, in the receiver's language and zone. */
export function emailTransport(e: NonNullable<Receiver['email']>, site: Site): Transport {
  const mailer = createTransport({ host: e.host, port: e.port, secure: e.secure, ...(e.user ? { auth: { user: e.user, pass: e.pass ?? '' } } : {}) });
  return async (n) => {
    await mailer.sendMail({ from: e.from, to: e.to, subject: titleOf(n, site.locale.language), text: plainText(n, site) });
  };
}
