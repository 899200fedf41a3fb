import { isUtf8 } from 'node:buffer';
import type { LineDecoder } from './line-decoder.js';

/** Counters shared by every splitter of one source. */
export interface LineCounters {
  /** Lines delivered. */
  lines: number;
  /** Lines skipped: longer than the maximum, or binary (containing NUL bytes). */
  skipped: number;
  /** Lines delivered with bytes the encoding could not decode (replaced by U+FFFD). */
  undecodable: number;
}

/** What a splitter needs. */
export interface LineSplitterOptions {
  /** Longest line delivered, in bytes (a trailing `\r` not counted). */
  readonly maxLineBytes: number;
  readonly decoder: LineDecoder;
  readonly counters: LineCounters;
  /**
   * Receives each line's text and `end`, the stream offset just after the line's `\n` (offsets as
   * given to {@link LineSplitter.push}; after {@link LineSplitter.flush}, the end of the stream).
   * Must not throw.
   */
  readonly onLine: (text: string, end: number) => void;
  /** Told why a line was skipped (for a debug log). */
  readonly onSkip?: (why: 'too long' | 'binary') => void;
}

const NL = 0x0a;
const CR = 0x0d;

/**
 * Cuts a byte stream into lines at `\n` (dropping a trailing `\r`), one instance per stream.
 * Bytes of an unfinished line are kept until its newline arrives; a line longer than the
 * maximum is discarded as it streams (never held) and counted, as is a line with a NUL byte
 * (binary junk). Empty lines are not delivered. The hot path is `indexOf` on the caller's
 * buffer and one string per line.
 */
export class LineSplitter {
  readonly #o: LineSplitterOptions;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** Inside a line already longer than the maximum: discard until the next newline. */
  #overlong = false;
  /** Bytes of the unfinished line seen so far (kept or discarded). */
  #partial = 0;
  /** Stream offset of the first byte of the current push. */
  #base = 0;
  /** Stream offset just after the last byte pushed. */
  #end = 0;

  constructor(o: LineSplitterOptions) {
    this.#o = o;
  }

  /** Bytes consumed since the start of the unfinished line: the stream position of that start is `pos - partialBytes`. */
  get partialBytes(): number {
    return this.#partial;
  }

  /**
   * Splits bytes [0, n) of `buf` (which the caller may reuse afterwards); `at` is the stream offset
   * of `buf[0]` (only used to tell each line's end offset).
   */
  push(buf: Buffer, n: number, at = 0): void {
    const max = this.#o.maxLineBytes;
    this.#base = at;
    this.#end = at + n;
    let lastNl = buf.lastIndexOf(NL, n - 1);
    if (lastNl < 0) {
      this.#keep(buf, 0, n);
      return;
    }
    const valid = this.#o.decoder.utf8 ? isUtf8(buf.subarray(0, lastNl)) : true;
    let start = 0;
    let nul = -2; // the next NUL at or after `start` within [0, n), -1 for none; -2 unknown
    while (start <= lastNl) {
      const nl = buf.indexOf(NL, start);
      if (this.#overlong) {
        this.#skip('too long');
      } else if (this.#pendingBytes > 0) {
        if (this.#pendingBytes + (nl - start) > max + 1) this.#skip('too long'); // +1: room for a '\r'
        else {
          const line = Buffer.concat([...this.#pending, buf.subarray(start, nl)]);
          this.#emit(line, 0, line.length, line.indexOf(0), false, nl);
        }
      } else {
        if (nul === -2 || (nul >= 0 && nul < start)) {
          nul = buf.indexOf(0, start);
          if (nul >= n) nul = -1;
        }
        this.#emit(buf, start, nl, nul, valid, nl);
      }
      this.#dropPartial();
      start = nl + 1;
    }
    if (start < n) this.#keep(buf, start, n);
  }

  /** Delivers an unfinished last line as a line (the file is finished). */
  flush(): void {
    if (this.#overlong) this.#skip('too long');
    else if (this.#pendingBytes > 0) {
      const line = Buffer.concat(this.#pending, this.#pendingBytes);
      this.#emit(line, 0, line.length, line.indexOf(0), false, this.#end - this.#base - 1); // ends at the stream's end
    }
    this.#dropPartial();
  }

  /** Forgets an unfinished line (the stream restarts elsewhere). */
  reset(): void {
    this.#dropPartial();
  }

  /**
   * Delivers bytes [s, e) of `b`; `nul` is the first NUL at or after `s` (or -1); `valid`: known
   * valid UTF-8; `nl`: where its `\n` is in the current push.
   */
  #emit(b: Buffer, s: number, e: number, nul: number, valid: boolean, nl: number): void {
    if (e > s && b[e - 1] === CR) e--;
    if (e - s > this.#o.maxLineBytes) return this.#skip('too long');
    if (nul >= s && nul < e) return this.#skip('binary');
    if (e === s) return; // empty lines carry nothing to match
    const c = this.#o.counters;
    c.lines++;
    const d = this.#o.decoder;
    let text: string;
    if (d.utf8) {
      if (!valid && !isUtf8(b.subarray(s, e))) c.undecodable++;
      text = b.toString('utf8', s, e);
    } else {
      const r = d.decode(b, s, e);
      if (r.bad) c.undecodable++;
      text = r.text;
    }
    this.#o.onLine(text, this.#base + nl + 1);
  }

  /** Keeps bytes [s, n) of `buf` as (part of) the unfinished line. */
  #keep(buf: Buffer, s: number, n: number): void {
    this.#partial += n - s;
    if (this.#overlong) return;
    if (this.#pendingBytes + (n - s) > this.#o.maxLineBytes + 1) {
      this.#pending = [];
      this.#pendingBytes = 0;
      this.#overlong = true;
      return;
    }
    this.#pending.push(Buffer.from(buf.subarray(s, n))); // copy: the caller reuses its buffer
    this.#pendingBytes += n - s;
  }

  #skip(why: 'too long' | 'binary'): void {
    this.#o.counters.skipped++;
    this.#o.onSkip?.(why);
  }

  #dropPartial(): void {
    if (this.#pendingBytes > 0) this.#pending = [];
    this.#pendingBytes = 0;
    this.#partial = 0;
    this.#overlong = false;
  }
}
