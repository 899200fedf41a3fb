/** A delivered message as {@link AckFloor} sees it (a JetStream `JsMsg`). */
export interface AckableMessage {
  readonly seq: number;
  ack(): void;
}

/** How a message's handling ended: done, failed, or effects still in flight. */
export type Handled = boolean | Promise<boolean>;

interface Entry {
  readonly m: AckableMessage;
  state: 'pending' | 'ok' | 'failed';
}

/**
 * Cumulative acknowledgement (ack policy "all": one ack covers every message before it) of
 * messages handled in arrival order whose effects may still be in flight. Each message is
 * {@link add}ed as it is handled, with its outcome or the promise of it; the acknowledged floor
 * moves up to the last message whose effects, and those of every message before it, are done, one
 * ack every `every` messages, or `delayMs` after the first message not yet acknowledged (not one
 * per message when the consumer keeps pace, as "nothing more pending" would). Past a message whose
 * handling failed nothing is acknowledged until that message, redelivered, is handled (the ones
 * after it come back too and are dropped as duplicates by the caller).
 */
export class AckFloor {
  /** Messages not yet passed to the floor, in arrival order (from `#head` on). */
  #queue: Entry[] = [];
  #head = 0;
  /** Messages whose outcome is still a pending promise. */
  #inFlight = 0;
  #unacked: AckableMessage | undefined;
  #held = 0;
  /** The sequence of a message whose handling failed (0: none). */
  #blocked = 0;
  #waiters: (() => void)[] = [];
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    private readonly every: number,
    private readonly delayMs: number,
  ) {}

  /** Messages whose effects are still in flight. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Takes `m`, handled with outcome `handled`, in arrival order. */
  add(m: AckableMessage, handled: Handled): void {
    if (typeof handled === 'boolean' && this.#head === this.#queue.length) {
      this.#pass(m, handled);
      this.#ackIfDue();
      return;
    }
    const entry: Entry = { m, state: typeof handled === 'boolean' ? (handled ? 'ok' : 'failed') : 'pending' };
    this.#queue.push(entry);
    if (typeof handled === 'boolean') return;
    this.#inFlight++;
    void handled.then(
      (ok) => this.#settled(entry, ok),
      () => this.#settled(entry, false),
    );
  }

  /** Resolves once fewer than `max` messages are in flight. */
  async below(max: number): Promise<void> {
    while (this.#inFlight >= max) await new Promise<void>((r) => this.#waiters.push(r));
  }

  #settled(entry: Entry, ok: boolean): void {
    entry.state = ok ? 'ok' : 'failed';
    this.#inFlight--;
    while (this.#head < this.#queue.length && this.#queue[this.#head]!.state !== 'pending') {
      const e = this.#queue[this.#head++]!;
      this.#pass(e.m, e.state === 'ok');
    }
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    this.#ackIfDue();
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** Moves the floor past `m` (handled, `ok` or not), in order. */
  #pass(m: AckableMessage, ok: boolean): void {
    if (!ok) {
      if (this.#blocked === 0) this.#blocked = m.seq;
    } else if (this.#blocked === 0 || m.seq === this.#blocked) {
      this.#blocked = 0;
      this.#unacked = m;
      this.#held++;
    }
  }

  #ackIfDue(): void {
    if (!this.#unacked) return;
    if (this.#held >= this.every || this.#blocked !== 0 || this.#closed) this.#ack();
    else this.#timer ??= setTimeout(() => this.#ack(), this.delayMs);
  }

  #ack(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const m = this.#unacked;
    this.#unacked = undefined;
    this.#held = 0;
    try {
      m?.ack();
    } catch {
      // the connection is closing: the message comes again to the next consumer
    }
  }

  /** Acknowledges what may be at once, and from now on without delay (the consumer stops). */
  close(): void {
    this.#closed = true;
    this.#ackIfDue();
  }
}
