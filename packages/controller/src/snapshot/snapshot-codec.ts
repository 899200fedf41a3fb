import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { createDeflateRaw, createInflateRaw } from 'node:zlib';
import { type BanDecision, type BucketPosition, DecodeError, type Offence, SNAPSHOT_PART_BYTES } from '@fleetban/shared';
import type { CapturedJail } from '../aggregate/jail-tracker.js';
import type { OffenceList } from '../store/ban-store-load.js';
import type { SeenCapture } from '../intake/seen-ids.js';
import { banColumns, offenceColumns, readBans, readOffences, windowColumns, WindowRows } from './snapshot-columns.js';
import { seenColumns, SeenRows } from './snapshot-seen.js';

/**
 * The snapshot format this controller writes. Version 1 held an array or object per item (not
 * read: a full rebuild instead); version 2 holds columns (snapshot-columns.ts) and the seen events'
 * ids; version 3 holds their keys (snapshot-seen.ts). Versions 2 and 3 are read.
 */
export const SNAPSHOT_VERSION = 3;

/** Versions read. */
const READ_VERSIONS: readonly unknown[] = [2, SNAPSHOT_VERSION];


/**
 * What the active controller holds, as of one point between two failures: enough for the next
 * controller to start without reading the whole stream and both buckets.
 */
export interface ControllerSnapshot {
  readonly createdMs: number;
  /** The last event (stream sequence) counted in it; every event up to it was acknowledged before it was stored. */
  readonly seq: number;
  /** Where the ban list stood just before it was taken: the changes after it are read at a restore. */
  readonly bansAt: BucketPosition;
  /** Where the history stood just before it was taken. */
  readonly historyAt: BucketPosition;
  readonly jails: readonly CapturedJail[];
  /** The events seen lately, oldest first (a redelivered one is not counted twice). */
  readonly seen: SeenCapture;
  /** Stored bans (those whose writes were in flight are in `unsure`). */
  readonly bans: readonly BanDecision[];
  /** Offences by history key (those of `unsure` targets left out). */
  readonly offences: OffenceList;
  /** Targets whose writes were in flight: read from the buckets at a restore. */
  readonly unsure: readonly string[];
}

/**
 * Items per line of each kind: one line is encoded between two turns of the event loop, each
 * about 1–2 ms on this 2-CPU machine (a decision waiting behind it waits that long).
 */
const PER_LINE = { w: 1_000, s: 10_000, b: 500, o: 1_000 } as const;

/**
 * The snapshot as parts of at most {@link SNAPSHOT_PART_BYTES} bytes: lines of JSON, the first
 * describing it, then the windows, seen ids, bans and offences in slices, one slice per turn of
 * the event loop (decisions go on while a large snapshot is encoded), deflated (level 1, in
 * node's thread pool: a snapshot is 5–10 times smaller, read and written that much faster).
 */
export async function* encodeSnapshot(s: ControllerSnapshot): AsyncGenerator<Buffer> {
  const deflate = createDeflateRaw({ level: 1 });
  const feeding = feed(deflate, s).catch((err: unknown) => void deflate.destroy(err as Error));
  let pending: Buffer[] = [];
  let size = 0;
  for await (const chunk of deflate as AsyncIterable<Buffer>) {
    pending.push(chunk);
    size += chunk.length;
    while (size >= SNAPSHOT_PART_BYTES) {
      const all = Buffer.concat(pending);
      yield all.subarray(0, SNAPSHOT_PART_BYTES);
      const rest = all.subarray(SNAPSHOT_PART_BYTES);
      pending = rest.length > 0 ? [rest] : [];
      size = rest.length;
    }
  }
  await feeding;
  if (size > 0) yield Buffer.concat(pending);
}

/** Writes the snapshot's lines into `to`, then ends it. */
async function feed(to: Writable, s: ControllerSnapshot): Promise<void> {
  const line = async (o: unknown) => {
    if (!to.write(`${JSON.stringify(o)}\n`)) await once(to, 'drain');
  };
  const { jails, seen, bans, offences, ...head } = s;
  await line({ k: 'head', v: SNAPSHOT_VERSION, ...head, seenSeeds: [...seen.seeds], jails: jails.map((j) => ({ name: j.name, totalFailed: j.totalFailed, totalBanned: j.totalBanned })) });
  /** A kind of line, its jail, how many items it has and the columns of items `from` to `to`. */
  type Part = [keyof typeof PER_LINE, number, number, (from: number, to: number) => Record<string, unknown>];
  const parts: Part[] = [
    ...jails.map((j, i): Part => ['w', i, j.addresses.length, (from, to) => windowColumns(j.addresses, from, to)]),
    ['s', 0, seen.hi.length, (from, to) => seenColumns(seen, from, to)],
    ['b', 0, bans.length, (from, to) => banColumns(bans.slice(from, to))],
    ['o', 0, offences.length, (from, to) => offenceColumns(offences.slice(from, to) as Array<readonly [string, Offence]>)],
  ];
  for (const [k, j, count, columns] of parts) {
    for (let i = 0; i < count; i += PER_LINE[k]) {
      await line({ k, j, ...columns(i, Math.min(count, i + PER_LINE[k])) });
      await yieldToLoop();
    }
    // a window read is released at once: while its capture is live the window keeps what it changes
    if (k === 'w') jails[j]?.addresses.release?.();
  }
  to.end();
}

/**
 * Reads what {@link encodeSnapshot} wrote, line by line as its parts arrive and are inflated;
 * throws {@link DecodeError} naming what is wrong (or what `parts` throws).
 */
