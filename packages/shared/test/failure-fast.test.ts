/**
 * The intake's one-pass reader of failure events (proto/failure-fast.ts) against protobufjs's
 * decoder: whatever bytes it reads, it reads as protobufjs does; what it gives up on, protobufjs
 * decodes (or refuses). Pure logic only.
 */
import { createRequire } from 'node:module';
import t from 'tap';
import { encodeFailure } from '../src/proto/codec.js';
import { type FailureFields, readFailureFast } from '../src/proto/failure-fast.js';
import { readFlatStrings } from '../src/proto/flat-strings.js';
import type { fleetban } from '../src/proto/generated/wire.cjs';

readFlatStrings();
const wire = (createRequire(import.meta.url)('../src/proto/generated/wire.cjs') as typeof import('../src/proto/generated/wire.cjs')).fleetban.wire;

type Read = FailureFields & { schema: number };

/** The one pass's reading of `b`, with its schema. */
function fastRead(b: Uint8Array): Read | undefined {
  const schema = { value: -1 };
  const f = readFailureFast(b, schema);
  return f && { schema: schema.value, ...f };
}

/** protobufjs's reading of `b`, absent fields as the codec reads them; undefined when it throws. */
function slow(b: Uint8Array): Read | undefined {
  let m: fleetban.wire.FailureEvent;
  try {
    m = wire.FailureEvent.decode(b);
  } catch {
    return undefined;
  }
  const n = (v: unknown) => (v == null ? 0 : typeof v === 'number' ? v : (v as { toNumber(): number }).toNumber());
  return { schema: m.schema ?? 0, id: m.id ?? '', host: m.host ?? '', jail: m.jail ?? '', ip: m.ip ?? '', timeMs: n(m.timeMs), user: m.user ?? '', line: m.line ?? '' };
}

/** A small deterministic generator (the same cases every run). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0) / 2 ** 32);
}

const ASCII = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .:-_[]/=';
function text(r: () => number, max: number, unicode: boolean): string {
  let s = '';
  const n = Math.floor(r() * max);
  for (let i = 0; i < n; i++) s += unicode && r() < 0.05 ? 'é€😀'[Math.floor(r() * 3)] : ASCII[Math.floor(r() * ASCII.length)];
  return s;
}

function event(r: () => number, unicode: boolean): Uint8Array {
  const times = [0, 1, 127, 128, 1_796_483_000_000, 2 ** 48, 2 ** 49 - 1, 2 ** 49, 2 ** 53 - 1, -1, -1_796_483_000_000];
  return encodeFailure({
    id: text(r, 30, unicode),
    host: text(r, 20, false),
    jail: text(r, 12, false),
    ip: `10.${Math.floor(r() * 256)}.0.${Math.floor(r() * 256)}`,
    timeMs: times[Math.floor(r() * times.length)] as number,
    user: text(r, 10, unicode),
    line: text(r, 300, unicode),
  });
}

t.test('the encoder’s own events are read in one pass, as protobufjs reads them', async (t) => {
  const r = rng(1);
  let fast = 0;
  for (let i = 0; i < 2000; i++) {
    const b = event(r, i % 2 === 1);
    const f = fastRead(b);
    const s = slow(b);
    if (f) {
      fast++;
      if (JSON.stringify(f) !== JSON.stringify(s)) t.fail(`differs: ${JSON.stringify(f)} / ${JSON.stringify(s)}`);
    }
    const plain = i % 2 === 0 && s !== undefined && s.timeMs >= 0 && s.timeMs < 2 ** 49;
    if (plain && !f) t.fail(`an ASCII event with a time of ${s?.timeMs} was not read in one pass`);
  }
  t.ok(fast > 600, `${fast} of 2000 read in one pass (the others: not ASCII, or a time past 49 bits)`);
});

t.test('damaged bytes: read as protobufjs reads them, or left to it', async (t) => {
  const r = rng(2);
  let fast = 0;
  let differ = 0;
  for (let i = 0; i < 20_000; i++) {
    const b = Uint8Array.from(event(r, false));
    const cuts = 1 + Math.floor(r() * 3);
    let bytes: Uint8Array = b;
    for (let k = 0; k < cuts; k++) {
      const at = Math.floor(r() * bytes.length);
      const how = r();
      if (how < 0.5) bytes[at] = Math.floor(r() * 256);
      else if (how < 0.75) bytes = bytes.subarray(0, at);
      else bytes = Uint8Array.from([...bytes.subarray(0, at), Math.floor(r() * 256), ...bytes.subarray(at)]);
    }
    const f = fastRead(bytes);
    if (!f) continue;
    fast++;
    const s = slow(bytes);
    if (JSON.stringify(f) !== JSON.stringify(s)) {
      differ++;
      if (differ <= 5) t.fail(`differs on ${Buffer.from(bytes).toString('hex')}: ${JSON.stringify(f)} / ${JSON.stringify(s)}`);
    }
  }
  t.equal(differ, 0, `${fast} damaged messages read in one pass, none differently`);
});

t.test('what it leaves to protobufjs', async (t) => {
  const plain = encodeFailure({ id: 'a', host: 'web-1', jail: 'sshd', ip: '192.0.2.1', timeMs: 5, user: '', line: 'x' });
  t.ok(fastRead(plain), 'the plain encoding');
  t.notOk(fastRead(Uint8Array.from([...plain, 0x4a, 0x01, 0x41])), 'an unknown field (9)');
  t.notOk(fastRead(Uint8Array.from([...plain, 0x10, 0x01])), 'a known field with another wire type');
  t.notOk(fastRead(Uint8Array.from([...plain, 0xc2, 0x01, 0x00])), 'a tag of two bytes');
  t.notOk(fastRead(encodeFailure({ id: 'a', host: 'web-1', jail: 'sshd', ip: '192.0.2.1', timeMs: 5, user: 'é', line: 'x' })), 'a string that is not ASCII');
  t.notOk(fastRead(plain.subarray(0, plain.length - 1)), 'cut short');
  t.notOk(fastRead(encodeFailure({ id: 'a', host: 'web-1', jail: 'sshd', ip: '192.0.2.1', timeMs: -1, user: '', line: '' })), 'a negative time (ten varint bytes)');
});
