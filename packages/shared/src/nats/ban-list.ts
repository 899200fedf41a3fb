import type { KV, KvWatchEntry } from '@nats-io/kv';
import { openBucket } from './kv-manager.js';
import { bucketPosition, type BucketPosition, decodedValues, PASS_STALL_MS, readSince } from './kv-tail.js';
import type { CreateOptions } from './replicas.js';
import { type ResumeOptions, watchResuming } from './resuming-watch.js';
import type { NatsConnection } from '@nats-io/transport-node';
import { NatsError } from '../errors.js';
import { BANS_BUCKET, banKey, HISTORY_BUCKET, targetOfBanKey } from '../subjects.js';
import { decodeBan, encodeBan } from '../proto/codec.js';
import type { BanDecision } from '../model/ban.js';

/** A change of the ban list as seen by a watcher. */
export type BanChange =
  | { readonly kind: 'put'; readonly ban: BanDecision }
  | { readonly kind: 'delete'; readonly target: string };

/** What a watcher is told. `initial` marks the end of the current values (then updates follow). */
export interface BanListWatch {
  /** Called with every change; `initial` is true for the values present when the watch began. */
  onChange(change: BanChange, initial: boolean): void;
  /** Called once when every value present at the start has been delivered. */
  onInitialized(): void;
  /** A value that does not decode (counted, logged by the caller). */
  onMalformed(key: string, cause: unknown): void;
  /** The watch had stalled and was replaced by one starting at `fromRevision` (logged by the caller). */
  onResume?(fromRevision: number, lastRevision: number): void;
}

/**
 * The fleet's active ban list: a JetStream KV bucket, key = the target (see `banKey`), value = the
 * encoded {@link BanDecision}. The controller writes it; agents watch it.
 */
export class BanList {
  private constructor(private readonly kv: KV) {}

  /**
   * How long a JetStream API request on the list may take: creating the consumer of a whole-list
   * read makes the server count the last values of every key, seconds for a million on a busy
   * server (the client's default, 5 s, failed there).
   */
  static readonly API_TIMEOUT_MS = 60_000;

  /**
   * Opens the bans bucket. With `create` (the controller) it is created when missing; without
   * (agents: hosts may not create streams) it must exist already, which is checked with a stream
   * info request (allowed to hosts), so a missing bucket fails here rather than at the first watch.
   * `opts` (the controller's) sets the replica count of a bucket created and may shorten the API
   * timeout.
   */
  static async open(nc: NatsConnection, create = true, opts?: BanListOptions): Promise<BanList> {
    const hint = create ? '' : '(not created by the controller yet?)';
    return new BanList(await openBucket(nc, BANS_BUCKET, { ...opts, create, apiTimeoutMs: opts?.apiTimeoutMs ?? BanList.API_TIMEOUT_MS, hint }));
  }

  /** Stores a decision (replacing any previous one for the same target). */
  async put(ban: BanDecision): Promise<void> {
    await this.kv.put(banKey(ban.ip), encodeBan(ban));
  }

  /** Entries in the bucket (deleted keys included until purged). */
  async size(): Promise<number> {
    return (await this.kv.status()).values;
  }

  /** Where the list stands (its last revision), for {@link changesSince}. */
  position(): Promise<BucketPosition> {
    return bucketPosition(this.kv, BANS_BUCKET);
  }

  /**
   * Every target whose entry changed after revision `after`, once, with its entry now (a ban, or
   * gone), in one pass up to the last revision when called: what a copy of the list made at
   * `after` lacks. A value that does not decode is told to `onMalformed` and skipped.
   */
  async *changesSince(after: number, onMalformed: (key: string, cause: unknown) => void = () => undefined): AsyncGenerator<BanChange> {
    for await (const e of readSince(this.kv, BANS_BUCKET, after)) {
      if (e.operation !== 'PUT') {
        yield { kind: 'delete', target: targetOfBanKey(e.key) };
        continue;
      }
      try {
        yield { kind: 'put', ban: decodeBan(e.value) };
      } catch (cause) {
        onMalformed(e.key, cause);
      }
    }
  }

