/*
 * Syslog over a byte stream (TCP, TLS), RFC 6587: octet counting (§3.4.1, `MSG-LEN SP SYSLOG-MSG`,
 * the only framing RFC 5425 §4.3 allows over TLS) and non-transparent framing (§3.4.2, a trailer
 * of LF, also NUL as some senders use; a CR before the LF is dropped). Detected frame by frame as
 * rsyslog does: a frame that opens with a nonzero digit, up to 9 digits and a space is
 * octet-counted, anything else runs to the trailer. A syslog line opens with `<`, so nothing real is
 * misread. Memory is bounded by `maxFrame`: a longer frame is cut there, handed on marked as
 * truncated, and the rest of it skipped, never buffered.
 */

export interface Frame {
  data: Buffer;
  /** The frame was longer than `maxFrame` and this is its head. */
  truncated: boolean;
}

export interface FrameDecoderOptions {
  /** Largest frame kept, in bytes (64 KiB by default). */
  maxFrame?: number;
  onFrame: (frame: Frame) => void;
}

type State =
  | { kind: 'start' }
  /** Reading the MSG-LEN digits. */
  | { kind: 'count'; digits: string }
  /** Reading an octet-counted frame: `want` bytes in all, `skip` of them past maxFrame. */
  | { kind: 'octets'; want: number; truncated: boolean }
  | { kind: 'line'; truncated: boolean };

const LF = 0x0a;
const NUL = 0x00;
const SP = 0x20;

/** Length of `buf` without a trailing incomplete UTF-8 sequence, so a cut does not read as an invalid byte. */
function utf8Boundary(buf: Buffer): number {
  const n = buf.length;
  for (let p = n - 1; p >= Math.max(0, n - 4); p--) {
    const b = buf[p] as number;
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: look further back for its lead
    const need = (b & 0xe0) === 0xc0 ? 2 : (b & 0xf0) === 0xe0 ? 3 : (b & 0xf8) === 0xf0 ? 4 : 1;
    return p + need > n ? p : n;
  }
  return n;
}

/** A push decoder for one connection: feed it chunks, it calls `onFrame` for each complete frame. */
export class FrameDecoder {
  private readonly maxFrame: number;
  private state: State = { kind: 'start' };
  private parts: Buffer[] = [];
  private kept = 0;
  /** Bytes of the current octet-counted frame consumed so far (kept or skipped). */
  private seen = 0;

  constructor(private readonly o: FrameDecoderOptions) {
    this.maxFrame = o.maxFrame ?? 64 * 1024;
  }

  /** True while a frame is begun but not complete (an octet count not yet filled, a line without its LF). */
  get pending(): boolean {
    return this.state.kind !== 'start';
  }

  push(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      const st = this.state;
      if (st.kind === 'start') {
        const b = chunk[i] as number;
        if (b === LF || b === NUL || b === 0x0d) {
          i++; // empty frames between trailers
          continue;
        }
        this.state = b >= 0x31 && b <= 0x39 ? { kind: 'count', digits: '' } : { kind: 'line', truncated: false };
        continue;
      }
      if (st.kind === 'count') {
        const b = chunk[i] as number;
        if (b >= 0x30 && b <= 0x39 && st.digits.length < 9) {
          st.digits += String.fromCharCode(b);
          i++;
          continue;
        }
        if (b === SP && st.digits.length > 0) {
          i++;
          this.state = { kind: 'octets', want: Number(st.digits), truncated: false };
          this.seen = 0;
          continue;
        }
        // Digits that were no MSG-LEN: they open a newline-framed frame.
        this.state = { kind: 'line', truncated: false };
        this.keep(Buffer.from(st.digits, 'latin1'));
        continue;
      }
      if (st.kind === 'octets') {
        const take = Math.min(st.want - this.seen, chunk.length - i);
        const room = Math.max(0, this.maxFrame - this.kept);
        if (room > 0) this.keep(chunk.subarray(i, i + Math.min(take, room)));
        if (take > room) st.truncated = true;
        this.seen += take;
        i += take;
        if (this.seen >= st.want) this.emit(st.truncated);
        continue;
      }
      // Newline framing: up to the trailer.
      let end = i;
      while (end < chunk.length && chunk[end] !== LF && chunk[end] !== NUL) end++;
      const room = Math.max(0, this.maxFrame - this.kept);
      if (room > 0) this.keep(chunk.subarray(i, i + Math.min(end - i, room)));
      if (end - i > room) st.truncated = true;
      if (end < chunk.length) {
        this.emit(st.truncated);
        i = end + 1;
      } else i = end;
    }
  }

  /** The connection ended: a line without its trailer is still a frame (RFC 6587 §3.4.2); a short octet count is not. */
  end(): { lostBytes: number } {
    const st = this.state;
    let lostBytes = 0;
    if (st.kind === 'line' && this.kept > 0) this.emit(st.truncated);
    else if (st.kind === 'octets') lostBytes = this.seen;
    else if (st.kind === 'count') lostBytes = st.digits.length;
    this.reset();
    return { lostBytes };
  }

  private keep(b: Buffer): void {
    if (b.length === 0) return;
    this.parts.push(b);
    this.kept += b.length;
  }

  private emit(truncated: boolean): void {
    let data = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.kept);
    if (truncated) data = data.subarray(0, utf8Boundary(data));
    // Copy: a subarray would pin the socket's whole chunk while the line waits in the queue.
    const frame = Buffer.from(data);
    this.reset();
    if (frame.length > 0) this.o.onFrame({ data: frame, truncated });
  }

  private reset(): void {
    this.state = { kind: 'start' };
    this.parts = [];
    this.kept = 0;
    this.seen = 0;
  }
}
