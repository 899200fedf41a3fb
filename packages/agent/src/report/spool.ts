import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Logger } from '@fleetban/shared';

/** Bytes read from a segment at once. */
const READ_BLOCK = 1 << 20;

/** A place in the spool: segment number and byte offset in it. */
export interface SpoolPos {
  readonly seg: number;
  readonly off: number;
}

/** One record read back, with the position just after it (what to {@link Spool.ack}). */
export interface SpoolRecord {
  readonly data: Uint8Array;
  readonly end: SpoolPos;
}

const HEADER = 8; // u32 length, u32 crc32
const SEG_NAME = /^(\d{16})\.seg$/;

/**
 * A bounded first-in first-out queue of records on disk, under `<state_dir>/spool`: segment files
 * `<16 digits>.seg` of records (u32le length, u32le CRC-32, bytes), and `head`, the position up to
 * which records are acknowledged. Appends are written at once (synchronously, no fsync: a record
 * survives the agent's crash, not the machine's); a record torn by a crash fails its CRC and ends
 * the spool there. Segments wholly acknowledged are deleted. {@link bytes} counts what is not
 * acknowledged yet, including appends not yet on disk (a disk error keeps them in memory and
 * retries; the owner stops reading logs while that grows, see failure-reporter.ts).
 */
export class Spool {
  readonly dir: string;
  readonly #log: Logger;
  readonly #segMax: number;
  #segs: number[] = [];
  #head: SpoolPos = { seg: 0, off: 0 };
  #fd: number | null = null;
  #writeSeg = 0;
  #writeOff = 0;
  #unwritten: Buffer[] = [];
  #unwrittenBytes = 0;
  #bytes = 0;
  #count = 0;
  #failing = false;
  #headDirty = false;

  constructor(stateDir: string, maxBytes: number, logger: Logger) {
    this.dir = join(stateDir, 'spool');
    this.#log = logger;
    this.#segMax = Math.min(4 << 20, Math.max(64 << 10, Math.floor(maxBytes / 8)));
    this.#load();
  }

  /** Bytes not acknowledged yet (on disk or waiting to be written). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Records not acknowledged yet. */
  get count(): number {
    return this.#count;
  }

  /** Bytes that could not be written to disk yet (a disk error): kept in memory. */
  get unwrittenBytes(): number {
    return this.#unwrittenBytes;
  }

  /** Where reading starts: the first record not acknowledged. */
  get head(): SpoolPos {
    return this.#head;
  }

  /** Appends records (written to disk before returning, unless the disk fails). */
  append(records: readonly Uint8Array[]): void {
    for (const r of records) {
      const b = Buffer.allocUnsafe(HEADER + r.length);
      b.writeUInt32LE(r.length, 0);
      b.writeUInt32LE(crc32(r), 4);
      b.set(r, HEADER);
      this.#unwritten.push(b);
      this.#unwrittenBytes += b.length;
      this.#bytes += b.length;
      this.#count++;
    }
    this.flush();
  }

