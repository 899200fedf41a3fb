// The controller's snapshot format: what is encoded decodes the same, whatever the parts' bounds;
// a damaged snapshot is refused with a DecodeError (the controller then starts without it).
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import t from 'tap';
import { type BanDecision, DecodeError } from '@fleetban/shared';
import { keyHash } from '../src/intake/seen-ids.js';
import { type ControllerSnapshot, decodeSnapshot, encodeSnapshot } from '../src/snapshot/snapshot-codec.js';

const snapshot: ControllerSnapshot = {
  createdMs: 1_800_000_000_000,
  seq: 42,
  bansAt: { revision: 7, created: '2026-12-05T00:00:00Z' },
  historyAt: { revision: 3, created: '2026-12-05T00:00:01Z' },
  jails: [
    {
      name: 'sshd',
      totalFailed: 5,
      totalBanned: 1,
      addresses: Array.from({ length: 2_500 }, (_, i) => ({ ip: `198.51.100.${i % 256}`, times: [1, 2 + i], sources: ['web-1', 'web-2'], matches: [`line ${i} «utf-8»`] })),
    },
    { name: 'nginx', totalFailed: 0, totalBanned: 0, addresses: [] },
  ],
  seen: { seeds: [1, 4_294_967_295], hi: Array.from({ length: 12_345 }, (_, i) => (i * 2_654_435_761) >>> 0), lo: Array.from({ length: 12_345 }, (_, i) => i) },
  bans: [{ ip: '203.0.113.5', jail: 'sshd', atMs: 10, expiresMs: 0, reason: 'threshold', banCount: 2, hosts: ['web-1'], matches: ['x'], failures: 3, scope: [], id: 'web-1:sshd:1', user: 'root' }],
  offences: [['sshd.v4.203_0_113_5', { count: 2, lastBanMs: 10, clearedAtMs: Number.MAX_SAFE_INTEGER, endsMs: Number.MAX_SAFE_INTEGER, banTimesMs: [5, 10] }]],
  unsure: ['203.0.113.6'],
};

async function bytesOf(s: ControllerSnapshot, version?: 3 | 4): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of encodeSnapshot(s, version)) parts.push(p);
  return Buffer.concat(parts);
}

async function* split(b: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

t.test('what is encoded decodes the same, in parts of any size, as version 4 and as version 3', async (t) => {
  for (const version of [4, 3] as const) {
    const bytes = await bytesOf(snapshot, version);
    for (const size of [7, 1000, bytes.length]) t.same(plain(await decodeSnapshot(split(bytes, size))), snapshot, `version ${version}, parts of ${size} bytes`);
  }
});

t.test('items of every shape come back as they were', async (t) => {
  const many: ControllerSnapshot = {
    ...snapshot,
    jails: [{ name: 'sshd', totalFailed: 9, totalBanned: 0, addresses: [
      { ip: '198.51.100.1', times: [1.5, 2, 3, 4], sources: ['a', 'b', 'a', 'c'], matches: ['l1', 'l2', 'l3'] },
      { ip: '198.51.100.2', times: [7], sources: ['b'], matches: [] },
      { ip: '2001:db8::1', times: [8, 9], sources: ['c', 'c'], matches: ['only'] },
    ] }],
    bans: [
      snapshot.bans[0] as BanDecision,
      { ip: '198.51.100.0/24', jail: 'recidive', atMs: 11, expiresMs: 99, reason: 'recidive', banCount: 1, hosts: [], matches: [], failures: 0, scope: ['web-1', 'web-2'] },
      { ip: '2001:db8::/64', jail: 'sshd', atMs: 12, expiresMs: 0, reason: 'manual', banCount: 3, hosts: ['web-1'], matches: ['a', 'b'], failures: 5, scope: ['web-1', 'web-2'], id: '', user: '' },
    ],
    offences: [...snapshot.offences, ['recidive.v4.198_51_100_0_24', { count: 1, lastBanMs: 11, clearedAtMs: 99, endsMs: 99, banTimesMs: [] }]],
  };
  for (const version of [4, 3] as const) t.same(plain(await decodeSnapshot(split(await bytesOf(many, version), 64))), many, `version ${version}`);
});

/** `s` with each jail's decoded addresses as a plain list. */
function plain(s: ControllerSnapshot): ControllerSnapshot {
  return { ...s, jails: s.jails.map((j) => ({ ...j, addresses: [...j.addresses] })) };
}

t.test('a damaged version 3 snapshot is refused', async (t) => {
  const text = inflateRawSync(await bytesOf(snapshot, 3)).toString();
  const deflated = (s: string) => split(deflateRawSync(Buffer.from(s)), 100);
  await t.rejects(decodeSnapshot(deflated(text.slice(0, -3))), DecodeError, 'a cut last line');
  await t.rejects(decodeSnapshot(deflated(text.replace('"v":3', '"v":99'))), DecodeError, 'another version');
  await t.rejects(decodeSnapshot(deflated(text.replace('"line 0 «utf-8»"', '5'))), DecodeError, 'a window entry of the wrong shape');
  await t.rejects(decodeSnapshot(deflated(`${text}{"k":"zz","x":[]}\n`)), DecodeError, 'an unknown kind of line');
  await t.rejects(decodeSnapshot(deflated(text.replace(/"seenSeeds":\[[^\]]*\]/, '"seenSeeds":[1]'))), DecodeError, 'seen keys without their two seeds');
  await t.rejects(decodeSnapshot(deflated(text.replace(/,"seenSeeds":\[[^\]]*\]/, ''))), DecodeError, 'a version 3 head without the seeds: damaged, not "no keys"');
  await t.rejects(decodeSnapshot(deflated(`${text}{"k":"s","j":0,"h":"AAAAAA==","l":""}\n`)), DecodeError, 'seen keys of two lengths');
  await t.rejects(decodeSnapshot(deflated('')), DecodeError, 'nothing');
  await t.rejects(decodeSnapshot(split(Buffer.from(text), 100)), DecodeError, 'not deflated');
});

t.test('a version 2 snapshot is read: its seen ids become keys of the host each begins with', async (t) => {
  const lines = inflateRawSync(await bytesOf(snapshot, 3)).toString().split('\n').filter((l) => l !== '' && !l.startsWith('{"k":"s"'));
  lines[0] = (lines[0] as string).replace('"v":3', '"v":2').replace(/,"seenSeeds":\[[^\]]*\]/, '');
  lines.push('{"k":"s","j":0,"x":["web-1:sshd:1","web-2:sshd:9"]}');
  const read = await decodeSnapshot(split(deflateRawSync(Buffer.from(`${lines.join('\n')}\n`)), 100));
  const [a, b] = read.seen.seeds;
  t.same(Array.from(read.seen.hi), [keyHash('web-1', 'web-1:sshd:1', a), keyHash('web-2', 'web-2:sshd:9', a)]);
  t.same(Array.from(read.seen.lo), [keyHash('web-1', 'web-1:sshd:1', b), keyHash('web-2', 'web-2:sshd:9', b)]);
  t.same(plain({ ...read, seen: snapshot.seen }), snapshot, 'the rest as it was');
});
