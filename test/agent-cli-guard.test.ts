/**
 * Coding-agent CLIs checked by the harness, through the real loop: a stand-in CLI (a Node script
 * run like codex) that commits its edit, commits a protected file, or writes through a link.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createAgentCliProposer } from '../src/proposer/agent-cli/index.js';
import { proposerConfig } from '../src/test-support/proposal-fixtures.js';
import { git, LANDSCAPE_PREPARE, makeLandscapeRepo } from '../src/test-support/landscape.js';
import { studiesClosedAfterAll } from '../src/test-support/study-harness.js';

const study = studiesClosedAfterAll();

const FAKE_CLI = `
const fs = require('node:fs');
const { execFileSync } = require('node:child_process');
const mode = process.env.FAKE_MODE;
const gitc = (...args) => execFileSync('git', ['-c', 'user.name=cli', '-c', 'user.email=cli@x', ...args], { stdio: 'ignore' });
fs.writeFileSync('train.mjs', fs.readFileSync('train.mjs', 'utf8').replace('const LR = 0.01;', 'const LR = 0.02;'));
if (mode === 'commit') gitc('commit', '-qam', 'cli: LR 0.02');
if (mode === 'commit-protected') {
  fs.writeFileSync('prepare.mjs', 'export const EVAL = 0;\\n');
  gitc('commit', '-qam', 'cli: LR and an easier evaluation');
}
if (mode === 'link-write') fs.appendFileSync('data/shard.txt', 'poison\\n');
console.log('DESCRIPTION: LR 0.01 -> 0.02');
`;

function cliProposer(mode: string) {
  const script = join(tmpdir(), `ar-fake-committing-cli-${process.pid}.cjs`);
  writeFileSync(script, FAKE_CLI);
  const made = createAgentCliProposer(
    'codex',
    proposerConfig({ kind: 'codex', command: [process.execPath, script], timeout_s: 30 }),
    { PATH: process.env.PATH, FAKE_MODE: mode },
    { killGraceMs: 200 },
  );
  assert.ok(made.ok);
  return made.proposer;
}

async function oneProposal(mode: string, extraToml = '') {
  const dir = makeLandscapeRepo({ extraToml: `${extraToml}[judge]\nkind = "greedy"\nnoise_runs = 1\n` });
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'data', 'shard.txt'), 'real data\n');
  const base = git(dir, ['rev-parse', 'HEAD']).trim();
  const r = await study(dir, { maxExperiments: 1 }, { proposer: cliProposer(mode) });
  const e = (await r.ledger.listExperiments((await r.ledger.getStudy('test'))!.id))[1]!;
  return { dir, base, e, r };
}

describe('agent CLIs checked by the harness', () => {
  it("a CLI that commits its edit: folded into one change, checked, run and kept as the harness's commit", async () => {
    const { dir, base, e } = await oneProposal('commit');
    assert.equal(e.status, 'keep', e.reason);
    assert.equal(e.description, 'LR 0.01 -> 0.02');
    assert.match(e.diff, /^-const LR = 0\.01;.*\n\+const LR = 0\.02;/m);
    assert.equal(
      git(dir, ['rev-parse', `${e.commit}^`]).trim(),
      base,
      "one commit on the base: the CLI's commit is not in the history",
    );
    assert.equal(git(dir, ['log', '-1', '--format=%an %s', e.commit!]).trim().startsWith('cli'), false);
    assert.equal(git(dir, ['rev-parse', 'autoresearch/test']).trim(), e.commit);
  });

  it('a CLI that commits a protected file: rejected with the reason, never run', async () => {
    const { dir, base, e, r } = await oneProposal('commit-protected');
    assert.equal(e.status, 'rejected');
    assert.equal(
      e.reason,
      'the proposal touched file(s) outside [files].editable: prepare.mjs (in commits or staging it made itself, folded into one change)',
    );
    assert.match(e.diff, /prepare\.mjs/, 'the attempt is recorded');
    assert.equal(e.logPath, null);
    assert.ok(!r.events.some((x) => x.type === 'run-started' && x.number === 1));
    assert.equal(git(dir, ['rev-parse', 'autoresearch/test']).trim(), base);
    assert.equal(git(dir, ['show', 'autoresearch/test:prepare.mjs']), LANDSCAPE_PREPARE);
  });

  it('a CLI that writes through a [files].link: rejected with the path, and said out loud', async () => {
    // max_rejections = 1: a rejection is not counted as an experiment, so the study would ask again
    const { dir, e, r } = await oneProposal('link-write', 'link = ["data"]\n[proposer]\nmax_rejections = 1\n');
    assert.equal(e.status, 'rejected');
    assert.equal(
      e.reason,
      'the proposal wrote outside [files].editable where git does not look: data/shard.txt (through the link data)',
    );
    assert.ok(r.events.some((x) => x.type === 'notice' && x.level === 'warn' && /data\/shard\.txt/.test(x.message)));
    assert.equal(
      readFileSync(join(dir, 'data', 'shard.txt'), 'utf8'),
      'real data\npoison\n',
      'the write reached the real data: why it must be seen',
    );
  });
});
