/**
 * The matched lines a failure window keeps per address (the evidence of a ban): the newest, at
 * most maxmatches of them and at most a number of bytes. They are held as records of a
 * {@link LineArena} (line-arena.ts).
 */

/**
 * `held` (the lines kept, oldest first; changed and returned) with `line` after them, less the
 * oldest beyond `max` lines or `maxBytes` bytes of UTF-8 (never the newest).
 */
export function withLine(held: string[], line: string, max: number, maxBytes: number): string[] {
  held.push(line);
  if (held.length > max) held.splice(0, held.length - max);
  let chars = 0;
  for (const l of held) chars += l.length;
  if (chars * 3 > maxBytes) {
    // a UTF-16 code unit is at most 3 bytes of UTF-8: only then are the bytes counted
    let bytes = 0;
    for (const l of held) bytes += Buffer.byteLength(l, 'utf8');
    while (bytes > maxBytes && held.length > 1) bytes -= Buffer.byteLength(held.shift() as string, 'utf8');
  }
  return held;
}

/**
 * `s` in one piece, for keeping. protobufjs decodes a short string that is not ASCII (ASCII is one
 * piece, proto/flat-strings.ts) partly 8 characters at a time (`str += …`): kept as those pieces,
 * a 50-character string costs about 500 bytes instead of 75. Reading a character of such a string
 * makes V8 join it; the garbage collector drops the pieces.
 */
export function joined(s: string): string {
  s.charCodeAt(0);
  return s;
}