export async function decodeSnapshot(parts: AsyncIterable<Uint8Array>): Promise<ControllerSnapshot> {
  const inflate = createInflateRaw({ chunkSize: 1 << 20 });
  const lines = new LineReader();
  const reading = (async () => {
    for await (const chunk of inflate as AsyncIterable<Buffer>) lines.take(chunk);
  })();
  try {
    for await (const part of parts) if (!inflate.write(part)) await once(inflate, 'drain');
    inflate.end();
  } catch (err) {
    // a line that does not decode ends the reading, and with it the writing: its error is the one
    inflate.destroy();
    const failed: unknown = await reading.then(() => undefined, (e: unknown) => e);
    if (failed instanceof DecodeError) throw failed;
    throw isZlibError(err) ? new DecodeError('snapshot: not deflated data', { cause: err }) : err;
  }
  try {
    await reading;
  } catch (cause) {
    if (cause instanceof DecodeError || !isZlibError(cause)) throw cause;
    throw new DecodeError('snapshot: not deflated data', { cause });
  }
  return lines.end();
}

/** Decodes lines as bytes come. */
class LineReader {
  #rest: Buffer | undefined;
  #head: Record<string, unknown> | undefined;
  /** Jails the head names. */
  #jails = 0;
  readonly #windows: WindowRows[] = [];
  readonly #seen = new SeenRows();
  readonly #bans: BanDecision[] = [];
  readonly #offences: Array<[string, Offence]> = [];

  take(chunk: Buffer): void {
    let start = 0;
    let end = chunk.indexOf(10);
    if (this.#rest) {
      // only the line cut between chunks is joined: joining the rest to the whole chunk (up to
      // 1 MiB) copied every byte of a snapshot once more, into fresh pages (about 0.15 s a start)
      if (end < 0) {
        this.#rest = Buffer.concat([this.#rest, chunk]);
        return;
      }
      this.#line(parseLine(Buffer.concat([this.#rest, chunk.subarray(0, end)]).toString('utf8')));
      start = end + 1;
      end = chunk.indexOf(10, start);
    }
    for (; end >= 0; end = chunk.indexOf(10, start)) {
      this.#line(parseLine(chunk.toString('utf8', start, end)));
      start = end + 1;
    }
    this.#rest = start < chunk.length ? chunk.subarray(start) : undefined;
  }

  #line(o: Record<string, unknown>): void {
    if (!this.#head) {
      if (o.k !== 'head' || !READ_VERSIONS.includes(o.v)) throw new DecodeError(`snapshot: not a version ${READ_VERSIONS.join(' or ')} snapshot`);
      this.#head = o;
      this.#jails = Array.isArray(o.jails) ? o.jails.length : 0;
      return;
    }
    if (o.k === 'w') {
      const j = o.j;
      if (!Number.isSafeInteger(j) || (j as number) < 0 || (j as number) >= this.#jails) throw new DecodeError('snapshot: a window of no jail');
      (this.#windows[j as number] ??= new WindowRows()).add(o);
    } else if (o.k === 's') this.#seen.add(o);
    else if (o.k === 'b') readBans(o, this.#bans);
    else if (o.k === 'o') readOffences(o, this.#offences);
    else throw new DecodeError(`snapshot: unknown line kind '${String(o.k)}'`);
  }

  end(): ControllerSnapshot {
    if (this.#rest) throw new DecodeError('snapshot: its last line is cut');
    const head = this.#head;
    if (!head) throw new DecodeError('snapshot: empty');
    const jails = head.jails;
    if (!Array.isArray(jails) || !isPosition(head.bansAt) || !isPosition(head.historyAt) || !Array.isArray(head.unsure) || !isCount(head.seq) || !isCount(head.createdMs)) {
      throw new DecodeError('snapshot: its first line lacks what it covers');
    }
    return {
      createdMs: head.createdMs as number,
      seq: head.seq as number,
      bansAt: head.bansAt as BucketPosition,
      historyAt: head.historyAt as BucketPosition,
      unsure: (head.unsure as unknown[]).filter((t): t is string => typeof t === 'string'),
      jails: jails.map((j: Record<string, unknown>, i: number) => {
        if (typeof j?.name !== 'string' || !isCount(j.totalFailed) || !isCount(j.totalBanned)) throw new DecodeError('snapshot: a jail without its name or totals');
        return { name: j.name, totalFailed: j.totalFailed as number, totalBanned: j.totalBanned as number, addresses: (this.#windows[i] ?? new WindowRows()).capture() };
      }),
      seen: this.#seen.capture(head.seenSeeds, (head.v as number) >= 3),
      bans: this.#bans,
      offences: this.#offences,
    };
  }
}

/** True for an error of node's zlib (its codes are Z_…: the bytes are not what deflate makes). */
function isZlibError(err: unknown): boolean {
  return typeof (err as { code?: unknown })?.code === 'string' && (err as { code: string }).code.startsWith('Z_');
}

function parseLine(text: string): Record<string, unknown> {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch (cause) {
    throw new DecodeError('snapshot: a line is not JSON', { cause });
  }
  if (typeof o !== 'object' || o === null) throw new DecodeError('snapshot: a line is not an object');
  return o as Record<string, unknown>;
}

function isCount(n: unknown): boolean {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

function isPosition(p: unknown): boolean {
  const o = p as Record<string, unknown>;
  return typeof o === 'object' && o !== null && isCount(o.revision) && typeof o.created === 'string';
}
