/**
 * What every snapshot format decodes into: its head (JSON), its items as they come (windows, seen
 * keys, bans and offences), and at the end the {@link ControllerSnapshot} they make. The formats
 * differ only in how the items are framed (snapshot-lines.ts: versions 2 and 3;
 * snapshot-frames.ts: version 4).
 */
import { type BanDecision, type BucketPosition, DecodeError, type Offence } from '@fleetban/shared';
import type { CapturedJail } from '../aggregate/jail-tracker.js';
import type { SeenCapture } from '../intake/seen-ids.js';
import type { OffenceList } from '../store/ban-store-load.js';
import { readBans, readOffences, readWindowColumns } from './snapshot-columns.js';
import { SeenRows } from './snapshot-seen.js';
import { WindowRows } from './snapshot-window-rows.js';

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

/** Gathers a snapshot's head and items, then makes the snapshot (DecodeError when they do not fit). */
export class SnapshotReader {
  #head: Record<string, unknown> | undefined;
  /** Jails the head names. */
  #jails = 0;
  readonly #windows: WindowRows[] = [];
  readonly #seen = new SeenRows();
  readonly #bans: BanDecision[] = [];
  readonly #offences: Array<[string, Offence]> = [];

  /** @param versions the versions this framing holds */
  constructor(private readonly versions: readonly number[]) {}

  /** Whether the head was read. */
  get started(): boolean {
    return this.#head !== undefined;
  }

  /** Takes the head: the first line or frame. */
  head(o: Record<string, unknown>): void {
    if (o.k !== 'head' || !this.versions.includes(o.v as number)) throw new DecodeError(`snapshot: not a version ${this.versions.join(' or ')} snapshot`);
    this.#head = o;
    this.#jails = Array.isArray(o.jails) ? o.jails.length : 0;
  }

  /** Takes an item of JSON: a slice of a window's columns (versions 2, 3), of seen keys, bans or offences. */
  item(o: Record<string, unknown>): void {
    if (o.k === 'w' && this.#head?.v !== 4) readWindowColumns(o, this.window(o.j));
    else if (o.k === 's') this.#seen.add(o);
    else if (o.k === 'b') readBans(o, this.#bans);
    else if (o.k === 'o') readOffences(o, this.#offences);
    else throw new DecodeError(`snapshot: unknown line kind '${String(o.k)}'`);
  }

  /** The rows of jail `j`'s window (a DecodeError when the head names no such jail). */
  window(j: unknown): WindowRows {
    if (!Number.isSafeInteger(j) || (j as number) < 0 || (j as number) >= this.#jails) throw new DecodeError('snapshot: a window of no jail');
    return (this.#windows[j as number] ??= new WindowRows());
  }

  /** The snapshot read. */
  end(): ControllerSnapshot {
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

/** `text` as a JSON object, else a DecodeError. */
export function parseObject(text: string): Record<string, unknown> {
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
