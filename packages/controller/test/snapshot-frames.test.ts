// Snapshot format version 4 (windows in binary frames): a live window's capture decodes to what it
// held at the capture, the same as version 3 gives, however the window changes while it is
// written; damaged or hostile frames are a DecodeError, never another error or a hang.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import t from 'tap';
import { type CapturedAddress, DecodeError, FailureWindow } from '@fleetban/shared';
import { fuzzSeed, mutateBytes, Rng } from '../../../test/fixtures/fuzz.js';
import { type ControllerSnapshot, decodeSnapshot, encodeSnapshot } from '../src/snapshot/snapshot-codec.js';

const base = {
  createdMs: 1_800_000_000_000,
  seq: 42,
  bansAt: { revision: 7, created: '2026-12-05T00:00:00Z' },
  historyAt: { revision: 3, created: '2026-12-05T00:00:01Z' },
  seen: { seeds: [1, 2] as [number, number], hi: new Uint32Array([5]), lo: new Uint32Array([6]) },
  bans: [],
  offences: [],
  unsure: [],
};

/** A seeded generator of floats in [0, 1). */
function random(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.float();
}

/** An address of every kind: dotted IPv4, IPv6, text that is neither (and IPv4 that is not canonical). */
function addressOf(i: number): string {
  switch (i % 5) {
    case 0: return `2001:db8::${(i % 65_536).toString(16)}`;
    case 1: return `host-${i}.example`;
    case 2: return `198.051.100.${i % 256}`;
    default: return `198.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  }
}

const LINES = ['plain', 'ünïcödé «line» ✓', 'emoji 🚫 in a line', ''];

/** Failures into `w`, the same for the same seed: new and repeated addresses, 1 to many failures, 0 to many lines. */
function fill(w: FailureWindow, seed: number, n: number): void {
  const next = random(seed);
  for (let i = 0; i < n; i++) {
    const a = addressOf(Math.floor(next() * n * 0.6));
    w.add(a, 1_000_000 + i + next(), `web-${Math.floor(next() * 4)}`, `${LINES[i % LINES.length]} ${i}`);
  }
}

/** Changes `w` as a busy window would: more failures (a row goes past two), resets, new addresses that evict. */
function change(w: FailureWindow, seed: number, n: number): void {
  const next = random(seed);
  for (let i = 0; i < n; i++) {
    const r = next();
    if (r < 0.4) w.add(addressOf(Math.floor(next() * n)), 2_000_000 + i, 'web-9', `later ${i} ✓`);
    else if (r < 0.6) w.reset(addressOf(Math.floor(next() * n)));
    else w.add(`203.0.113.${i % 256}-${i}`, 2_000_000 + i, 'web-8', 'new');
  }
}

async function bytesOf(s: ControllerSnapshot, version: 3 | 4, during?: () => void): Promise<Buffer> {
  const parts: Buffer[] = [];
  let done = false;
  const busy = (async () => {
    // the window changes between the encoder's slices, as deciding goes on during a save
    while (!done && during) {
      during();
      await new Promise((r) => setImmediate(r));
    }
  })();
  for await (const p of encodeSnapshot(s, version)) parts.push(p);
  done = true;
  await busy;
  return Buffer.concat(parts);
}

function plain(s: ControllerSnapshot): CapturedAddress[][] {
  return s.jails.map((j) => [...j.addresses]);
}

/** A window filled by `seed`, with maxmatches 3 and room for `cap` addresses. */
function windowOf(seed: number, cap: number): FailureWindow {
  const w = new FailureWindow({ findtimeMs: 10_000_000, maxmatches: 3, maxTracked: cap }, 1000, 200);
  fill(w, seed, 6_000);
  return w;
}

t.test('a live capture decodes as it was, the same in version 4 as in version 3, while its window changes', async (t) => {
  for (const seed of [1, 2, 3]) {
    const decoded: CapturedAddress[][][] = [];
    let expected: CapturedAddress[] = [];
    for (const version of [4, 3] as const) {
      const w = windowOf(seed, 3_000);
      const addresses = w.capture();
      expected = addresses.slice();
      let step = 0;
      const bytes = await bytesOf({ ...base, jails: [{ name: 'sshd', totalFailed: 1, totalBanned: 0, addresses }] }, version, () => change(w, seed * 1_000 + step++, 300));
      t.ok(step > 1, `the window changed while version ${version} was written`);
      const read = await decodeSnapshot((async function* () { yield bytes; })());
      decoded.push(plain(read));
      // a new window takes the decoded rows back (IPv4 by value from version 4) as they were
      const back = new FailureWindow({ findtimeMs: 10_000_000, maxmatches: 3, maxTracked: 3_000 }, 1000, 200);
      back.restore((read.jails[0] as ControllerSnapshot['jails'][number]).addresses as Iterable<CapturedAddress>);
      t.same(back.capture().slice(), expected, `seed ${seed}: version ${version} restored into a new window`);
    }
    t.ok(expected.some((a) => a.times.length > 2) && expected.some((a) => a.matches.length === 0 || a.matches.length > 1), 'rows of every shape');
    t.same(decoded[0], [expected], `seed ${seed}: version 4 holds the capture as it was`);
    t.same(decoded[0], decoded[1], `seed ${seed}: version 4 decodes as version 3 does`);
  }
});

t.test('a window frame ends by its bytes too: long lines make more, smaller frames', async (t) => {
  const long = 'x'.repeat(16 * 1024);
  const addresses = Array.from({ length: 60 }, (_, i) => ({ ip: `198.51.100.${i}`, times: [i], sources: ['h'], matches: [long, `ü${i}`] }));
  const bytes = await bytesOf({ ...base, jails: [{ name: 'sshd', totalFailed: 0, totalBanned: 0, addresses }] }, 4);
  const raw = inflateRawSync(bytes);
  let frames = 0;
  for (let at = 0; at < raw.length; at += 5 + raw.readUInt32LE(at + 1)) frames += raw[at] === 0x57 ? 1 : 0;
  t.equal(frames, 3, 'a frame ends at the first check of its size past 256 KiB, every 25 rows: 25, 25 and 10 rows');
  t.same(plain(await decodeSnapshot((async function* () { yield bytes; })())), [addresses]);
});

t.test('damaged or hostile version 4 bytes are a DecodeError, never another error', async (t) => {
  const w = windowOf(7, 500);
  const raw = inflateRawSync(await bytesOf({ ...base, jails: [{ name: 'sshd', totalFailed: 1, totalBanned: 0, addresses: w.capture() }] }, 4));
  const decode = (b: Buffer) => decodeSnapshot((async function* () { yield deflateRawSync(b); })());
  const hostile = Buffer.from(raw);
  hostile.writeUInt32LE(0xffff_ffff, 1);
  await t.rejects(decode(hostile), DecodeError, 'a frame length past any limit');
  await t.rejects(decode(raw.subarray(0, raw.length - 1)), DecodeError, 'a cut last frame');
  await t.rejects(decode(Buffer.concat([raw, Buffer.from([0x5a, 0, 0, 0, 0])])), DecodeError, 'a frame of unknown kind');
  await t.rejects(decode(Buffer.from([0x57, 0, 0, 0, 0])), DecodeError, 'no head first');
  await t.rejects(decode(Buffer.from('not a snapshot')), DecodeError, 'neither lines nor frames');
  const rng = new Rng(fuzzSeed());
  let refused = 0;
  for (let i = 0; i < 600; i++) {
    if (i >= 400) {
      // one byte anywhere: in a length, a count, a key kind, a time or a line
      const b = Buffer.from(raw);
      b[rng.int(b.length)] = rng.int(256);
      await decode(b).catch((err: unknown) => void (err instanceof DecodeError || t.fail(`seed ${rng.seed}, attempt ${i} (one byte): ${String(err)}`)));
      continue;
    }
    // most damage near the start (the head and the first window frames), some anywhere
    const whole = i % 2 === 0 ? raw.subarray(0, 4_000) : raw;
    const { bytes, how } = mutateBytes(rng, whole);
    const b = Buffer.concat([bytes, raw.subarray(whole.length)]);
    try {
      await decode(b);
    } catch (err) {
      if (!(err instanceof DecodeError)) t.fail(`seed ${rng.seed}, attempt ${i} (${how}): ${String(err)}`);
      refused++;
    }
  }
  t.ok(refused > 100, `${refused} of 400 damaged snapshots refused, the rest read; 200 with one byte changed read or refused`);
});