  /** Removes a target's ban. */
  async remove(target: string): Promise<void> {
    await this.kv.delete(banKey(target));
  }

  /** A target's stored decision (one KV get), or null when it has none; expired ones included. */
  async get(target: string): Promise<BanDecision | null> {
    let e: Awaited<ReturnType<KV['get']>>;
    try {
      e = await this.kv.get(banKey(target));
    } catch (cause) {
      throw new NatsError(`cannot read ${target} from KV bucket ${BANS_BUCKET}`, { cause });
    }
    return e && e.operation === 'PUT' ? decodeBan(e.value) : null;
  }

  /**
   * Every decision stored when called, in one pass over the bucket (one ordered push consumer of
   * the last value per key, the kind a host may create), yielded one at a time as they arrive, so
   * a reader of a million bans never holds them all (the client may still queue what arrives
   * faster than it is consumed). Expired ones are included: callers filter by
   * time. A value that does not decode is skipped and told to `onMalformed` (which may throw to
   * stop). Throws {@link NatsError} when the bucket cannot be read, when the connection ends
   * the pass before the last entry, or when nothing comes for {@link PASS_STALL_MS} while the
   * caller waits for the next (a consumer stalled by the loss of the bucket's leader). Values
   * written during the pass may or may not be seen.
   */
  async *entries(onMalformed: (key: string, cause: unknown) => void = () => undefined): AsyncGenerator<BanDecision> {
    yield* decodedValues(this.kv, BANS_BUCKET, decodeBan, onMalformed);
  }

  /**
   * Every decision currently stored (expired ones included: callers filter by time), read in one
   * pass ({@link entries}); throws {@link DecodeError} at a value that does not decode.
   */
  async all(): Promise<BanDecision[]> {
    const out: BanDecision[] = [];
    for await (const b of this.entries((_key, cause) => {
      throw cause;
    })) out.push(b);
    return out;
  }

  /**
   * Follows the list: first the current values, then every change, until `stop()` is called.
   * Reconnection is handled by the client (the watch resumes where it was); a watch that stalls
   * (its consumer lost with a cluster node) is replaced by one resuming at the next revision
   * ({@link watchResuming}, told to `w.onResume`).
   */
  async watch(w: BanListWatch, opts: Pick<ResumeOptions, 'checkMs'> = {}): Promise<{ stop(): void }> {
    const before = (await this.kv.status()).values;
    let initial = before > 0;
    if (!initial) w.onInitialized();
    return watchResuming(
      this.kv,
      (e) => {
        const wasInitial = initial;
        if (initial && e.isUpdate) initial = false;
        const change = toChange(e, w);
        if (change) w.onChange(change, wasInitial);
        if (wasInitial && !initial) w.onInitialized();
      },
      { ...opts, onResume: w.onResume, what: `the watch of KV bucket ${BANS_BUCKET}` },
    );
  }
}

function toChange(e: KvWatchEntry, w: BanListWatch): BanChange | null {
  if (e.operation !== 'PUT') return { kind: 'delete', target: targetOfBanKey(e.key) };
  try {
    return { kind: 'put', ban: decodeBan(e.value) };
  } catch (cause) {
    w.onMalformed(e.key, cause);
    return null;
  }
}

/** A (jail, target)'s ban history: how often it was banned and when (bantime.increment, recidive, purge). */
export interface Offence {
  /** The last ban's number (1 for a first ban): fail2ban's `bancount`. */
  readonly count: number;
  readonly lastBanMs: number;
  /**
   * Failures at or before this time were already dealt with (they happened before or during the
   * last ban): the ban's expiry, or the time it was lifted early; MAX_SAFE_INTEGER while permanent.
   */
  readonly clearedAtMs: number;
  /**
   * When the last ban ended: its expiry, or the time it was lifted early; MAX_SAFE_INTEGER while
   * permanent. The history is purged `dbpurgeage` after it.
   */
  readonly endsMs: number;
  /** Starts of the most recent fleet-wide threshold bans, oldest first (at most RECENT_BANS_KEPT): what recidive counts. */
  readonly banTimesMs: readonly number[];
}

