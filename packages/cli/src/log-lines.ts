/**
 * The lines of a log file for `fleetban regex`, read synchronously in large chunks (no stream,
 * no per-line allocation but the line itself): each line is handed over with its "\n" (the
 * filter engine's `processLineNl` searches that text without copying it), trailing "\r" removed,
 * a last line without "\n" given one. Bytes are decoded as UTF-8 (invalid sequences become U+FFFD).
 */

import { isAscii } from 'node:buffer';
import { closeSync, openSync, readSync } from 'node:fs';

/** Bytes read at a time (pieces are at most this long unless a line is longer). */
export const CHUNK = 1 << 20;
const NL = 0x0a;
const CR = 13;

/** `lineNl` (ending with "\n") without the "\r"s before its "\n". */
function stripCr(lineNl: string): string {
  let end = lineNl.length - 1;
  if (lineNl.charCodeAt(end - 1) !== CR) return lineNl;
  while (end > 0 && lineNl.charCodeAt(end - 1) === CR) end--;
  return `${lineNl.slice(0, end)}\n`;
}

/** How a piece of a log is decoded: ASCII (most logs) as Latin-1, a plain copy, to the same text. */
export type PieceEncoding = 'latin1' | 'utf8';

/** The text of a piece of a log (see {@link forEachText}): `bytes` decoded, "\n" added when they do not end with one. */
export function textOf(bytes: Uint8Array, encoding: PieceEncoding): string {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(encoding);
  return bytes[bytes.length - 1] === NL ? text : `${text}\n`;
}

/**
 * Calls `each` with the text of the file at `path` in pieces of whole lines (about a megabyte,
 * the first about `first` bytes), in order, each ending with "\n" (a last line without one is
 * given one), with the piece's bytes (valid during the call only) and how they were decoded:
 * `text` is `textOf(bytes, encoding)`. Throws the fs error (ENOENT, EISDIR ...).
 */
export function forEachText(path: string, each: (text: string, bytes: Buffer, encoding: PieceEncoding) => void, first = CHUNK): void {
  const fd = openSync(path, 'r');
  try {
    let buf = Buffer.allocUnsafe(CHUNK);
    let have = 0;
    let limit = Math.min(first, CHUNK);
    for (;;) {
      if (have === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, have);
        buf = bigger;
      }
      const n = readSync(fd, buf, have, (limit > have ? limit : buf.length) - have, null);
      limit = 0;
      if (n === 0) break;
      const end = have + n;
      const lastNl = buf.lastIndexOf(NL, end - 1);
      if (lastNl < have) {
        have = end;
        continue;
      }
      const bytes = buf.subarray(0, lastNl + 1);
      const encoding = isAscii(bytes) ? 'latin1' : 'utf8';
      each(textOf(bytes, encoding), bytes, encoding);
      have = end - lastNl - 1;
      buf.copy(buf, 0, lastNl + 1, end);
    }
    if (have > 0) {
      const bytes = buf.subarray(0, have);
      each(textOf(bytes, 'utf8'), bytes, 'utf8');
    }
  } finally {
    closeSync(fd);
  }
}

/** Calls `each` with every line of `text` (whole lines, see {@link forEachText}), each ending with "\n". */
export function forEachLineIn(text: string, each: (lineNl: string) => void): void {
  for (let start = 0; start < text.length;) {
    const nl = text.indexOf('\n', start);
    each(stripCr(text.slice(start, nl + 1)));
    start = nl + 1;
  }
}

/** Calls `each` with every line of the file at `path`, in order, each ending with "\n". Throws the fs error (ENOENT, EISDIR ...). */
export function forEachLine(path: string, each: (lineNl: string) => void): void {
  forEachText(path, (text) => forEachLineIn(text, each));
}
