/**
 * A slice of a window's rows in binary (snapshot format version 4), written into a buffer reused
 * from one slice to the next and read back without JSON.
 *
 * The payload of a 'W' frame, every number little-endian:
 * ```
 * u32 jail index, u32 rows, u32 where the host table starts (from the payload's start)
 * rows, each:   u8 key kind: 0 = IPv4, then its u32 value; 1 = text, then u32 length + UTF-8
 *               u32 failures n, n × f64 times (epoch ms, exact), n × u32 host (index into the table)
 *               u32 lines m, m × (u32 length + UTF-8): the window's record of them (line-arena.ts)
 * host table:   u32 count, each host u32 length + UTF-8 (the hosts of this frame's failures)
 * ```
 * Version 3 wrote these as JSON: for 200,000 addresses the encoder made an address string and two
 * arrays per row and the columns' arrays and JSON text (about 60 MB of garbage a save), and
 * stringified them, on the thread that decides.
 */
import { copyRow, DecodeError, recordLength, RowCopy, WindowCapture } from '@fleetban/shared';
import type { CapturedAddresses } from '../aggregate/jail-tracker.js';
import type { WindowRows } from './snapshot-window-rows.js';

/** The kinds of frame: the head ('H'), a JSON item ('J'), a window's rows ('W'). */
export const FRAME_KIND = { head: 0x48, json: 0x4a, window: 0x57 } as const;

/** Bytes of a frame's kind and length, before its payload. */
export const FRAME_HEAD_BYTES = 5;

/** A frame's payload holds at most this many bytes (a reader refuses a longer length). */
export const MAX_FRAME_BYTES = 64 * 2 ** 20;

/** A window frame ends after this many rows, or after the first row that takes it past {@link WINDOW_FRAME_BYTES}. */
const FRAME_ROWS = 1_000;
const WINDOW_FRAME_BYTES = 256 * 1024;

/** Rows between two checks of a frame's size. */
const ROWS_PER_CHECK = 25;

/**
 * One frame being written: [kind u8][length u32][payload], in a buffer that grows and is reused.
 * The writes do not check for room: the writer makes room first ({@link room}), once per row.
 */
export class FrameBuffer {
  #b: Buffer & Utf8Writable;
  #v: DataView;
  /** Bytes written. */
  at = 0;
  /** Settles once what was last sent from this buffer is consumed (the buffer may then be overwritten). */
  consumed: Promise<void> = Promise.resolve();

  constructor(bytes = 512 * 1024) {
    this.#b = Buffer.allocUnsafe(bytes) as Buffer & Utf8Writable;
    this.#v = new DataView(this.#b.buffer, this.#b.byteOffset, this.#b.length);
  }

  /** Starts a frame of `kind`. */
  begin(kind: number): void {
    this.at = 0;
    this.room(FRAME_HEAD_BYTES);
    this.u8(kind);
    this.u32(0);
  }

  /** The frame, its length filled in: a view of this buffer, valid until the next {@link begin}. */
  finish(): Buffer {
    const length = this.at - FRAME_HEAD_BYTES;
    if (length > MAX_FRAME_BYTES) throw new RangeError(`a snapshot frame of ${length} bytes is over the ${MAX_FRAME_BYTES} a reader takes`);
    this.#v.setUint32(1, length, true);
    return this.#b.subarray(0, this.at);
  }

