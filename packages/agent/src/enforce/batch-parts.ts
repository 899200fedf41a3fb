/**
 * A split batch's parts (nftables.ts): how many operations each holds, and the lanes that run
 * them at most N at once, each part started only when a lane frees and recorded while the
 * lane's next part runs.
 */
import type { ElementOp } from './reconcile.js';

/**
 * Default of `NftablesOptions.partOps` (nftables.ts). Of nft's time for 1,000,000 elements (about 6.5
 * CPU-seconds), some 2 s are the kernel's, under one lock per network namespace: two halves
 * parse at once and then commit one after the other. Parts of 125,000 written two at a time
 * overlap the kernel's commit of one part with nft's parsing of the next (raw `nft -f` on a shared
 * 2-CPU machine, load 3 to 7, runs alternated: 8 parts 2.9, 3.3, 3.7 s; two halves 4.4, 6.1, 6.6 s).
 */
export const DEFAULT_PART_OPS = 125_000;

/**
 * Parts of a split batch, at least. 100,000 bans in four parts of 25,000 rather than two halves:
 * the first nft starts once 20,000 operations are planned and both lanes soon after, instead
 * of once half the batch is, and nft spends less CPU on smaller parts (250,000 elements by
 * `nft -f` one part after the other: 0.91 to 0.95 CPU-s in parts of 25,000, 1.13 to 1.30 in
 * parts of 125,000); a part of its own costs node a process start, about 10 ms.
 */
export const MIN_PARTS = 4;

/**
 * `ops` as one part, or, with at least `splitFrom` of them (and `splitFrom` > 0), as parts of
 * equal size, in order: {@link MIN_PARTS} at least, more when a part would exceed `partOps`.
 */
export function splitOps(ops: readonly ElementOp[], splitFrom: number, partOps = DEFAULT_PART_OPS): (readonly ElementOp[])[] {
  if (splitFrom <= 0 || ops.length < Math.max(2, splitFrom)) return [ops];
  const size = partSize(ops.length, partOps);
  const parts: (readonly ElementOp[])[] = [];
  for (let at = 0; at < ops.length; at += size) parts.push(ops.slice(at, at + size));
  return parts;
}

/** The size of each part when `total` operations are split: {@link MIN_PARTS} parts at least, none above `partOps`. */
export function partSize(total: number, partOps = DEFAULT_PART_OPS): number {
  const count = Math.max(MIN_PARTS, Math.ceil(total / Math.max(1, partOps)));
  return Math.max(1, Math.ceil(total / count));
}

/**
 * Runs the `tasks` with at most `limit` of them at once, in order, and settles each like
 * `Promise.allSettled`. A task is started only when a slot frees: its work (a part's text) is
 * not done, nor held in memory, before then. `after`, when given, gets each task's result once
 * the same lane has started its next task (or has none left), so its work overlaps that task;
 * everything settles only when every `after` has.
 */
export function settleAtMost<T>(
  tasks: readonly (() => Promise<T>)[],
  limit: number,
  after?: (index: number, result: PromiseSettledResult<T>) => Promise<void>,
): Promise<PromiseSettledResult<T>[]> {
  let i = 0;
  return settleEach(() => Promise.resolve(i < tasks.length ? tasks[i++]! : null), Math.min(limit, tasks.length), after);
}

/**
 * {@link settleAtMost} of tasks made one at a time by `next` (`null`: none left), asked for
 * one call at a time, in order, when a lane is free: the i-th task made is the i-th result.
 */
export async function settleEach<T>(
  next: () => Promise<(() => Promise<T>) | null>,
  limit: number,
  after?: (index: number, result: PromiseSettledResult<T>) => Promise<void>,
): Promise<PromiseSettledResult<T>[]> {
  const out: PromiseSettledResult<T>[] = [];
  let made = 0;
  let queue: Promise<unknown> = Promise.resolve();
  const take = (): Promise<{ index: number; task: () => Promise<T> } | null> => {
    const got = queue.then(async () => {
      const task = await next();
      return task ? { index: made++, task } : null;
    });
    queue = got.catch(() => undefined);
    return got;
  };
  const lane = async (): Promise<void> => {
    let finished = -1; // settled, not yet handed to `after`
    for (;;) {
      const got = await take();
      if (!got) break;
      const running = settle(got.task);
      if (finished >= 0) await after?.(finished, out[finished]!);
      out[got.index] = await running;
      finished = got.index;
    }
    if (finished >= 0) await after?.(finished, out[finished]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, lane));
  return out;
}

/** Starts `task` and settles its outcome, a synchronous throw included. */
async function settle<T>(task: () => Promise<T>): Promise<PromiseSettledResult<T>> {
  try {
    return { status: 'fulfilled', value: await task() };
  } catch (reason) {
    return { status: 'rejected', reason };
  }
}

