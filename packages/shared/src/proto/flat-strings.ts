import { createRequire } from 'node:module';

/** The part of protobufjs's Reader that reading a string uses. */
interface StringReader {
  buf: Uint8Array;
  pos: number;
  len: number;
  size(): number;
  stringVerify(): string;
}

const latin1Slice = Buffer.prototype.latin1Slice as (this: Uint8Array, start: number, end: number) => string;

/**
 * Makes protobufjs read ASCII strings as one flat string each. Its strict reader (every proto3
 * string field) builds a string shorter than its decoder threshold 8 characters at a time
 * (`str += String.fromCharCode(…)`): a failure's line became a chain of pieces, about 480 bytes
 * of garbage per failure at the controller, and a kept line cost about 500 bytes until joined.
 * ASCII (nearly every log line, address and name) is now one native copy; anything else, and a
 * length past the end, goes to protobufjs's own reader, which checks and reports as before.
 * Done once, before the first message is decoded.
 */
export function readFlatStrings(): void {
  const reader = (createRequire(import.meta.url)('protobufjs/minimal') as { Reader: { prototype: StringReader } }).Reader.prototype;
  const strict = reader.stringVerify;
  if ((strict as { flat?: boolean }).flat) return;
  const flat = function (this: StringReader): string {
    const at = this.pos;
    const length = this.size();
    const start = this.pos;
    const end = start + length;
    const buf = this.buf;
    if (end <= this.len) {
      let ascii = true;
      for (let i = start; i < end; i++) {
        if ((buf[i] as number) & 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) {
        this.pos = end;
        return latin1Slice.call(buf, start, end);
      }
    }
    this.pos = at;
    return strict.call(this);
  };
  reader.stringVerify = Object.assign(flat, { flat: true });
}