  /** Makes room for `n` more bytes. */
  room(n: number): void {
    if (this.at + n <= this.#b.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.#b.length * 2, this.at + n)) as Buffer & Utf8Writable;
    this.#b.copy(grown, 0, 0, this.at);
    this.#b = grown;
    this.#v = new DataView(grown.buffer, grown.byteOffset, grown.length);
  }

  /** Writes a byte. */
  u8(v: number): void {
    this.#v.setUint8(this.at++, v);
  }

  /** Writes an unsigned 32-bit integer, little-endian. */
  u32(v: number): void {
    this.#v.setUint32(this.at, v, true);
    this.at += 4;
  }

  /** Sets the u32 at `at` (written before). */
  u32At(at: number, v: number): void {
    this.#v.setUint32(at, v, true);
  }

  /** Writes a float64, little-endian. */
  f64(v: number): void {
    this.#v.setFloat64(this.at, v, true);
    this.at += 8;
  }

  /** Writes `length` bytes of `from` from `at`, as they are. */
  bytes(from: Buffer, at: number, length: number): void {
    from.copy(this.#b, this.at, at, at + length);
    this.at += length;
  }

  /** `s` as UTF-8 (room for {@link textRoom} bytes made), after its length (u32) unless `bare`. */
  text(s: string, bare = false): void {
    const prefix = bare ? 0 : 4;
    const n = this.#b.utf8Write(s, this.at + prefix);
    if (!bare) this.#v.setUint32(this.at, n, true);
    this.at += prefix + n;
  }
}

/**
 * A Buffer's own UTF-8 writer, which `write(s, at, 'utf8')` calls after checking its arguments and
 * looking up the encoding (about a third of the time of writing a line): present in every node
 * release, not in its typings.
 */
interface Utf8Writable {
  utf8Write(s: string, at: number): number;
}

/** Bytes {@link FrameBuffer.text} may write for `s`, its length included. */
function textRoom(s: string): number {
  return 4 + s.length * 3;
}

/** What a window frame's writer reuses from one frame to the next. */
export class WindowFrameWriter {
  readonly #row = new RowCopy();
  readonly #hostAt = new Map<string, number>();
  readonly #hosts: string[] = [];
  #into: FrameBuffer | undefined;
  readonly #write = (r: RowCopy) => this.#writeRow(r);

  /** Writes rows of jail `j`'s window from `from` on into `into` as one frame; returns where the next frame starts. */
  write(into: FrameBuffer, j: number, addresses: CapturedAddresses, from: number): number {
    this.#into = into;
    this.#hostAt.clear();
    this.#hosts.length = 0;
    into.begin(FRAME_KIND.window);
    into.room(12);
    into.u32(j);
    const rowsAt = into.at;
    into.u32(0);
    into.u32(0);
    const end = Math.min(addresses.length, from + FRAME_ROWS);
    let i = from;
    while (i < end && into.at < WINDOW_FRAME_BYTES) {
      const to = Math.min(end, i + ROWS_PER_CHECK);
      if (addresses instanceof WindowCapture) addresses.eachCopy(this.#row, this.#write, i, to);
      else for (const a of addresses.slice(i, to)) this.#writeRow(copyRow(a.ip, a.times, a.sources, a.matches, this.#row));
      i = to;
    }
    // the rows written are not read again: the window need not keep them when they change
    if (addresses instanceof WindowCapture) addresses.passed(i);
    into.u32At(rowsAt, i - from);
    into.u32At(rowsAt + 4, into.at - FRAME_HEAD_BYTES);
    into.room(4);
    into.u32(this.#hosts.length);
    for (const h of this.#hosts) (into.room(textRoom(h)), into.text(h));
    this.#into = undefined;
    return i;
  }

  #writeRow(r: RowCopy): void {
    const b = this.#into as FrameBuffer;
    const n = r.count;
    const lines = r.lines;
    b.room(13 + n * 12 + (r.text === undefined ? 4 : textRoom(r.text)) + r.linesLength);
    if (r.text === undefined) {
      b.u8(0);
      b.u32(r.v4);
    } else {
      b.u8(1);
      b.text(r.text);
    }
    b.u32(n);
    for (let k = 0; k < n; k++) b.f64(r.times[k] as number);
    for (let k = 0; k < n; k++) {
      const host = r.sources[k] as string;
      let h = this.#hostAt.get(host);
      if (h === undefined) this.#hostAt.set(host, (h = this.#hosts.push(host) - 1));
      b.u32(h);
    }
    if (lines === undefined) b.u32(0);
    else b.bytes(lines, r.linesAt, r.linesLength);
  }
}

/** Reads a frame's payload, each read checked against what is left (a DecodeError naming it). */
class FrameCursor {
  at: number;
  constructor(private readonly b: Buffer, private readonly what: string, at: number, private readonly end: number) {
    this.at = at;
  }

  /** Throws unless `n` more bytes are left. */
  need(n: number): void {
    if (n > this.end - this.at) throw new DecodeError(`snapshot: ${this.what} is cut`);
  }

  u8(): number {
    this.need(1);
    return this.b[this.at++] as number;
  }

  u32(): number {
    this.need(4);
    const v = this.b.readUInt32LE(this.at);
    this.at += 4;
    return v;
  }

  text(): string {
    const n = this.u32();
    this.need(n);
    const s = this.b.toString('utf8', this.at, this.at + n);
    this.at += n;
    return s;
  }
}

/** What a window frame's reader reuses from one row to the next. */
const scratch = { times: new Float64Array(1024), sources: [] as string[] };

/** Reads a 'W' frame's payload into its jail's rows (`windowOf` names them; a DecodeError when they do not decode). */
export function readWindowFrame(p: Buffer, windowOf: (j: number) => WindowRows): void {
  const head = new FrameCursor(p, 'a window frame', 0, p.length);
  const into = windowOf(head.u32());
  const rows = head.u32();
  const hostsAt = head.u32();
  if (hostsAt < head.at || hostsAt > p.length) throw new DecodeError('snapshot: a window frame\'s host table is not in it');
  const table = new FrameCursor(p, 'a window frame\'s host table', hostsAt, p.length);
  const count = table.u32();
  table.need(count * 4);
  const hosts = new Array<string>(count);
  for (let i = 0; i < count; i++) hosts[i] = table.text();
  if (table.at !== p.length) throw new DecodeError('snapshot: a window frame has bytes after its host table');
  const r = new FrameCursor(p, 'a window frame\'s rows', head.at, hostsAt);
  for (let i = 0; i < rows; i++) {
    const kind = r.u8();
    if (kind > 1) throw new DecodeError(`snapshot: a window row's key of unknown kind ${kind}`);
    const v4 = kind === 0 ? r.u32() : -1;
    const text = kind === 0 ? undefined : r.text();
    const n = r.u32();
    r.need(n * 12);
    if (scratch.times.length < n) scratch.times = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const t = p.readDoubleLE(r.at + k * 8);
      if (!Number.isFinite(t)) throw new DecodeError('snapshot: a window failure time is not a number');
      scratch.times[k] = t;
    }
    r.at += n * 8;
    for (let k = 0; k < n; k++) {
      const h = r.u32();
      if (h >= count) throw new DecodeError('snapshot: a window failure\'s host is not in its table');
      scratch.sources[k] = hosts[h] as string;
    }
    const lines = recordLength(p, r.at, hostsAt);
    if (lines < 0) throw new DecodeError('snapshot: a window frame\'s rows is cut');
    into.push(v4, text, n, scratch.times, scratch.sources, 0, p.subarray(r.at, r.at + lines));
    r.at += lines;
  }
  if (r.at !== hostsAt) throw new DecodeError('snapshot: a window frame has bytes after its rows');
}
