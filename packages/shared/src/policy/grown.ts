/** Growing the columns of fleetban's own tables (a window's slots, rows and kept rows). */

/** `from`'s items in a new array of `n`, the rest `fill` (made at its size: pushed one by one, an array's room grows by half again). */
export function grownList<T>(from: readonly T[], n: number, fill: T): T[] {
  // a loop, not Array.from with a function (which took about 0.3 s to grow two windows to 100,000)
  const out = new Array<T>(n);
  for (let i = 0; i < n; i++) out[i] = i < from.length ? (from[i] as T) : fill;
  return out;
}

/** `into` (a new, longer typed array) holding `from` at its start. */
export function grownInto<T extends Uint32Array | Int32Array | Float64Array>(from: T, into: T): T {
  into.set(from);
  return into;
}
