// npm run bench: runs every bench/*.bench.mjs (or those named on the command line) one after the
// other, each in its own process, after a build. Each bench writes its section as Markdown to
// bench/results/<name>.md; this script then writes docs/benchmarks.md from every section present.
// `node bench/run.mjs --collect` only rewrites docs/benchmarks.md from the sections already there.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const root = join(dir, '..');
const collectOnly = process.argv.includes('--collect');
const wanted = process.argv.slice(2).filter((a) => a !== '--collect');
const benches = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.mjs'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)))
  .sort();

if (!collectOnly) execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
for (const b of collectOnly ? [] : benches) {
  process.stdout.write(`\n== ${b}\n`);
  execFileSync(process.execPath, ['--expose-gc', join(dir, b)], { cwd: root, stdio: 'inherit' });
}

const results = join(dir, 'results');
const sections = readdirSync(results).filter((f) => f.endsWith('.md')).sort().map((f) => readFileSync(join(results, f), 'utf8').trim());
writeFileSync(
  join(root, 'docs', 'benchmarks.md'),
  `# Benchmarks\n\nWritten by \`npm run bench\` (bench/run.mjs) from the sections in bench/results/; each section says how it was measured, on which machine, and when.\n\n${sections.join('\n\n')}\n`,
);
process.stdout.write('\nwrote docs/benchmarks.md\n');
