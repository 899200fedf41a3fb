/**
 * The bulk of a snapshot as columns: a slice of window addresses, bans or offences becomes one
 * JSON object of parallel arrays (plus small tables of the strings many items share), not one
 * array or object per item. A start reads a snapshot of 100,000 bans and 100,000 addresses several
 * times faster so: JSON.parse makes a few long arrays instead of hundreds of thousands of small
 * ones, and a ban's hosts and scope are one shared array per distinct set.
 */
import { type BanDecision, DecodeError, type Offence, v4Of, WindowCapture } from '@fleetban/shared';
import type { WindowRows } from './snapshot-window-rows.js';

/**
 * The window's addresses from `from` to `to` (exclusive) as columns; a {@link WindowCapture} is
 * read row by row, without an object per address.
 */
export function windowColumns(addresses: Pick<WindowCapture, 'slice'>, from: number, to: number): Record<string, unknown> {
  const hosts = new Interner<string>((h) => h);
  const ip: string[] = [];
  const n: number[] = [];
  const t: number[] = [];
  const h: number[] = [];
  const m: number[] = [];
  const l: string[] = [];
  const row = (address: string, times: readonly number[], sources: readonly string[], lines: readonly string[]) => {
    ip.push(address);
    n.push(times.length);
    for (let k = 0; k < times.length; k++) {
      t.push(times[k] as number);
      h.push(hosts.index(sources[k] ?? ''));
    }
    m.push(lines.length);
    for (const line of lines) l.push(line);
  };
  if (addresses instanceof WindowCapture) addresses.each(row, from, to);
  else for (const a of addresses.slice(from, to)) row(a.ip, a.times, a.sources, a.matches);
  return { ip, n, t, h, m, l, hosts: hosts.values };
}

/** Appends the addresses of one version 2 or 3 slice to `into` (throws DecodeError when the columns do not fit together). */
export function readWindowColumns(o: Record<string, unknown>, into: WindowRows): void {
  const ip = strings(o.ip, 'window addresses');
  const rows = ip.length;
  const n = counts(o.n, rows, 'window failure counts');
  const failures = sum(n);
  const t = times(o.t, failures, 'window failure times');
  const hosts = strings(o.hosts, 'window hosts');
  const h = indices(o.h, failures, hosts.length, 'window failure hosts');
  const m = counts(o.m, rows, 'window line counts');
  const l = strings(o.l, 'window lines', sum(m));
  const sources = h.map((x) => hosts[x] as string);
  let at = 0;
  let line = 0;
  for (let i = 0; i < rows; i++) {
    const held = n[i] as number;
    const lines = m[i] as number;
    const address = ip[i] as string;
    const v4 = v4Of(address);
    into.pushLines(v4, v4 >= 0 ? undefined : address, held, t, sources, at, l.slice(line, line + lines));
    at += held;
    line += lines;
  }
}

/** Fields a ban may lack (older records): absent stays absent through a snapshot. */
const NONE = -1;

/** A slice of bans as columns. */
export function banColumns(bans: readonly BanDecision[]): Record<string, unknown> {
  const text = new Interner<string>((s) => s);
  const sets = new Interner<readonly string[]>((a) => a.join('\n'));
  const c = { ip: [] as string[], j: [] as number[], at: [] as number[], ex: [] as number[], r: [] as number[], c: [] as number[], h: [] as number[], m: [] as number[], l: [] as string[], f: [] as number[], s: [] as number[], id: [] as Array<string | null>, u: [] as number[] };
  for (const b of bans) {
    c.ip.push(b.ip);
    c.j.push(text.index(b.jail));
    c.at.push(b.atMs);
    c.ex.push(b.expiresMs);
    c.r.push(text.index(b.reason));
    c.c.push(b.banCount);
    c.h.push(sets.index(b.hosts));
    c.m.push(b.matches.length);
    for (const line of b.matches) c.l.push(line);
    c.f.push(b.failures);
    c.s.push(sets.index(b.scope));
    c.id.push(b.id ?? null);
    c.u.push(b.user === undefined ? NONE : text.index(b.user));
  }
  return { ...c, text: text.values, sets: sets.values };
}

