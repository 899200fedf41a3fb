/**
 * Bytes → text for one `logencoding`. UTF-8 (the default, and fail2ban's `auto` on any modern
 * system) and Latin-1 use Node's fast paths; any other ASCII-compatible WHATWG encoding
 * (`windows-1252`, `iso-8859-15`, `shift_jis`, ...) goes through `TextDecoder`. Encodings whose
 * newline is not the byte `0x0a` (UTF-16, UTF-32) cannot be split by byte and are refused.
 */
export interface LineDecoder {
  /** The canonical encoding name (`utf-8`, `latin1`, `windows-1252`, ...). */
  readonly name: string;
  /** True for UTF-8: the splitter decodes with `Buffer.toString('utf8')` and checks validity itself. */
  readonly utf8: boolean;
  /** Decodes bytes [s, e) of `b`; `bad` when some bytes could not be decoded (replaced by U+FFFD). */
  decode(b: Buffer, s: number, e: number): { text: string; bad: boolean };
}

const UTF8: LineDecoder = {
  name: 'utf-8',
  utf8: true,
  decode: (b, s, e) => ({ text: b.toString('utf8', s, e), bad: false }),
};

const LATIN1: LineDecoder = {
  name: 'latin1',
  utf8: false,
  decode: (b, s, e) => ({ text: b.toString('latin1', s, e), bad: false }),
};

/** Thrown by {@link lineDecoder} for an unknown or unusable encoding (the caller names the key). */
export class UnknownEncodingError extends Error {}

/**
 * The decoder for a `logencoding` value (case-insensitive; Python's spellings such as `latin-1`
 * and `utf_8` are accepted). Throws {@link UnknownEncodingError}.
 */
export function lineDecoder(encoding: string): LineDecoder {
  const label = encoding.trim().toLowerCase().replace(/_/g, '-');
  if (label === 'auto' || label === 'utf-8' || label === 'utf8') return UTF8;
  if (label === 'latin-1' || label === 'latin1' || label === 'iso-8859-1' || label === 'iso8859-1' || label === 'l1') return LATIN1;
  let strict: TextDecoder;
  let lenient: TextDecoder;
  try {
    strict = new TextDecoder(label, { fatal: true });
    lenient = new TextDecoder(label);
  } catch {
    throw new UnknownEncodingError(encoding);
  }
  // TextDecoder maps latin1/ascii labels to windows-1252, a superset: fine for logs
  if (strict.encoding.startsWith('utf-16') || strict.encoding === 'utf-32') throw new UnknownEncodingError(encoding);
  if (strict.encoding === 'utf-8') return UTF8;
  return {
    name: strict.encoding,
    utf8: false,
    decode(b, s, e) {
      const bytes = b.subarray(s, e);
      try {
        return { text: strict.decode(bytes), bad: false };
      } catch {
        return { text: lenient.decode(bytes), bad: true };
      }
    },
  };
}

/** The default decoder (UTF-8). */
export const utf8Decoder: LineDecoder = UTF8;
