import { performance } from 'node:perf_hooks';
import type { Logger, SnapshotHead, SnapshotStream } from '@fleetban/shared';
import { type ControllerSnapshot, decodeSnapshot } from './snapshot-codec.js';

/** How often a standby looks for a newer snapshot, in ms (at most; half the snapshot interval when shorter). */
const LOOK_EVERY_MS = 5_000;

/**
 * The latest snapshot, read ahead: a standby controller reads each new snapshot the active one
 * stores while it waits for the lease, so that taking over costs no reading and decoding when the
 * last snapshot is the one it holds. Not started (a controller that is active at once), it reads
 * the latest snapshot when asked.
 */
export class WarmSnapshot {
  #held: { readonly id: string; readonly snapshot: ControllerSnapshot } | undefined;
  #timer: NodeJS.Timeout | undefined;
  #looking: Promise<void> | undefined;
  constructor(
    private readonly stream: SnapshotStream,
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {}

  /** Looks for a newer snapshot every few seconds until {@link latest}. */
  start(): void {
    if (this.intervalMs <= 0) return;
    const every = Math.max(500, Math.min(LOOK_EVERY_MS, Math.floor(this.intervalMs / 2)));
    const look = () => {
      this.#looking ??= this.#look().finally(() => (this.#looking = undefined));
    };
    look();
    this.#timer = setInterval(look, every);
    this.#timer.unref();
  }

  /** Stops looking ahead (a standby told to stop). */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#looking;
  }

  /**
   * Stops looking ahead and returns the latest snapshot: the one held when it is still the
   * latest, else read now; undefined when there is none or it cannot be read (logged: the
   * controller then starts from the buckets and the whole stream).
   */
  async latest(): Promise<ControllerSnapshot | undefined> {
    await this.stop();
    if (this.intervalMs <= 0) return undefined;
    try {
      const head = await this.stream.head();
      if (!head) return undefined;
      const started = performance.now();
      const ahead = this.#held?.id === head.id;
      const { snapshot } = ahead && this.#held ? this.#held : await this.#read(head);
      this.#held = undefined;
      this.logger.info({ id: head.id, seq: snapshot.seq, bytes: head.bytes, createdMs: snapshot.createdMs, ahead, ms: Math.round(performance.now() - started) }, 'snapshot read');
      return snapshot;
    } catch (err) {
      this.logger.warn({ err }, 'snapshot unreadable: starting from the buckets and the whole stream');
      return undefined;
    }
  }

  async #look(): Promise<void> {
    try {
      const head = await this.stream.head();
      if (head && head.id !== this.#held?.id) this.#held = await this.#read(head);
    } catch (err) {
      this.logger.debug({ err }, 'standby: the latest snapshot could not be read ahead');
    }
  }

  async #read(head: SnapshotHead): Promise<{ id: string; snapshot: ControllerSnapshot }> {
    const snapshot = await decodeSnapshot(this.stream.parts(head));
    this.logger.info({ id: head.id, seq: snapshot.seq, bytes: head.bytes }, 'snapshot read ahead');
    return { id: head.id, snapshot };
  }
}