/** Appends the bans of one slice to `into`. */
export function readBans(o: Record<string, unknown>, into: BanDecision[]): void {
  const ip = strings(o.ip, 'ban addresses');
  const rows = ip.length;
  const text = strings(o.text, 'ban texts');
  if (!Array.isArray(o.sets)) throw new DecodeError('snapshot: ban host sets are not a list');
  const sets = (o.sets as unknown[]).map((s) => Object.freeze(strings(s, 'a ban host set')));
  const jail = indices(o.j, rows, text.length, 'ban jails');
  const at = counts(o.at, rows, 'ban times');
  const ex = counts(o.ex, rows, 'ban expiries');
  const reason = indices(o.r, rows, text.length, 'ban reasons');
  const count = counts(o.c, rows, 'ban counts');
  const hosts = indices(o.h, rows, sets.length, 'ban hosts');
  const m = counts(o.m, rows, 'ban line counts');
  const l = strings(o.l, 'ban lines', sum(m));
  const failures = counts(o.f, rows, 'ban failures');
  const scope = indices(o.s, rows, sets.length, 'ban scopes');
  const user = indices(o.u, rows, text.length, 'ban users', true);
  const id = o.id;
  if (!Array.isArray(id) || id.length !== rows || !id.every((x) => x === null || typeof x === 'string')) throw new DecodeError('snapshot: ban ids do not decode');
  let line = 0;
  for (let i = 0; i < rows; i++) {
    const lines = m[i] as number;
    const b: { -readonly [K in keyof BanDecision]: BanDecision[K] } = {
      ip: ip[i] as string,
      jail: text[jail[i] as number] as string,
      atMs: at[i] as number,
      expiresMs: ex[i] as number,
      reason: text[reason[i] as number] as BanDecision['reason'],
      banCount: count[i] as number,
      hosts: sets[hosts[i] as number] as readonly string[],
      matches: l.slice(line, line + lines),
      failures: failures[i] as number,
      scope: sets[scope[i] as number] as readonly string[],
    };
    line += lines;
    if (id[i] !== null) b.id = id[i] as string;
    if (user[i] !== NONE) b.user = text[user[i] as number] as string;
    into.push(b);
  }
}

/** A slice of offences (by history key) as columns. */
export function offenceColumns(offences: ReadonlyArray<readonly [string, Offence]>): Record<string, unknown> {
  const c = { key: [] as string[], c: [] as number[], lb: [] as number[], cl: [] as number[], en: [] as number[], tn: [] as number[], t: [] as number[] };
  for (const [key, o] of offences) {
    c.key.push(key);
    c.c.push(o.count);
    c.lb.push(o.lastBanMs);
    c.cl.push(o.clearedAtMs);
    c.en.push(o.endsMs);
    c.tn.push(o.banTimesMs.length);
    for (const t of o.banTimesMs) c.t.push(t);
  }
  return c;
}

/** Appends the offences of one slice to `into`. */
export function readOffences(o: Record<string, unknown>, into: Array<[string, Offence]>): void {
  const key = strings(o.key, 'offence keys');
  const rows = key.length;
  const count = counts(o.c, rows, 'offence counts');
  const last = counts(o.lb, rows, 'offence times');
  const cleared = counts(o.cl, rows, 'offence clearing times');
  const ends = counts(o.en, rows, 'offence ends');
  const tn = counts(o.tn, rows, 'offence ban counts');
  const times = counts(o.t, sum(tn), 'offence ban times');
  let at = 0;
  for (let i = 0; i < rows; i++) {
    const n = tn[i] as number;
    into.push([key[i] as string, { count: count[i] as number, lastBanMs: last[i] as number, clearedAtMs: cleared[i] as number, endsMs: ends[i] as number, banTimesMs: times.slice(at, at + n) }]);
    at += n;
  }
}

/** Values many items share, each held once in a table and named by its index. */
class Interner<T> {
  readonly values: T[] = [];
  readonly #at = new Map<string, number>();
  constructor(private readonly keyOf: (v: T) => string) {}

  index(v: T): number {
    const key = this.keyOf(v);
    let i = this.#at.get(key);
    if (i === undefined) this.#at.set(key, (i = this.values.push(v) - 1));
    return i;
  }
}

function sum(xs: readonly number[]): number {
  let n = 0;
  for (const x of xs) n += x;
  return n;
}

/** `v` as a list of items that each pass `ok` (exactly `length` of them when given), else a DecodeError naming `what`. */
function column<T>(v: unknown, what: string, length: number | undefined, ok: (x: unknown) => boolean): T[] {
  let good = Array.isArray(v) && (length === undefined || v.length === length);
  for (let i = 0; good && i < (v as unknown[]).length; i++) good = ok((v as unknown[])[i]);
  if (!good) throw new DecodeError(`snapshot: ${what} do not decode`);
  return v as T[];
}

/** `v` as a list of strings (of `length` items when given). */
function strings(v: unknown, what: string, length?: number): string[] {
  return column(v, what, length, (x) => typeof x === 'string');
}

/** `v` as `length` non-negative safe integers. */
function counts(v: unknown, length: number, what: string): number[] {
  return column(v, what, length, (x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0);
}

/** `v` as `length` finite numbers (event times). */
function times(v: unknown, length: number, what: string): number[] {
  return column(v, what, length, Number.isFinite);
}

/** `v` as `length` indices into a table of `size` (or {@link NONE} when `optional`). */
function indices(v: unknown, length: number, size: number, what: string, optional = false): number[] {
  return column(v, what, length, (x) => Number.isInteger(x) && (x as number) < size && ((x as number) >= 0 || (optional && x === NONE)));
}
