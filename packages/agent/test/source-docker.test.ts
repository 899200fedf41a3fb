// The Docker backend on a json-file log laid out as dockerd writes it under a test data root:
// <root>/containers/<id>/config.v2.json and <id>-json.log (rotated to <id>-json.log.1).
import { appendFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { type JailConfig, silentLogger } from '@fleetban/shared';
import { DockerSource, findContainer } from '../src/tail/docker-source.js';
import { createSource, type LogLine, type LogSource } from '../src/tail/source.js';
import { sourceSpec, type DockerSpec } from '../src/tail/source-spec.js';
import { jailWithKeys } from '../../../test/fixtures/jail-config.js';

const WAIT_MS = 30_000; // a bound, not a measure (loaded machines)
const ID1 = 'a1b2c3d4e5f6'.repeat(5) + 'a1b2';
const ID2 = 'f6e5d4c3b2a1'.repeat(5) + 'f6e5';

const jail = jailWithKeys;

/** A container as dockerd leaves it on disk. */
function container(root: string, id: string, name: string, created: string): string {
  const dir = join(root, 'containers', id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.v2.json'), JSON.stringify({ ID: id, Name: `/${name}`, Created: created, State: { Running: true } }));
  const log = join(dir, `${id}-json.log`);
  writeFileSync(log, '');
  return log;
}

let n = 0;
/** `count` json-file entries for lines `line <n>`, alternating stdout / stderr. */
function entries(count: number): string {
  let s = '';
  for (let i = 0; i < count; i++) {
    n++;
    s += `${JSON.stringify({ log: `line ${n} from 203.0.113.7\n`, stream: n % 2 ? 'stdout' : 'stderr', time: new Date().toISOString() })}\n`;
  }
  return s;
}

async function follow(tt: Test, src: LogSource) {
  const got: LogLine[] = [];
  const waiters: Array<() => void> = [];
  await src.start((l) => { got.push({ ...l }); for (const w of [...waiters]) w(); });
  tt.teardown(() => src.stop());
  const until = (cond: () => boolean, what: string) => new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got ${got.length} lines, the last ${JSON.stringify(got.slice(-2).map((l) => l.text))}`)), WAIT_MS);
    const check = () => { if (cond()) { clearTimeout(timer); waiters.splice(waiters.indexOf(check), 1); resolve(); } };
    waiters.push(check);
    check();
  });
  const nums = () => got.map((l) => Number(/^line (\d+)/.exec(l.text)?.[1]));
  return { got, until, nums, upTo: (k: number) => until(() => nums().includes(k), `line ${k}`) };
}

t.test('docker[container=NAME]: json-file lines, rotation, restart, recreated container', async (tt) => {
  const root = tt.testdir({ state: {} });
  const log1 = container(root, ID1, 'web', '2024-05-01T10:00:00.000000000Z');
  appendFileSync(log1, entries(3)); // before the first start: not read
  const start = n;
  const spec = sourceSpec(jail('web-sshd', { backend: `docker[container=web, root=${root}]` })) as DockerSpec;
  tt.same(spec, { kind: 'docker', container: 'web', root }, 'backend = docker[container=NAME, root=DIR]');
  const opts = { spec, stateDir: join(root, 'state'), name: 'web-sshd', maxLineBytes: 1000, pollMs: 10, rescanMs: 40, rotateGraceMs: 60_000, logger: silentLogger(), clock: Date.now };

  const a = await follow(tt, new DockerSource(opts));
  appendFileSync(log1, entries(50));
  // a long line dockerd split in 16 KiB pieces (here: three), interleaved with the other stream
  appendFileSync(log1, [
    JSON.stringify({ log: 'line 1000 part one, ', stream: 'stdout', time: '2024-05-01T10:00:01.123456789Z' }),
    JSON.stringify({ log: 'an interleaved stderr line 1001\n', stream: 'stderr', time: '2024-05-01T10:00:01.2Z' }),
    JSON.stringify({ log: 'part two, ', stream: 'stdout', time: '2024-05-01T10:00:01.3Z' }),
    JSON.stringify({ log: 'part three\n', stream: 'stdout', time: '2024-05-01T10:00:01.4Z' }),
    'not json at all',
    JSON.stringify({ log: `${'y'.repeat(5000)}\n`, stream: 'stdout', time: '2024-05-01T10:00:01.5Z' }),
  ].join('\n') + '\n');
  appendFileSync(log1, entries(5));
  await a.upTo(n);
  tt.same(a.got.filter((l) => !l.text.startsWith('line ') || l.text.startsWith('line 1000')).map((l) => l.text),
    ['an interleaved stderr line 1001', 'line 1000 part one, part two, part three'], 'pieces joined per stream');
  tt.equal(a.got.find((l) => l.text.includes('stderr line'))?.timeMs, Date.parse('2024-05-01T10:00:01.2Z'), 'timeMs from the entry');
  tt.equal(a.got[0]?.path, log1);
  tt.same(a.nums().filter((k) => k < 1000), Array.from({ length: n - start }, (_, i) => start + i + 1));

  // rotation by dockerd (max-size): -json.log → -json.log.1, with lines written around it
  appendFileSync(log1, entries(40));
  renameSync(log1, `${log1}.1`);
  appendFileSync(`${log1}.1`, entries(5)); // dockerd still had the old file
  writeFileSync(log1, entries(30));
  await a.upTo(n);
  tt.same(a.nums().filter((k) => k < 1000), Array.from({ length: n - start }, (_, i) => start + i + 1), 'through rotation: each line once, in order');
  const ids = a.got.map((l) => l.id ?? '');
  tt.ok(ids.every((id) => /^[\w-]{12}:\d+$/.test(id)), 'every line has an id: <log file tag>:<offset just after its last entry>');
  tt.equal(new Set(ids).size, ids.length, 'distinct ids, also across the rotation');
});

t.test('restart from saved positions, and a container recreated under the same name', async (tt) => {
  const root = tt.testdir({ state: {} });
  const log1 = container(root, ID1, 'proxy', '2024-05-01T10:00:00Z');
  const j = jail('proxy', { backend: `docker[container=proxy, root=${root}]` });
  const deps = { stateDir: join(root, 'state'), pollMs: 10, logger: silentLogger(), clock: Date.now };
  const srcA = createSource(j, deps);
  const a = await follow(tt, srcA);
  const s0 = n;
  appendFileSync(log1, entries(20));
  await a.upTo(n);
  await srcA.stop();
  appendFileSync(log1, entries(20)); // while the agent is down
  const srcB = new DockerSource({ spec: sourceSpec(j) as DockerSpec, ...deps, name: 'proxy', maxLineBytes: 65536, rescanMs: 40 });
  const b = await follow(tt, srcB);
  appendFileSync(log1, entries(5));
  await b.upTo(n);
  tt.same([...a.nums(), ...b.nums()], Array.from({ length: n - s0 }, (_, i) => s0 + i + 1), 'no line lost or repeated across the restart');

  // docker compose up recreates the container: new id, same name, new log file
  const log2 = container(root, ID2, 'proxy', '2024-05-02T10:00:00Z');
  writeFileSync(join(root, 'containers', ID1, 'config.v2.json'), JSON.stringify({ ID: ID1, Name: '/proxy', Created: '2024-05-01T10:00:00Z', State: { Running: false } }));
  appendFileSync(log2, entries(10));
  await b.upTo(n);
  tt.equal(b.got[b.got.length - 1]?.path, log2, 'followed into the new container');
  tt.equal(await findContainer(root, ID2.slice(0, 12)), ID2, 'an id prefix');
  tt.equal(await findContainer(root, 'nope'), '');
});
