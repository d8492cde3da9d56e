/**
 * Where results.tsv rows go when several studies of one workspace run at once.
 *
 * The rule (said to the user in one notice): every study writes its rows to
 * `.autoresearch/results/<tag>.tsv`. The root `results.tsv` (the original's file, byte-compatible)
 * belongs to one running study at a time: the one that found it free when it started (it holds
 * the workspace's results lock, an OS-released lock, until it stops). A study started while
 * another one owns it leaves it alone and says where its own rows are
 * (`autoresearch results --tag <tag>` prints them). Alone, a study owns it, as before.
 *
 * Contract: every write is atomic (temporary file + rename): a reader never sees half a file.
 * `openResultsFiles` never throws for a held lock; `release()` may be called more than once.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/load.js';
import { formatResultsTsv } from '../ledger/results-tsv.js';
import type { Experiment } from '../ledger/types.js';
import { STATE_DIR } from '../workspace/workspace.js';
import { acquireLock, resultsLockPath, type LockHolder } from './lock.js';
import { writeAtomic } from './write-atomic.js';

export interface ResultsFiles {
  /** True when this study writes the root results.tsv too. */
  readonly ownsRoot: boolean;
  /** Rewrites the study's per-tag file, and the root results.tsv when it owns it. */
  write(all: readonly Experiment[]): void;
  release(): void;
}

/** The per-study copy: `.autoresearch/results/<tag>.tsv`. */
export function studyResultsPath(root: string, tag: string): string {
  return join(root, STATE_DIR, 'results', `${tag}.tsv`);
}

/** For a starting study: takes the root results.tsv when no running study owns it. */
export function openResultsFiles(config: Config): { files: ResultsFiles; notice: string | null } {
  const tag = config.study.tag;
  const got = acquireLock(resultsLockPath(join(config.root, STATE_DIR)), { tag });
  const lock = got.ok ? got.lock : null;
  const notice = got.ok ? null : notOwnerNotice(got.holder, tag);
  return {
    notice,
    files: {
      ownsRoot: lock !== null,
      write: (all) => writeResultsFiles(config, all, { root: lock !== null }),
      release: () => lock?.release(),
    },
  };
}

/**
 * For `autoresearch results`: writes the per-tag file, and the root results.tsv when no running
 * study owns it. Returns a line for people when the root was left to a running study of another
 * tag, else null.
 */
export function refreshResultsFiles(config: Config, all: readonly Experiment[]): string | null {
  const tag = config.study.tag;
  const got = acquireLock(resultsLockPath(join(config.root, STATE_DIR)), { tag });
  if (got.ok) {
    try {
      writeResultsFiles(config, all, { root: true });
    } finally {
      got.lock.release();
    }
    return null;
  }
  writeResultsFiles(config, all, { root: false });
  // the owner is this very study, running: it keeps the root file current itself
  return got.holder.tag === tag ? null : notOwnerNotice(got.holder, tag);
}

function writeResultsFiles(config: Config, all: readonly Experiment[], opts: { root: boolean }): void {
  const tsv = formatResultsTsv(all, {
    metric: config.objective.metric,
    memoryMetric: config.results.memory_metric,
    memoryScale: config.results.memory_scale,
  });
  const mine = studyResultsPath(config.root, config.study.tag);
  mkdirSync(join(mine, '..'), { recursive: true });
  writeAtomic(mine, tsv);
  if (opts.root) writeAtomic(join(config.root, 'results.tsv'), tsv);
}

function notOwnerNotice(owner: LockHolder, tag: string): string {
  const who = owner.tag
    ? `study "${owner.tag}", running (pid ${owner.pid})`
    : `another running study (pid ${owner.pid})`;
  return `results.tsv at the workspace root belongs to ${who}; the rows of study "${tag}" go to ${join(STATE_DIR, 'results', `${tag}.tsv`)} (\`autoresearch results --tag ${tag}\` prints them)`;
}
