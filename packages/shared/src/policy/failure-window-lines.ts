/**
 * The matched lines a failure window keeps per address (the evidence of a ban), in the
 * form that costs least: nothing, one string (the usual case), or an array of two or more, oldest
 * first. A kept array is never changed: a new line makes a new one.
 */

/** An address's kept lines. */
export type KeptLines = string | string[] | undefined;

/** The lines of `kept`, in a new array. */
export function linesOf(kept: KeptLines): string[] {
  return kept === undefined ? [] : typeof kept === 'string' ? [kept] : kept.slice();
}

/** How `lines` are kept (an array of two or more is kept as it is). */
export function keptLines(lines: string[]): KeptLines {
  return lines.length === 0 ? undefined : lines.length === 1 ? lines[0] : lines;
}

/**
 * The lines of `kept` and `line` after them, in a new array, less the oldest beyond `max` lines or
 * `maxBytes` bytes of UTF-8 (never the newest).
 */
export function withLine(kept: KeptLines, line: string, max: number, maxBytes: number): string[] {
  const held = kept === undefined ? 0 : typeof kept === 'string' ? 1 : kept.length;
  const lines = new Array<string>(held + 1);
  if (typeof kept === 'string') lines[0] = kept;
  else for (let k = 0; k < held; k++) lines[k] = (kept as string[])[k] as string;
  lines[held] = joined(line);
  while (lines.length > max) lines.shift();
  let chars = 0;
  for (const l of lines) chars += l.length;
  if (chars * 3 > maxBytes) {
    // a UTF-16 code unit is at most 3 bytes of UTF-8: only then are the bytes counted
    let bytes = 0;
    for (const l of lines) bytes += Buffer.byteLength(l, 'utf8');
    while (bytes > maxBytes && lines.length > 1) bytes -= Buffer.byteLength(lines.shift() as string, 'utf8');
  }
  return lines;
}

/**
 * `s` in one piece, for keeping. protobufjs decodes a short string that is not ASCII (ASCII is one
 * piece, proto/flat-strings.ts) partly 8 characters at a time (`str += …`): kept as those pieces,
 * a 50-character line costs about 500 bytes instead of 75. Reading a character of such a string
 * makes V8 join it; the garbage collector drops the pieces.
 */
export function joined(s: string): string {
  s.charCodeAt(0);
  return s;
}
