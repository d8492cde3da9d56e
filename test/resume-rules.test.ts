import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli } from '../src/test-support/cli.js';
import { makeLandscapeRepo } from '../src/test-support/landscape.js';
import { studiesClosedAfterAll } from '../src/test-support/study-harness.js';

const study = studiesClosedAfterAll();
const GREEDY = '[judge]\nkind = "greedy"\nnoise_runs = 1\n';

describe('a resumed study keeps the file rules it started with', () => {
  it('refuses when [files].editable or protected changed, says what changed and what to do; resumes once they are back', async () => {
    const dir = makeLandscapeRepo({ extraToml: GREEDY });
    const toml = join(dir, 'autoresearch.toml');
    const original = readFileSync(toml, 'utf8');
    const first = await study(dir, { maxExperiments: 1 });
    assert.equal(first.outcome.reason, 'max-experiments');

    // An adversary's move: unprotect the evaluation and make it editable, then resume.
    writeFileSync(
      toml,
      original
        .replace('editable = ["train.mjs"]', 'editable = ["train.mjs", "prepare.mjs"]')
        .replace('protected = ["prepare.mjs"]', 'protected = []'),
    );
    const widened = await study(dir, { maxExperiments: 3 });
    assert.equal(widened.outcome.reason, 'error');
    assert.match(
      widened.outcome.message,
      /^study "test" started with other file rules: \[files\]\.editable was \["train\.mjs"\], now \["train\.mjs", "prepare\.mjs"\]; \[files\]\.protected was \["prepare\.mjs"\], now \[\]\./,
    );
    assert.match(
      widened.outcome.message,
      /put the lists back in autoresearch\.toml to resume it, or start a new study under the new rules with --tag \(e\.g\. --tag test-2/,
    );
    const all = await widened.ledger.listExperiments((await widened.ledger.getStudy('test'))!.id);
    assert.equal(all.length, 2, 'nothing ran under the new rules');

    // From the command line: one line, exit 1.
    const r = cli(['run', dir, '-n', '3']);
    assert.equal(r.code, 1);
    assert.match(r.stdout + r.stderr, /started with other file rules/);
    assert.doesNotMatch(r.stdout + r.stderr, /internal error|\n\s+at /);

    // Only the protected list narrowed: refused too.
    writeFileSync(toml, original.replace('protected = ["prepare.mjs"]', 'protected = []'));
    assert.equal((await study(dir, { maxExperiments: 3 })).outcome.reason, 'error');

    // The same lists (another order is the same rule) resume.
    writeFileSync(toml, original.replace('editable = ["train.mjs"]', 'editable = [ "train.mjs" ]'));
    const resumed = await study(dir, { maxExperiments: 2 });
    assert.equal(resumed.outcome.reason, 'max-experiments', resumed.outcome.message);
  });
});