/** The stored text of an offence: `count last cleared ends t1,t2,...` (`-` for no times). */
export function encodeOffence(o: Offence): string {
  return `${o.count} ${o.lastBanMs} ${o.clearedAtMs} ${o.endsMs} ${o.banTimesMs.length > 0 ? o.banTimesMs.join(',') : '-'}`;
}

/**
 * Reads {@link encodeOffence}'s text, and the older three-field form (`count last cleared`: the
 * end is then taken as `cleared`, or the ban's start when nothing was cleared). Null when malformed.
 */
export function decodeOffence(text: string): Offence | null {
  const parts = text.split(' ');
  if (parts.length !== 3 && parts.length !== 5) return null;
  const [count, last, cleared] = parts.slice(0, 3).map(Number) as [number, number, number];
  if (![count, last, cleared].every(Number.isFinite)) return null;
  if (parts.length === 3) return { count, lastBanMs: last, clearedAtMs: cleared, endsMs: cleared > 0 ? cleared : last, banTimesMs: [] };
  const ends = Number(parts[3]);
  const times = parts[4] === '-' ? [] : (parts[4] as string).split(',').map(Number);
  if (!Number.isFinite(ends) || !times.every(Number.isFinite)) return null;
  return { count, lastBanMs: last, clearedAtMs: cleared, endsMs: ends, banTimesMs: times };
}

/** How {@link BanList.open} opens the list. */
export interface BanListOptions extends CreateOptions {
  /**
   * The JetStream API timeout of the list's requests; default {@link BanList.API_TIMEOUT_MS}
   * (60 s, for whole-list reads). A controller reopening the list after a failed write uses a
   * short one: on a cluster that lost a node, a request sent while the bucket has no leader gets
   * no answer, and a long timeout would hold every ban that long.
   */
  readonly apiTimeoutMs?: number;
}

/** Ban history per (jail, target), kept in its own KV bucket so it survives controller restarts. */
export class OffenceHistory {
  private constructor(private readonly kv: KV) {}

  /** Opens (creating if needed, with `opts`' replica count) the history bucket. */
  static async open(nc: NatsConnection, opts?: CreateOptions): Promise<OffenceHistory> {
    return new OffenceHistory(await openBucket(nc, HISTORY_BUCKET, { ...opts, create: true }));
  }

  /** Every stored offence, keyed `<jail>.<banKey>` (malformed values are skipped), in one pass. */
  async load(): Promise<Map<string, Offence>> {
    const out = new Map<string, Offence>();
    for await (const [k, o] of this.changesSince(0)) if (o) out.set(k, o);
    return out;
  }

  /** Where the history stands (its last revision), for {@link changesSince}. */
  position(): Promise<BucketPosition> {
    return bucketPosition(this.kv, HISTORY_BUCKET);
  }

  /**
   * Every key changed after revision `after`, once, with its offence now (null: forgotten, or a
   * value that does not decode), in one pass up to the last revision when called.
   */
  async *changesSince(after: number): AsyncGenerator<[string, Offence | null]> {
    const text = new TextDecoder();
    for await (const e of readSince(this.kv, HISTORY_BUCKET, after)) yield [e.key, e.operation === 'PUT' ? decodeOffence(text.decode(e.value)) : null];
  }

  /** Records an offence. */
  async save(key: string, o: Offence): Promise<void> {
    await this.kv.put(key, encodeOffence(o));
  }

  /** Forgets an offence (dbpurgeage). Purged, not only marked deleted: the bucket does not grow with old keys. */
  async remove(key: string): Promise<void> {
    await this.kv.purge(key);
  }
}
