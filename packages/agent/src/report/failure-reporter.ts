import {
  decodeFailure,
  encodeFailure,
  type FailureEvent,
  type Logger,
  type NatsConnection,
  sendFailure,
  StreamPublisher,
} from '@fleetban/shared';
import { ReportGate } from './read-gate.js';
import { type SpoolRecord, Spool } from './spool.js';

/** Counters of the reporter. */
export interface ReporterCounters {
  /** Failures acknowledged by the stream. */
  published: number;
  /** Failures waiting: in memory plus in the spool. */
  buffered: number;
  /** Failures waiting in the on-disk spool. */
  spooled: number;
  /** Bytes of the spool not sent yet. */
  spoolBytes: number;
  /** Failures lost: always 0 (the reporter slows reading instead of dropping); kept for the heartbeat. */
  dropped: number;
  /** Times reading was held back because the spool was full (not counted: the waits for acknowledgements while publishing). */
  blocked: number;
}

/** Options of {@link FailureReporter}. */
export interface ReporterOptions {
  /** [agent] buffer: failures held in memory before spilling to the spool. */
  readonly buffer: number;
  /** [fleetban] state_dir: the spool is `<stateDir>/spool`. */
  readonly stateDir: string;
  /** [agent] spool: bytes of unsent failures on disk before reading is held back. */
  readonly spoolBytes: number;
  /** Failures published at once (pipelined). Default 1024. */
  readonly window?: number;
  /** Delay before retrying after a failed publish, in ms. Default 1000. */
  readonly retryMs?: number;
}

/**
 * Publishes failures to the fleet's stream, never losing one and never holding an unbounded queue.
 *
 * While NATS keeps up, failures go from memory straight to JetStream, up to `window` in flight.
 * When a publish fails, or `buffer` failures wait in memory, the reporter spills: what is in
 * memory and everything after it goes to the on-disk spool (spool.ts), in order, and is sent from
 * there; once the spool is empty, memory is used again. The {@link gate} (read-gate.ts) closes and
 * every log source stops reading (the lines wait in the log files, counted as bytes behind) while
 * the spool holds `spoolBytes` (until it drains below 90%), and while publishing from memory works
 * but two windows (at most half the buffer) wait: a spray faster than the stream acknowledges is
 * read at the stream's pace, with a bounded queue, instead of filling the buffer and the spool. Each failure carries its id as the JetStream
 * message id, so one sent twice (an acknowledgement lost, a crash before the spool head was saved,
 * a line read again after a crash: ids come from the line's position, see jail-runner.ts) is
 * dropped by the server.
 */
export class FailureReporter {
  readonly counters: ReporterCounters = { published: 0, buffered: 0, spooled: 0, spoolBytes: 0, dropped: 0, blocked: 0 };
  /** Closed (blocked) while the spool is full, or two windows wait while publishing: sources read nothing more. */
  readonly gate: ReportGate;
  #publisher: StreamPublisher | undefined;
  readonly #o: Required<ReporterOptions>;
  readonly #log: Logger;
  readonly #spool: Spool;
  #mem: FailureEvent[] = [];
  /** Memory mode (spool empty) or spool mode; bumped on every spill so stale results are ignored. */
  #spilled: boolean;
  #epoch = 0;
  #pumping: Promise<void> | null = null;
  #retry: NodeJS.Timeout | undefined;
  #headTimer: NodeJS.Timeout;
  #blocked = false;
  #stopped = false;
  #warned = false;

