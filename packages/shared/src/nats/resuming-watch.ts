import type { KV, KvWatchEntry } from '@nats-io/kv';
import { valueWithin } from '../time/deadline.js';
import { madeInTime } from './made-in-time.js';

/** How often a watch compares what it has seen with the bucket's last revision, in ms. */
export const WATCH_CHECK_MS = 3_000;

/**
 * How the first watch is made ({@link madeInTime}): a second try after 5 s (a try placed on a
 * lost node never answers), all within the ban list's API timeout (a watch of a million bans is
 * slow to make for good reason; every agent makes one when it starts).
 */
const FIRST_WATCH = { tryMs: 5_000, withinMs: 60_000 };

/** How a {@link watchResuming} watch checks itself. */
export interface ResumeOptions {
  /** The period of the check; a stall is declared after two checks without progress. */
  readonly checkMs?: number;
  /** Told when a stalled watch is replaced, with the revision it resumes from. */
  readonly onResume?: (fromRevision: number, lastRevision: number) => void;
  /** Names the watch in the error when it cannot be made (`the watch of KV bucket …`). */
  readonly what?: string;
}

/**
 * `kv.watch()` (current values, then every change) that notices when it stops receiving and
 * resumes where it was. The client's watch is an ordered consumer on the stream's leader; when
 * that leader is lost (a node of an R3 cluster killed), the client recreates the consumer after a
 * missed heartbeat, in seconds mostly, but it was seen to take ~50 s and once never to come back.
 * Every `checkMs` the bucket's last revision is read (one stream info request): when it is beyond
 * the last revision delivered, twice in a row with nothing delivered in between, the watch is
 * replaced by one starting at the next revision. An entry is delivered once, in revision order,
 * whichever consumer brings it. A failed check (NATS unreachable) is simply tried again.
 */
export async function watchResuming(kv: Pick<KV, 'status' | 'watch'>, onEntry: (e: KvWatchEntry) => void, opts: ResumeOptions = {}): Promise<{ stop(): void }> {
  const checkMs = opts.checkMs ?? WATCH_CHECK_MS;
  /** The bucket's last revision when the watch began: the current values end there at the latest. */
  const floor = (await kv.status()).streamInfo.state.last_seq;
  let seen = 0;
  let current = false;
  let stopped = false;
  let iter = await madeInTime(() => kv.watch(), opts.what ?? 'the watch', (late) => late.stop(), FIRST_WATCH);
  const follow = async (it: typeof iter) => {
    for await (const e of it) {
      if (e.revision <= seen) continue;
      seen = e.revision;
      if (e.isUpdate || e.revision >= floor) current = true;
      onEntry(e);
    }
  };
  void follow(iter);
  if (floor === 0) current = true;

  let behind = false;
  let seenAtCheck = seen;
  const check = async () => {
    // until the current values are in, the watch's own pace is not a stall
    if (!current) return;
    let last: number;
    try {
      // bounded by the period: a request sent while the client reconnects may wait its full API timeout
      last = await valueWithin(kv.status().then((st) => st.streamInfo.state.last_seq), checkMs);
    } catch {
      return;
    }
    if (stopped) return;
    const from = Math.max(seen, floor);
    const stalled = last > from && seen === seenAtCheck;
    seenAtCheck = seen;
    if (!stalled) {
      behind = false;
      return;
    }
    if (!behind) {
      behind = true;
      return;
    }
    behind = false;
    let next: typeof iter;
    const opening = kv.watch({ resumeFromRevision: from + 1 });
    try {
      next = await valueWithin(opening, checkMs * 2);
    } catch {
      void opening.then((late) => late.stop(), () => undefined);
      return;
    }
    if (stopped) {
      next.stop();
      return;
    }
    iter.stop();
    iter = next;
    opts.onResume?.(from + 1, last);
    void follow(next);
  };
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    void check().finally(() => {
      running = false;
    });
  }, checkMs);
  timer.unref();
  return {
    stop: () => {
      stopped = true;
      clearInterval(timer);
      iter.stop();
    },
  };
}