  /** Writes what is waiting in memory; on a disk error keeps it and logs once. Returns true when all is on disk. */
  flush(): boolean {
    while (this.#unwritten.length > 0) {
      try {
        if (this.#fd === null || this.#writeOff >= this.#segMax) this.#nextSegment();
        const chunk = Buffer.concat(this.#unwritten);
        writeSync(this.#fd as number, chunk);
        this.#writeOff += chunk.length;
        this.#unwritten = [];
        this.#unwrittenBytes = 0;
        if (this.#failing) this.#log.info({ dir: this.dir }, 'spool writable again');
        this.#failing = false;
      } catch (err) {
        if (!this.#failing) this.#log.error({ err, dir: this.dir, waiting: this.#unwrittenBytes }, 'cannot write the spool; holding failures in memory and slowing reading');
        this.#failing = true;
        this.#closeFd();
        return false;
      }
    }
    return true;
  }

  /** Reads up to `max` records starting at `from` (only what is on disk). */
  async read(from: SpoolPos, max: number): Promise<SpoolRecord[]> {
    const out: SpoolRecord[] = [];
    let pos = from;
    for (const seg of this.#segs) {
      if (seg < pos.seg) continue;
      if (seg > pos.seg) pos = { seg, off: 0 };
      const fh = await open(this.#segPath(seg), 'r').catch(() => null);
      if (!fh) continue;
      try {
        const size = seg === this.#writeSeg ? this.#writeOff : (await fh.stat()).size;
        // whole blocks at a time: one read for many records, not two per record; a block grows to
        // hold a record longer than itself
        let want = READ_BLOCK;
        read: while (pos.off + HEADER <= size && out.length < max) {
          const block = Buffer.allocUnsafe(Math.min(want, size - pos.off));
          const { bytesRead } = await fh.read(block, 0, block.length, pos.off);
          let at = 0;
          while (at + HEADER <= bytesRead && out.length < max) {
            const len = block.readUInt32LE(at);
            if (at + HEADER + len > bytesRead) break;
            const data = block.subarray(at + HEADER, at + HEADER + len);
            if (crc32(data) !== block.readUInt32LE(at + 4)) {
              this.#log.warn({ seg, off: pos.off + at }, 'spool record damaged (torn by a crash?); skipping the rest of that segment');
              break read;
            }
            at += HEADER + len;
            out.push({ data, end: { seg, off: pos.off + at } });
          }
          if (at === 0) {
            const len = block.readUInt32LE(0);
            if (pos.off + HEADER + len > size) break; // a torn tail
            want = HEADER + len;
          } else {
            want = READ_BLOCK;
          }
          pos = { seg, off: pos.off + at };
        }
      } finally {
        await fh.close();
      }
      if (out.length >= max) break;
    }
    return out;
  }

  /** Acknowledges every record before `to` (which came from {@link read}): deletes finished segments. */
  ack(to: SpoolPos, records: number): void {
    this.#bytes = Math.max(0, this.#bytes - this.#distance(this.#head, to));
    this.#count = Math.max(0, this.#count - records);
    this.#head = to;
    this.#headDirty = true;
    while (this.#segs.length > 1 && (this.#segs[0] as number) < to.seg) {
      rmSync(this.#segPath(this.#segs.shift() as number), { force: true });
    }
    if (this.#count === 0 && this.#unwritten.length === 0) this.#clear();
  }

  /** Writes the acknowledged position (cheap; call at a steady pace and at stop). */
  saveHead(): void {
    if (!this.#headDirty) return;
    try {
      mkdirSync(this.dir, { recursive: true });
      writeFileSync(join(this.dir, 'head.tmp'), `${this.#head.seg} ${this.#head.off}\n`);
      renameSync(join(this.dir, 'head.tmp'), join(this.dir, 'head'));
      this.#headDirty = false;
    } catch (err) {
      this.#log.warn({ err }, 'cannot save the spool head');
    }
  }

  /** Writes what it can and the head; closes the file. */
  close(): void {
    this.flush();
    this.saveHead();
    this.#closeFd();
  }

  #distance(a: SpoolPos, b: SpoolPos): number {
    if (a.seg === b.seg) return b.off - a.off;
    let d = 0;
    for (const seg of this.#segs) {
      if (seg < a.seg || seg > b.seg) continue;
      const size = seg === this.#writeSeg ? this.#writeOff : sizeOf(this.#segPath(seg));
      d += (seg === b.seg ? b.off : size) - (seg === a.seg ? a.off : 0);
    }
    return d;
  }

  /** Everything acknowledged: remove the segments, start afresh. */
  #clear(): void {
    this.#closeFd();
    for (const seg of this.#segs) rmSync(this.#segPath(seg), { force: true });
    rmSync(join(this.dir, 'head'), { force: true });
    this.#segs = [];
    this.#head = { seg: 0, off: 0 };
    this.#headDirty = false;
    this.#bytes = 0;
  }

  #nextSegment(): void {
    this.#closeFd();
    mkdirSync(this.dir, { recursive: true });
    const seg = (this.#segs[this.#segs.length - 1] ?? 0) + 1;
    this.#fd = openSync(this.#segPath(seg), 'a');
    this.#segs.push(seg);
    this.#writeSeg = seg;
    this.#writeOff = fstatSync(this.#fd).size;
    if (this.#segs.length === 1) this.#head = { seg, off: 0 };
  }

  #closeFd(): void {
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
  }

  #segPath(seg: number): string {
    return join(this.dir, `${String(seg).padStart(16, '0')}.seg`);
  }

  /** Reads what a previous run left: segments, head; counts records, cuts a torn tail. */
  #load(): void {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return;
    }
    this.#segs = names.map((n) => SEG_NAME.exec(n)?.[1]).filter((s): s is string => s !== undefined).map(Number).sort((a, b) => a - b);
    try {
      const [seg, off] = readFileSync(join(this.dir, 'head'), 'utf8').trim().split(' ').map(Number);
      if (seg !== undefined && off !== undefined && this.#segs.includes(seg)) this.#head = { seg, off };
      else if (this.#segs[0] !== undefined) this.#head = { seg: this.#segs[0], off: 0 };
    } catch {
      if (this.#segs[0] !== undefined) this.#head = { seg: this.#segs[0], off: 0 };
    }
    for (const seg of [...this.#segs]) if (seg < this.#head.seg) rmSync(this.#segPath(seg), { force: true });
    this.#segs = this.#segs.filter((s) => s >= this.#head.seg);
    for (const seg of this.#segs) {
      const buf = readFileSync(this.#segPath(seg));
      let off = seg === this.#head.seg ? this.#head.off : 0;
      while (off + HEADER <= buf.length) {
        const len = buf.readUInt32LE(off);
        if (off + HEADER + len > buf.length || crc32(buf.subarray(off + HEADER, off + HEADER + len)) !== buf.readUInt32LE(off + 4)) break;
        off += HEADER + len;
        this.#count++;
      }
      this.#bytes += off - (seg === this.#head.seg ? this.#head.off : 0);
      // appends go to a new segment: a torn tail stays behind, unread; the whole records before it are read
      this.#writeSeg = seg;
      this.#writeOff = off;
    }
    if (this.#count === 0) this.#clear();
    else this.#log.info({ records: this.#count, bytes: this.#bytes }, 'spool holds failures from a previous run; sending them first');
  }
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
