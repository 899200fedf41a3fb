import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the old generation grow past its live size between full collections once the
 * controller is ready, in percent (V8's default under fast allocation is up to 300).
 */
export const STEADY_HEAP_GROWING_PERCENT = 20;

/**
 * Holds the heap close to what is live from now on: called once the controller is ready, not
 * given on the command line, because a start wants the opposite. A start decodes a snapshot of
 * hundreds of thousands of items as fast as it can; with the tight growth from the first moment
 * it spent about 0.4 s more in full collections (restart to ready 2.6 s against 2.1 s, bench/
 * controller.bench.mjs). Set after the start, RSS under a spray of 1,000,000 addresses stays at
 * 150–176 MB (583 bytes per tracked address) where V8's default growth swings between 188 and
 * 342 MB. The flag is read at each collection, so setting it while running takes effect at the
 * next one (node documents flags changed at run time as unsupported in general; this one is a
 * heuristic's parameter, and a failure leaves V8's default).
 */
export function holdHeapSteady(percent = STEADY_HEAP_GROWING_PERCENT): void {
  setFlagsFromString(`--heap-growing-percent=${percent}`);
}
