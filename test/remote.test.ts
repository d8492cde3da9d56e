import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { git, makeLandscapeRepo } from '../src/test-support/landscape.ts';
import { studiesClosedAfterAll } from '../src/test-support/study-harness.ts';

const study = studiesClosedAfterAll();
const FAST = '[judge]\nkind = "greedy"\nnoise_runs = 1\n[slots]\ncount = 1\ngpus = "none"\n';

describe('[study] remote', () => {
  it('pushes the study branch after each keep: the remote holds the best', async () => {
    const remote = join(mkdtempSync(join(tmpdir(), 'ar-remote-')), 'lab.git');
    execFileSync('git', ['init', '--quiet', '--bare', remote]);
    const dir = makeLandscapeRepo({ sandbox: 'none', extraToml: FAST });
    const toml = join(dir, 'autoresearch.toml');
    execFileSync('sed', ['-i', `s#^\\[study\\]#[study]\\nremote = "${remote}"#`, toml]);
    git(dir, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-am', 'remote']);
    const r = await study(dir, { maxExperiments: 6 });
    assert.ok(r.config.study.remote === remote);
    const s = (await r.ledger.getStudy('test'))!;
    assert.ok(s.bestNumber! > 0, 'something was kept');
    assert.equal(git(remote, ['rev-parse', 'autoresearch/test']).trim(), s.bestCommit);
    assert.ok(!r.events.some((e) => e.type === 'notice' && /could not push/.test(e.message)));
  });

  it('a remote that refuses is one warning, and the study goes on', async () => {
    const dir = makeLandscapeRepo({ sandbox: 'none', extraToml: FAST });
    const toml = join(dir, 'autoresearch.toml');
    execFileSync('sed', ['-i', 's#^\\[study\\]#[study]\\nremote = "/nonexistent/lab.git"#', toml]);
    git(dir, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-am', 'remote']);
    const r = await study(dir, { maxExperiments: 6 });
    assert.equal(r.outcome.reason, 'max-experiments');
    const warnings = r.events.filter((e) => e.type === 'notice' && /could not push autoresearch\/test/.test(e.message));
    assert.equal(warnings.length, 1, 'warned once, not at every keep');
  });
});
