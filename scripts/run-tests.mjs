// Runs every package's tests as one vitest suite and ends with the plain line
// `N passed, N failed, N skipped` that CI reads. Exit status is vitest's.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'fathom-tests-'));
const report = join(dir, 'report.json');
const run = spawnSync(
  'vitest',
  [
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${report}`,
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit', shell: false },
);
let line = 'tests: 0 passed, 1 failed (vitest wrote no report)';
try {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  const skipped = r.numPendingTests + r.numTodoTests;
  // A suite that fails to load counts as a failure even though it has no tests.
  const failed =
    r.numFailedTests +
    (r.numFailedTestSuites > 0 && r.numFailedTests === 0 ? r.numFailedTestSuites : 0);
  line = `tests: ${r.numPassedTests} passed, ${failed} failed, ${skipped} skipped`;
} catch {
  // keep the failure line
}
rmSync(dir, { recursive: true, force: true });
console.log(line);
process.exit(run.status ?? 1);
