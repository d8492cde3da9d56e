/**
 * The README's tiny benchmark command runs: `bench/tiny/learning.ts --runs N` trains N times and
 * scores each run with evaluate.ts (on the built-in data here: `--gutenberg` reads the team's
 * ../shared folder, which a clone elsewhere does not have). A 2-second budget keeps it short;
 * the figure itself is the README's, not this test's.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('bench/tiny/learning.ts', () => {
  it('--runs 1 trains once and prints the evaluated val_bpb', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/tiny/learning.ts', '--runs', '1'], {
      cwd: ROOT,
      env: { ...process.env, AUTORESEARCH_TIME_BUDGET: '2' },
      encoding: 'utf8',
      timeout: 180_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /train\.ts run 1: val_bpb \d+\.\d+/);
    assert.match(r.stdout, /train\.ts val_bpb: median \d+\.\d+/);
    assert.doesNotMatch(r.stdout, /run 2:/, '--runs 1 runs once');
  });
});