  /** Failures are kept (in memory, then in the spool) until {@link attach} gives a connection. */
  constructor(opts: ReporterOptions, logger: Logger) {
    this.#o = { window: 1024, retryMs: 1000, ...opts };
    this.#log = logger;
    this.#spool = new Spool(opts.stateDir, opts.spoolBytes, logger);
    this.#spilled = this.#spool.count > 0;
    this.gate = new ReportGate(Math.max(1, Math.min(2 * this.#o.window, Math.floor(this.#o.buffer / 2))));
    this.#headTimer = setInterval(() => this.#spool.saveHead(), 250);
    this.#count();
    void this.flush();
  }

  /** NATS is connected: sends what waits, and every failure from now on. */
  attach(nc: NatsConnection): void {
    this.#publisher = new StreamPublisher(nc);
    this.#count();
    void this.flush();
  }

  /** Queues a failure for publication. */
  report(e: FailureEvent): void {
    if (!this.#spilled && this.#mem.length < this.#o.buffer) this.#mem.push(e);
    else {
      if (!this.#spilled) this.#spill('NATS is slow');
      this.#spool.append([encodeFailure(e)]);
    }
    this.#count();
    void this.flush();
  }

  /** Sends what is waiting until done or a publish fails (then a retry is scheduled). */
  flush(): Promise<void> {
    if (this.#stopped || !this.#publisher) return Promise.resolve();
    // failures reported after the pump found memory empty, before it ended, would wait for the
    // next report: the pump starts again for them (a failed send spills memory, so it does not)
    this.#pumping ??= this.#pump().finally(() => {
      this.#pumping = null;
      if (!this.#spilled && this.#mem.length > 0) void this.flush();
    });
    return this.#pumping;
  }

  /** Stops sending; what is still waiting goes to the spool, for the next start. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retry);
    clearInterval(this.#headTimer);
    this.#publisher?.close();
    if (this.#mem.length > 0) this.#spill('stopping');
    this.#spool.close();
    this.#count();
    if (this.counters.buffered > 0) this.#log.warn({ spooled: this.counters.spooled }, 'stopping with unpublished failures; they are in the spool for the next start');
  }

  async #pump(): Promise<void> {
    while (!this.#stopped) {
      const ok = this.#spilled ? await this.#sendSpool() : await this.#sendMemory();
      if (ok === null) return; // nothing left
      if (!ok) {
        clearTimeout(this.#retry);
        this.#retry = setTimeout(() => void this.flush(), this.#o.retryMs);
        return;
      }
    }
  }

  /** Sends a window from memory. null: nothing to send; false: a publish failed (spilled). */
  async #sendMemory(): Promise<boolean | null> {
    if (this.#mem.length === 0) return null;
    const epoch = this.#epoch;
    const batch = this.#mem.slice(0, this.#o.window);
    const sent = await this.#publish(batch);
    if (epoch !== this.#epoch) return sent === batch.length; // spilled meanwhile: the spool has them all
    this.#mem.splice(0, sent);
    this.counters.published += sent;
    if (sent < batch.length) this.#spill('cannot publish');
    this.#count();
    return sent === batch.length;
  }

  /** Sends a window from the spool. null: spool empty (back to memory); false: a publish failed. */
  async #sendSpool(): Promise<boolean | null> {
    if (!this.#spool.flush()) {
      this.#count();
      return false;
    }
    const recs: SpoolRecord[] = await this.#spool.read(this.#spool.head, this.#o.window);
    if (recs.length === 0) {
      if (this.#spool.count > 0 || this.#spool.unwrittenBytes > 0) return false; // damaged records counted: retry later
      this.#spilled = false;
      this.#log.info('spool sent; publishing directly again');
      this.#count();
      return this.#mem.length > 0 ? true : null;
    }
    const sent = await this.#publish(recs.map((r) => decodeFailure(r.data)));
    if (this.#stopped) return false;
    if (sent > 0) {
      this.#spool.ack((recs[sent - 1] as SpoolRecord).end, sent);
      this.counters.published += sent;
    }
    this.#count();
    return sent === recs.length;
  }

  /** Publishes in parallel; returns how many from the start were acknowledged. */
  async #publish(batch: readonly FailureEvent[]): Promise<number> {
    const publisher = this.#publisher as StreamPublisher;
    const results = await Promise.allSettled(batch.map((e) => sendFailure(publisher, e)));
    const failed = results.findIndex((r) => r.status === 'rejected');
    if (failed < 0) {
      if (this.#warned) this.#log.info('publishing failures again');
      this.#warned = false;
      return batch.length;
    }
    if (!this.#warned) {
      const err = (results[failed] as PromiseRejectedResult).reason as Error;
      this.#log.warn({ err: err.message, buffered: this.counters.buffered }, 'cannot publish failures yet; spooling them to disk');
    }
    this.#warned = true;
    return failed;
  }

  /** Moves memory to the spool (in order: the spool is empty in memory mode) and switches to it. */
  #spill(why: string): void {
    this.#epoch++;
    this.#spool.append(this.#mem.map(encodeFailure));
    this.#log.info({ why, moved: this.#mem.length }, 'spooling failures to disk');
    this.#mem = [];
    this.#spilled = true;
  }

  #updateGate(): boolean {
    const max = this.#o.spoolBytes;
    const full = this.#spool.bytes >= max || this.#spool.unwrittenBytes >= Math.min(max, 1 << 20);
    if (full && !this.#blocked) {
      this.#blocked = true;
      this.counters.blocked++;
      this.#log.warn({ spoolBytes: this.#spool.bytes }, 'spool full: holding log reading back until it drains');
    } else if (this.#blocked && this.#spool.bytes < max * 0.9 && this.#spool.unwrittenBytes === 0) {
      this.#blocked = false;
      this.#log.info({ spoolBytes: this.#spool.bytes }, 'spool drained: reading logs again');
    }
    return this.#blocked;
  }

  #count(): void {
    const c = this.counters;
    c.spooled = this.#spool.count;
    c.spoolBytes = this.#spool.bytes;
    c.buffered = this.#mem.length + c.spooled;
    this.gate.update({
      spoolFull: this.#updateGate(),
      publishing: this.#publisher !== undefined && !this.#spilled && !this.#warned && !this.#stopped,
      queued: this.#mem.length,
    });
  }
}
