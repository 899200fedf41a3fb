/**
 * The intake's seen-event keys in a snapshot: a slice of them is one line of two base64 columns
 * (each key's high and low 32 bits, little-endian), the seeds in the snapshot's first line.
 * Version 2 snapshots held the ids themselves; they are turned into keys when read.
 */
import { endianness } from 'node:os';
import { DecodeError } from '@fleetban/shared';
import { keyPair, newSeeds, type SeenCapture } from '../intake/seen-ids.js';

/** Keys `from` to `to` (excluded) of `c` as a line's columns. */
export function seenColumns(c: SeenCapture, from: number, to: number): Record<string, unknown> {
  return { h: base64Of(c.hi, from, to), l: base64Of(c.lo, from, to) };
}

/** True on a little-endian machine: words are then copied as bytes, not one by one. */
const LITTLE_ENDIAN = endianness() === 'LE';

/** Gathers the keys of the lines read, then the capture they make. */
export class SeenRows {
  readonly #hi: Uint32Array[] = [];
  readonly #lo: Uint32Array[] = [];
  /** Ids of a version 2 snapshot. */
  readonly #ids: string[] = [];

  /** Takes a line (`h` and `l` columns, or a version 2 line's `x` ids); a DecodeError when it is neither. */
  add(o: Record<string, unknown>): void {
    if (Array.isArray(o.x)) {
      for (const id of o.x) if (typeof id === 'string') this.#ids.push(id);
      return;
    }
    const hi = wordsOf(o.h);
    const lo = wordsOf(o.l);
    if (!hi || !lo || hi.length !== lo.length) throw new DecodeError(`snapshot: an 's' line without its keys`);
    this.#hi.push(hi);
    this.#lo.push(lo);
  }

  /**
   * The keys read, with `seeds` from the first line (`keyed`: version 3 on); before version 3, new
   * seeds and the keys of the ids read, each of the host its id begins with (agents make ids
   * `host:jail:…`). A version 3 head without seeds is damaged: refused, not read as no keys.
   */
  capture(seeds: unknown, keyed: boolean): SeenCapture {
    if (keyed) {
      if (!isSeeds(seeds)) throw new DecodeError('snapshot: the seen keys\' seeds do not decode');
      return { seeds, hi: joinedWords(this.#hi), lo: joinedWords(this.#lo) };
    }
    const made = newSeeds();
    const hi = new Uint32Array(this.#ids.length);
    const lo = new Uint32Array(this.#ids.length);
    const key = new Uint32Array(2);
    this.#ids.forEach((id, i) => {
      keyPair(id.slice(0, Math.max(0, id.indexOf(':'))), id, made, key);
      hi[i] = key[0] as number;
      lo[i] = key[1] as number;
    });
    return { seeds: made, hi, lo };
  }
}

function isSeeds(v: unknown): v is [number, number] {
  return Array.isArray(v) && v.length === 2 && v.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32);
}

function base64Of(words: ArrayLike<number>, from: number, to: number): string {
  if (LITTLE_ENDIAN && words instanceof Uint32Array) return Buffer.from(words.buffer, words.byteOffset + from * 4, (to - from) * 4).toString('base64');
  const b = Buffer.allocUnsafe((to - from) * 4);
  for (let i = from; i < to; i++) b.writeUInt32LE(words[i] as number, (i - from) * 4);
  return b.toString('base64');
}

function wordsOf(v: unknown): Uint32Array | undefined {
  if (typeof v !== 'string') return undefined;
  const b = Buffer.from(v, 'base64');
  if (b.length % 4 !== 0) return undefined;
  const out = new Uint32Array(b.length / 4);
  if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(b);
  else for (let i = 0; i < out.length; i++) out[i] = b.readUInt32LE(i * 4);
  return out;
}

/** The chunks as one array. */
function joinedWords(chunks: readonly Uint32Array[]): Uint32Array {
  const out = new Uint32Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
