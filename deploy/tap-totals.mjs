// Passes tap's TAP output through and ends with the line CI reads: `N passed, N failed[, N skipped]`.
// Counted are assertions (test points that are not subtest summaries, which carry `# time=`), plus
// one failure for each test file that failed without a failing assertion of its own (a crash).
import { createInterface } from 'node:readline';

let passed = 0;
let failed = 0;
let skipped = 0;
let failedInFile = 0;
for await (const line of createInterface({ input: process.stdin })) {
  process.stdout.write(`${line}\n`);
  const point = /^(\s*)(not )?ok \d+/.exec(line);
  if (!point) continue;
  const summary = line.includes('# time=');
  if (point[1] === '') {
    if (point[2] && failedInFile === 0) failed++;
    failedInFile = 0;
  } else if (!summary) {
    if (/# (SKIP|TODO)/i.test(line)) skipped++;
    else if (point[2]) {
      failed++;
      failedInFile++;
    } else passed++;
  }
}
process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
process.exit(failed > 0 ? 1 : 0);
