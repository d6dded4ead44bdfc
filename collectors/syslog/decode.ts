/*
 * Bytes to text. RFC 5424 §6.4 asks for UTF-8 (RFC 3164 senders often write Latin-1): invalid
 * sequences become U+FFFD and are counted, the line is kept. A frame that is mostly control
 * characters or undecodable bytes is no log line at all (a scanner, a fuzzer, a TLS hello sent to
 * the plain port): it is counted as garbage and dropped.
 */
import { isUtf8 } from 'node:buffer';

export interface DecodedFrame {
  text: string;
  invalidUtf8: boolean;
  garbage: boolean;
}

/** Control characters other than TAB, CR and LF, DEL, and the replacement character. */
function isNoise(c: number): boolean {
  return (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f || c === 0xfffd;
}

/** Decodes one frame; `garbage` when more than one character in eight is noise (and at least four are). */
export function decodeFrame(buf: Buffer): DecodedFrame {
  const invalidUtf8 = !isUtf8(buf);
  const text = buf.toString('utf8');
  let noise = 0;
  for (let i = 0; i < text.length; i++) if (isNoise(text.charCodeAt(i))) noise++;
  return { text, invalidUtf8, garbage: noise >= 4 && noise * 8 > text.length };
}
