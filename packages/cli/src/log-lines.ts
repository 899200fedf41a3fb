/**
 * The lines of a log file for `fleetban regex`, read synchronously in large chunks (no stream,
 * no per-line allocation but the line itself): split on "\n", trailing "\r" removed, a last line
 * without "\n" included. Bytes are decoded as UTF-8 (invalid sequences become U+FFFD).
 */

import { closeSync, openSync, readSync } from 'node:fs';

const CHUNK = 1 << 20;
const NL = 0x0a;

function stripCr(line: string): string {
  let end = line.length;
  while (end > 0 && line.charCodeAt(end - 1) === 13) end--;
  return end === line.length ? line : line.slice(0, end);
}

/** Calls `each` with every line of the file at `path`, in order. Throws the fs error (ENOENT, EISDIR ...). */
export function forEachLine(path: string, each: (line: string) => void): void {
  const fd = openSync(path, 'r');
  try {
    let buf = Buffer.allocUnsafe(CHUNK);
    let have = 0;
    for (;;) {
      if (have === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, have);
        buf = bigger;
      }
      const n = readSync(fd, buf, have, buf.length - have, null);
      if (n === 0) break;
      const end = have + n;
      const lastNl = buf.lastIndexOf(NL, end - 1);
      if (lastNl < have) {
        have = end;
        continue;
      }
      const lines = buf.toString('utf8', 0, lastNl).split('\n');
      for (let i = 0; i < lines.length; i++) each(stripCr(lines[i] as string));
      have = end - lastNl - 1;
      buf.copy(buf, 0, lastNl + 1, end);
    }
    if (have > 0) each(stripCr(buf.toString('utf8', 0, have)));
  } finally {
    closeSync(fd);
  }
}
