/**
 * The adversarial suite's fixture: a workspace made from templates/landscape with the protected
 * evaluate step, the sandbox required, a linked data folder whose validation file only the
 * evaluate step may read, and a scripted proposer that makes exactly one hostile change.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import type { Experiment } from '../../src/ledger/types.js';
import type { Proposer } from '../../src/proposer/types.js';
import { git } from '../../src/test-support/landscape.js';
import { scriptedProposer, type StudyRun } from '../../src/test-support/study-harness.js';

const TEMPLATE = new URL('../../templates/landscape/', import.meta.url).pathname;
export const VAL_TEXT = 'the validation text nobody may train on\n';

export interface HostileWorkspace {
  dir: string;
  /** Stands for the user's $HOME (the harness's HOME while the suite runs). */
  home: string;
  /** The original train.mjs. */
  train: string;
}

export function makeHostileWorkspace(extraToml = ''): HostileWorkspace {
  const dir = mkdtempSync(join(tmpdir(), 'ar-adv-'));
  for (const f of ['train.mjs', 'prepare.mjs', 'program.md']) copyFileSync(join(TEMPLATE, f), join(dir, f));
  writeFileSync(join(dir, '.gitignore'), 'data/\ncache/\n');
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'data', 'val.txt'), VAL_TEXT);
  writeFileSync(join(dir, 'data', 'train.txt'), 'training text\n');
  writeFileSync(
    join(dir, 'autoresearch.toml'),
    [
      '[study]',
      'tag = "adv"',
      '[run]',
      'command = "node train.mjs"',
      'evaluate = "node prepare.mjs evaluate"',
      'timeout_s = 20',
      'evaluate_timeout_s = 20',
      'kill_grace_s = 1',
      'log_cap_mb = 1',
      'sandbox = "bwrap"',
      '[files]',
      'editable = ["train.mjs"]',
      'protected = ["prepare.mjs"]',
      'link = ["data"]',
      'validation = ["data/val.txt"]',
      '[judge]',
      'kind = "greedy"',
      // Every hostile change leaves the knobs alone: on the same seed as the baseline its value is
      // the baseline's, so a keep can only come from a forged or leaked number, never from noise.
      'seeds = "indexed"',
      '[slots]',
      'count = 1',
      'gpus = "none"',
      'prefetch = 0',
      extraToml,
    ].join('\n'),
  );
  git(dir, ['init', '--quiet', '-b', 'main']);
  git(dir, ['add', '-A']);
  git(dir, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-m', 'init']);
  const home = mkdtempSync(join(tmpdir(), 'ar-adv-home-'));
  return { dir, home, train: readFileSync(join(dir, 'train.mjs'), 'utf8') };
}

/** A proposer whose first proposals replace train.mjs with the given sources, then stops. */
export function hostile(description: string, ...sources: string[]): Proposer {
  return scriptedProposer('hostile', async (ctx, call) => {
    const src = sources[call];
    if (src === undefined) return { kind: 'exhausted', reason: 'done' };
    writeFileSync(join(ctx.worktree, 'train.mjs'), src);
    return { kind: 'ok', description: `${description}${sources.length > 1 ? ` (${call + 1})` : ''}` };
  });
}

/** train.mjs with `code` run before training (top-level await allowed). */
export function withPrelude(ws: HostileWorkspace, code: string): string {
  return ws.train.replace(
    "import { train } from './prepare.mjs';",
    `import { train } from './prepare.mjs';\n${code}\n`,
  );
}

/** train.mjs with `code` appended after training. */
export function withEpilogue(ws: HostileWorkspace, code: string): string {
  return `${ws.train}\n${code}\n`;
}

/** The study's experiments, baseline first. */
export async function experiments(run: StudyRun): Promise<Experiment[]> {
  const s = (await run.ledger.getStudy('adv'))!;
  return run.ledger.listExperiments(s.id);
}

/**
 * What every case asserts: the hostile experiments ended rejected, crash, timeout or discard with a
 * reason; nothing was kept; the best is still the baseline; the workspace is as it was
 * (clean tree, same HEAD, protected file and data untouched, no git hooks, nothing in $HOME).
 */
export async function assertContained(
  ws: HostileWorkspace,
  run: StudyRun,
  allowed: Experiment['status'][] = ['rejected', 'crash', 'timeout', 'discard'],
): Promise<Experiment[]> {
  const all = await experiments(run);
  const base = all[0]!;
  assert.equal(base.status, 'keep', `baseline: ${base.reason}`);
  const rest = all.slice(1);
  assert.ok(rest.length >= 1, 'the hostile change was proposed');
  for (const e of rest) {
    assert.ok(allowed.includes(e.status), `#${e.number} ${e.description}: ${e.status} (${e.reason})`);
    assert.ok(e.reason.length > 0, `#${e.number} has a reason`);
  }
  const s = (await run.ledger.getStudy('adv'))!;
  assert.equal(s.bestCommit ?? s.baseCommit, base.parentCommit, 'the best is still the baseline');
  assert.equal(git(ws.dir, ['status', '--porcelain']).trim(), '', 'the workspace tree is clean');
  assert.equal(readFileSync(join(ws.dir, 'prepare.mjs'), 'utf8'), readFileSync(join(TEMPLATE, 'prepare.mjs'), 'utf8'));
  assert.equal(readFileSync(join(ws.dir, 'data', 'val.txt'), 'utf8'), VAL_TEXT);
  assert.deepEqual(readdirSync(join(ws.dir, 'data')).sort(), ['train.txt', 'val.txt']);
  const hooks = join(ws.dir, '.git', 'hooks');
  assert.deepEqual(
    existsSync(hooks) ? readdirSync(hooks).filter((f) => !f.endsWith('.sample')) : [],
    [],
    'no git hook was planted',
  );
  assert.deepEqual(readdirSync(ws.home), [], 'nothing was written to $HOME');
  return rest;
}

/** Processes whose command line contains `marker` (other than this check). */
export function processesWith(marker: string): string[] {
  try {
    return execFileSync('pgrep', ['-af', marker], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.trim() && !l.includes('pgrep'));
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}
