/**
 * Waits for `p` at most `ms`: true when it settled (resolved or rejected) in time, false when the
 * deadline came first (`p` goes on; its outcome is ignored). For stop paths that must end: a
 * flush or a drain that would wait on an unreachable server.
 */
export async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([p.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `p`'s value, or a rejection once `ms` have passed (`p` goes on; a late outcome is ignored). For
 * a periodic check whose request, sent while the client reconnects, may wait its whole API timeout.
 */
export async function valueWithin<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `p`'s value, or null as soon as `signal` aborts (`p` goes on; its outcome is ignored). For a
 * start that waits on something that may never come (the first connection to NATS) and must
 * still obey a stop.
 */
export async function unlessAborted<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T | null> {
  if (!signal) return p;
  if (signal.aborted) return null;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<null>((resolve) => {
    onAbort = () => resolve(null);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([p, aborted]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}
