/**
 * A failure event read straight from its bytes, for the controller's intake (every failure of the
 * fleet passes through it). protobufjs's generated decoder makes a Reader and a message object per
 * event and reads each string through a method; this reads the encoding fleetban's own encoder
 * writes (one-byte tags, the known fields with their wire types, ASCII strings, a time of at most
 * seven varint bytes) in one pass, and gives up on anything else (an unknown or repeated-as-other-
 * type field, a longer varint, a non-ASCII string, bytes cut short): the caller then decodes with
 * protobufjs, which checks and reports as before. What it returns is what protobufjs would have
 * decoded from the same bytes (test: packages/shared/test/failure-fast.test.ts, against it).
 */

/** The fields of a FailureEvent as protobufjs's decoder leaves them, absent strings as '' (the schema apart). */
export interface FailureFields {
  id: string;
  host: string;
  jail: string;
  ip: string;
  timeMs: number;
  user: string;
  line: string;
}

const latin1Slice = Buffer.prototype.latin1Slice as (this: Uint8Array, start: number, end: number) => string;

/** Wire type of a varint field, and of a length-delimited one. */
const VARINT = 0;
const BYTES = 2;

/**
 * The fields of `b`, its schema version in `schema.value`; undefined when it is not in the plain
 * encoding this reads. The object returned is the caller's (the decoded event, once checked).
 */
export function readFailureFast(b: Uint8Array, schema: { value: number }): FailureFields | undefined {
  const f: FailureFields = { id: '', host: '', jail: '', ip: '', timeMs: 0, user: '', line: '' };
  schema.value = 0;
  const end = b.length;
  let pos = 0;
  while (pos < end) {
    const tag = b[pos++] as number;
    if (tag & 0x80) return undefined; // a tag of more than one byte
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (wireType === VARINT) {
      if (field !== 1 && field !== 6) return undefined;
      // at most 7 bytes (49 bits): the value is exact as a number, and positive, as int64 reads it
      let value = 0;
      let scale = 1;
      let k = 0;
      for (; ; k++) {
        if (k === 7 || pos >= end) return undefined;
        const byte = b[pos++] as number;
        value += (byte & 0x7f) * scale;
        if (byte < 0x80) break;
        scale *= 128;
      }
      if (field === 1) {
        if (k > 0) return undefined; // a schema past 127: protobufjs's uint32 rules
        schema.value = value;
      } else f.timeMs = value;
    } else if (wireType === BYTES) {
      let length = 0;
      let scale = 1;
      for (let k = 0; ; k++) {
        if (k === 4 || pos >= end) return undefined;
        const byte = b[pos++] as number;
        length += (byte & 0x7f) * scale;
        if (byte < 0x80) break;
        scale *= 128;
      }
      const start = pos;
      pos += length;
      if (pos > end) return undefined;
      for (let i = start; i < pos; i++) if ((b[i] as number) & 0x80) return undefined;
      const s = length === 0 ? '' : latin1Slice.call(b, start, pos);
      switch (field) {
        case 2: f.id = s; break;
        case 3: f.host = s; break;
        case 4: f.jail = s; break;
        case 5: f.ip = s; break;
        case 7: f.user = s; break;
        case 8: f.line = s; break;
        default: return undefined;
      }
    } else return undefined;
  }
  return f;
}
