import type { JetStreamClient, OrderedConsumerOptions } from '@nats-io/jetstream';
import { anyCause, NatsError } from '../errors.js';

/** How long one try at making a consumer may take before another is started beside it, in ms. */
export const MAKE_TRY_MS = 2_000;

/** How long the tries at making one consumer may take in all, in ms. */
export const MAKE_WITHIN_MS = 15_000;

/**
 * Tries in flight at once, at most: making a consumer can be slow for good reason (one over a
 * million keys makes the server count them first), and tries started beside it repeat that work.
 */
const MAX_IN_FLIGHT = 3;

/** Bounds for {@link madeInTime} (tests shorten them). */
export interface MakeBounds {
  readonly tryMs?: number;
  readonly withinMs?: number;
}

/**
 * The watch or ephemeral consumer `make` makes, tried again beside a try that is not made within
 * {@link MAKE_TRY_MS}; an error naming `what` once {@link MAKE_WITHIN_MS} pass without one.
 *
 * nats-server before 2.12 may place an ephemeral consumer (a watch, an ordered consumer: one
 * replica) of a replicated stream on a node that is down, for as long as it is down: the request
 * that makes it then never gets an answer. With one node of three lost, about one try in three
 * times out (measured with nats-server 2.9.10: for 200 s after the loss, until the end of the
 * measure), where the next try is placed afresh. At most {@link MAX_IN_FLIGHT} tries wait at
 * once. The first try made wins; a try made after it is dropped (`drop`: stopped, or deleted). A
 * try that fails with a timeout or "no responders" waits for the next; one that fails otherwise (a
 * refused configuration, a missing stream) ends them all with its error.
 */
export function madeInTime<W>(make: () => Promise<W>, what: string, drop: (late: W) => void, bounds: MakeBounds = {}): Promise<W> {
  const tryMs = bounds.tryMs ?? MAKE_TRY_MS;
  const withinMs = bounds.withinMs ?? MAKE_WITHIN_MS;
  return new Promise<W>((resolve, reject) => {
    let done = false;
    let tries = 0;
    let inFlight = 0;
    let last: unknown;
    const end = () => {
      done = true;
      clearInterval(again);
      clearTimeout(giveUp);
    };
    const attempt = () => {
      if (inFlight >= MAX_IN_FLIGHT) return;
      tries++;
      inFlight++;
      let made: Promise<W>;
      try {
        made = make();
      } catch (err) {
        made = Promise.reject(err);
      }
      made.then(
        (w) => {
          inFlight--;
          if (done) return drop(w);
          end();
          resolve(w);
        },
        (err: unknown) => {
          inFlight--;
          if (done) return;
          last = err;
          if (transient(err)) return;
          end();
          reject(new NatsError(`cannot make ${what}`, { cause: err }));
        },
      );
    };
    const again = setInterval(attempt, tryMs);
    const giveUp = setTimeout(() => {
      end();
      reject(new NatsError(`${what}: its consumer was not made in ${withinMs / 1000} s (${tries} tries)`, { cause: last }));
    }, withinMs);
    attempt();
  });
}

/** Whether `err` (or what caused it) is a request that got no answer, or no responder: worth trying again. */
function transient(err: unknown): boolean {
  // a 503 status: the JetStream API's "temporarily unavailable" (a cluster electing its leaders)
  return anyCause(err, (e) => e.name === 'TimeoutError' || e.name === 'NoRespondersError' || e.status === 503);
}

/** An ordered consumer of `stream` from `opts` ({@link madeInTime}: tried again; one made late is deleted). */
export async function orderedConsumer(js: JetStreamClient, stream: string, opts: Partial<OrderedConsumerOptions>, what: string) {
  return madeInTime(
    () => js.consumers.get(stream, { ...opts }),
    what,
    (late) => void late.delete().catch(() => undefined),
  );
}
