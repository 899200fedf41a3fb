/**
 * Publishes to a JetStream stream with many messages in flight and one subscription for all their
 * acknowledgements. The client library's own `js.publish` makes a request per message (a reply
 * subscription entry, a timer and two error objects, each with a stack trace): at tens of
 * thousands of failures a second that was most of an agent's CPU. Here a message is a core NATS
 * publish with `Nats-Msg-Id` (the stream drops a duplicate) and a reply subject under one inbox of
 * this connection (so a host's inbox permission covers it); one timer sweeps what waits too long.
 */
import type { MsgHdrs, NatsConnection, Subscription } from '@nats-io/transport-node';
import { NatsError } from '../errors.js';
import { loadNats } from './nats-module.js';

interface Waiting {
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
  readonly sentMs: number;
}

/** Options of {@link StreamPublisher}. */
export interface StreamPublisherOptions {
  /** A message not acknowledged within this many ms fails; default 2000. */
  readonly timeoutMs?: number;
}

/** Pipelined, acknowledged publishing to JetStream over one connection. */
export class StreamPublisher {
  readonly #nc: NatsConnection;
  readonly #inbox: string;
  readonly #sub: Subscription;
  readonly #waiting = new Map<number, Waiting>();
  readonly #timeoutMs: number;
  readonly #sweep: NodeJS.Timeout;
  #seq = 0;

  constructor(nc: NatsConnection, opts: StreamPublisherOptions = {}) {
    this.#nc = nc;
    this.#timeoutMs = opts.timeoutMs ?? 2000;
    const { createInbox } = loadNats();
    this.#inbox = createInbox((nc as NatsConnection & { options?: { inboxPrefix?: string } }).options?.inboxPrefix);
    this.#sub = nc.subscribe(`${this.#inbox}.*`, {
      callback: (err, m) => {
        if (err) return;
        const seq = Number(m.subject.slice(this.#inbox.length + 1));
        const w = this.#waiting.get(seq);
        if (!w) return; // timed out already
        this.#waiting.delete(seq);
        const failure = ackFailure(m.headers, m.data);
        if (failure) w.reject(new NatsError(failure));
        else w.resolve();
      },
    });
    this.#sweep = setInterval(() => this.#expire(), Math.max(50, Math.min(1000, this.#timeoutMs / 4)));
    this.#sweep.unref();
  }

  /**
   * Publishes `data` on `subject` with message id `id` (and `extra` headers); resolves once the
   * stream has stored it (or had it already).
   */
  publish(subject: string, data: Uint8Array, id: string, extra?: Readonly<Record<string, string>>): Promise<void> {
    const seq = ++this.#seq;
    const h: MsgHdrs = loadNats().headers();
    h.set('Nats-Msg-Id', id);
    for (const [k, v] of Object.entries(extra ?? {})) h.set(k, v);
    return new Promise<void>((resolve, reject) => {
      this.#waiting.set(seq, { resolve, reject, sentMs: Date.now() });
      try {
        this.#nc.publish(subject, data, { reply: `${this.#inbox}.${seq}`, headers: h });
      } catch (err) {
        this.#waiting.delete(seq);
        reject(err instanceof Error ? err : new NatsError(String(err)));
      }
    });
  }

  /** Messages sent and not acknowledged yet. */
  get inFlight(): number {
    return this.#waiting.size;
  }

  /** Fails everything still waiting and stops listening. */
  close(): void {
    clearInterval(this.#sweep);
    this.#sub.unsubscribe();
    for (const w of this.#waiting.values()) w.reject(new NatsError('publisher closed'));
    this.#waiting.clear();
  }

  #expire(): void {
    const before = Date.now() - this.#timeoutMs;
    for (const [seq, w] of this.#waiting) {
      if (w.sentMs > before) break; // in sending order: the rest are younger
      this.#waiting.delete(seq);
      w.reject(new NatsError('timeout'));
    }
  }
}

const UTF8 = new TextDecoder();

/** Why an acknowledgement says the message was not stored, or null when it was. */
function ackFailure(headers: MsgHdrs | undefined, data: Uint8Array): string | null {
  if (headers && headers.hasError) return headers.code === 503 ? 'no stream answered (no responders)' : `${headers.code} ${headers.description}`;
  try {
    const ack = JSON.parse(UTF8.decode(data)) as { stream?: string; error?: { code?: number; description?: string } };
    if (ack.error) return `${ack.error.code ?? ''} ${ack.error.description ?? 'stream error'}`.trim();
    return typeof ack.stream === 'string' ? null : 'unexpected acknowledgement';
  } catch {
    return 'unreadable acknowledgement';
  }
}
