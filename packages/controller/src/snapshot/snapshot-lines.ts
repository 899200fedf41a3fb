/**
 * Snapshot format versions 2 and 3: lines of JSON, the head first, then a slice of a window, of
 * the seen keys, of the bans or of the offences per line, as columns (snapshot-columns.ts). Read
 * as they were; version 3 is still written on request (tests, comparisons), version 4 by default
 * (snapshot-frames.ts), which keeps the head, seen keys, bans and offences as these same objects.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { DecodeError, type Offence } from '@fleetban/shared';
import { banColumns, offenceColumns, windowColumns } from './snapshot-columns.js';
import { type ControllerSnapshot, parseObject, SnapshotReader } from './snapshot-reader.js';
import { seenColumns } from './snapshot-seen.js';

/**
 * Items per slice of each kind: one slice is encoded between two turns of the event loop, each
 * about 1–2 ms on this 2-CPU machine (a decision waiting behind it waits that long).
 */
export const PER_SLICE = { w: 1_000, s: 10_000, b: 500, o: 1_000 } as const;

/** The head's object: what the snapshot covers, its version, its jails' names and totals. */
export function headOf(s: ControllerSnapshot, version: number): Record<string, unknown> {
  const { jails, seen, bans, offences, ...head } = s;
  return { k: 'head', v: version, ...head, seenSeeds: [...seen.seeds], jails: jails.map((j) => ({ name: j.name, totalFailed: j.totalFailed, totalBanned: j.totalBanned })) };
}

/** The seen keys', bans' and offences' slices as objects, one at a time (each made when asked for). */
export function* itemSlices(s: ControllerSnapshot): Generator<Record<string, unknown>> {
  const { seen, bans, offences } = s;
  for (let i = 0; i < seen.hi.length; i += PER_SLICE.s) yield { k: 's', j: 0, ...seenColumns(seen, i, Math.min(seen.hi.length, i + PER_SLICE.s)) };
  for (let i = 0; i < bans.length; i += PER_SLICE.b) yield { k: 'b', j: 0, ...banColumns(bans.slice(i, i + PER_SLICE.b)) };
  for (let i = 0; i < offences.length; i += PER_SLICE.o) yield { k: 'o', j: 0, ...offenceColumns(offences.slice(i, i + PER_SLICE.o) as Array<readonly [string, Offence]>) };
}

/** Writes the snapshot as version 3 lines into `to`, a slice per turn of the event loop, then ends it. */
export async function writeLines(to: Writable, s: ControllerSnapshot): Promise<void> {
  const line = async (o: unknown) => {
    if (!to.write(`${JSON.stringify(o)}\n`)) await once(to, 'drain');
  };
  await line(headOf(s, 3));
  for (const [j, jail] of s.jails.entries()) {
    for (let i = 0; i < jail.addresses.length; i += PER_SLICE.w) {
      await line({ k: 'w', j, ...windowColumns(jail.addresses, i, Math.min(jail.addresses.length, i + PER_SLICE.w)) });
      await yieldToLoop();
    }
    // a window read is released at once: while its capture is live the window keeps what it changes
    jail.addresses.release?.();
  }
  for (const o of itemSlices(s)) {
    await line(o);
    await yieldToLoop();
  }
  to.end();
}

/** Decodes lines as inflated bytes come. */
export class LineReader {
  #rest: Buffer | undefined;
  readonly #read = new SnapshotReader([2, 3]);

  /** Takes inflated bytes and reads each line they complete (a DecodeError when one does not decode). */
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
      this.#line(parseObject(Buffer.concat([this.#rest, chunk.subarray(0, end)]).toString('utf8')));
      start = end + 1;
      end = chunk.indexOf(10, start);
    }
    for (; end >= 0; end = chunk.indexOf(10, start)) {
      this.#line(parseObject(chunk.toString('utf8', start, end)));
      start = end + 1;
    }
    this.#rest = start < chunk.length ? chunk.subarray(start) : undefined;
  }

  #line(o: Record<string, unknown>): void {
    if (this.#read.started) this.#read.item(o);
    else this.#read.head(o);
  }

  /** The snapshot read, once every byte was taken (a DecodeError when it is cut or incomplete). */
  end(): ControllerSnapshot {
    if (this.#rest) throw new DecodeError('snapshot: its last line is cut');
    return this.#read.end();
  }
}
