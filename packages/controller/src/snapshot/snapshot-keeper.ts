import { performance } from 'node:perf_hooks';
import { type Clock, controllerAckFloor, type Logger, type NatsConnection, type ReplayStart, type SnapshotStream } from '@fleetban/shared';
import type { CapturedJail, JailTrackers } from '../aggregate/jail-tracker.js';
import type { EventIntake } from '../intake/event-intake.js';
import type { Renewal } from '../lease/controller-lease.js';
import type { CounterSet } from '../metrics/counter-set.js';
import type { BanStore } from '../store/ban-store.js';
import { type ControllerSnapshot, encodeSnapshot } from './snapshot-codec.js';

/** How long a snapshot waits for the consumer to acknowledge every event it counts, in ms. */
const ACK_WAIT_MS = 10_000;

/** How often that is checked, in ms. */
const ACK_POLL_MS = 50;

/** What a snapshot is taken of. */
export interface SnapshotSources {
  readonly nc: NatsConnection;
  readonly intake: Pick<EventIntake, 'handledSeq' | 'seenCapture'>;
  readonly trackers: Pick<JailTrackers, 'capture'>;
  readonly store: Pick<BanStore, 'positions' | 'capture'>;
  readonly counters: CounterSet;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * Where the event replay of a start begins: after the snapshot's last event when its windows can
 * be used, which are then restored into `trackers` (and its seen ids into `intake`); else at
 * `sinceMs` (the longest findtime ago). Windows older than that, or counting events the consumer
 * has not acknowledged (the stream or the consumer was made anew since), are not used.
 */
export async function restoreWindows(
  s: ControllerSnapshot | undefined,
  to: { readonly nc: NatsConnection; readonly trackers: Pick<JailTrackers, 'restore'>; readonly intake: Pick<EventIntake, 'remember'>; readonly logger: Logger },
  sinceMs: number,
): Promise<ReplayStart> {
  if (!s || s.createdMs < sinceMs) return { sinceMs };
  const floor = await controllerAckFloor(to.nc);
  if (floor < s.seq) {
    to.logger.warn({ seq: s.seq, ackFloor: floor }, 'snapshot counts events the stream does not hold as handled: windows rebuilt from the stream');
    return { sinceMs };
  }
  to.trackers.restore(s.jails);
  to.intake.remember(s.seen);
  return { afterSeq: s.seq };
}

/**
 * Saves the active controller's state to the snapshot stream every `intervalMs` when it changed,
 * and once more when it stops. A snapshot is taken between two failures (windows, seen ids, bans
 * and offences copied at once, after reading where the buckets stand), then stored only once the
 * consumer has acknowledged every event it counts, so the next controller replays exactly the
 * events after it. A snapshot that cannot be stored is counted (`snapshots.failed`) and logged;
 * the previous one stays the latest.
 */
export class SnapshotKeeper {
  #timer: NodeJS.Timeout | undefined;
  #saving: Promise<boolean> | undefined;
  /** What the last snapshot saved covered (nothing new: none is taken). */
  #last = '';
  /** `startedFrom`: the snapshot this controller started from (the same state is not saved again). */
  constructor(
    private readonly stream: SnapshotStream,
    private readonly from: SnapshotSources,
    private readonly intervalMs: number,
    startedFrom?: ControllerSnapshot,
  ) {
    if (startedFrom) this.#last = coverage(startedFrom.seq, startedFrom);
  }

  /**
   * Saves every interval from now on (none when the interval is 0), but not while `lease` is not
   * renewed: another controller may be active and saving.
   */
  start(lease?: Renewal): void {
    if (this.intervalMs <= 0) return;
    this.#timer = setInterval(() => lease?.renewed !== false && void this.save(), this.intervalMs);
    this.#timer.unref();
  }

  /** Stops saving; with `final`, saves once more (the state at a clean stop) and resolves after it. */
  async stop(final: boolean): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#saving;
    if (final && this.intervalMs > 0) await this.save();
  }

  /** Takes and stores a snapshot unless one is being saved or nothing changed; true when one was stored. */
  save(): Promise<boolean> {
    this.#saving ??= this.#save().finally(() => {
      this.#saving = undefined;
    });
    return this.#saving;
  }

  async #save(): Promise<boolean> {
    const f = this.from;
    const started = performance.now();
    let jails: readonly CapturedJail[] = [];
    try {
      const at = await f.store.positions();
      const seq = f.intake.handledSeq;
      const covers = coverage(seq, at);
      if (covers === this.#last) return false;
      const copyAt = performance.now();
      jails = f.trackers.capture();
      const s: ControllerSnapshot = { createdMs: f.clock(), seq, ...at, jails, seen: f.intake.seenCapture(), ...f.store.capture() };
      // the copy is the one pause a snapshot causes (decisions wait for it); the rest runs between them
      const captureMs = Math.round(performance.now() - copyAt);
      if (!(await this.#acknowledged(seq))) {
        f.counters.add('snapshots.failed');
        f.logger.warn({ seq }, 'snapshot not saved: its events were not all acknowledged in time');
        return false;
      }
      const head = await this.stream.write(encodeSnapshot(s), { seq, createdMs: s.createdMs });
      this.#last = covers;
      f.counters.add('snapshots.saved');
      f.logger.info({ seq, bytes: head.bytes, parts: head.parts, bans: s.bans.length, captureMs, ms: Math.round(performance.now() - started) }, 'snapshot saved');
      return true;
    } catch (err) {
      f.counters.add('snapshots.failed');
      f.logger.warn({ err }, 'snapshot not saved');
      return false;
    } finally {
      for (const j of jails) j.addresses.release?.(); // the windows stop keeping rows for it
    }
  }

  /** Resolves true once the consumer's acknowledged floor reaches `seq`, false after {@link ACK_WAIT_MS}. */
  async #acknowledged(seq: number): Promise<boolean> {
    const until = performance.now() + ACK_WAIT_MS;
    for (;;) {
      if ((await controllerAckFloor(this.from.nc)) >= seq) return true;
      if (performance.now() >= until) return false;
      await new Promise((r) => setTimeout(r, ACK_POLL_MS));
    }
  }
}

/** What a snapshot covers, as compared between two: the last event and both buckets' revisions. */
function coverage(seq: number, at: { readonly bansAt: { readonly revision: number }; readonly historyAt: { readonly revision: number } }): string {
  return `${seq} ${at.bansAt.revision} ${at.historyAt.revision}`;
}
