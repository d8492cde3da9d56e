/**
 * Test fixture: a git workspace whose command is a fast Node script printing a metric that is a
 * known function of its UPPER_CASE constants (a "landscape"), optimum known. Real git, real files.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const LANDSCAPE_TRAIN = `// A synthetic landscape: val_bpb is a known function of the constants below.
const LR = 0.01; // learning rate (optimum 0.04)
const WIDTH = 32; // model width, power of two (optimum 128)
const USE_TRICK = false; // a switch that helps
const DROPOUT = 0.5; // fraction in [0, 1] (optimum 0.1)

const score =
  1 +
  (Math.log10(LR) - Math.log10(0.04)) ** 2 +
  0.05 * (Math.log2(WIDTH) - 7) ** 2 +
  (USE_TRICK ? 0 : 0.2) +
  (DROPOUT - 0.1) ** 2;
console.log("training...");
console.log("---");
console.log("val_bpb:      " + score.toFixed(6));
console.log("peak_vram_mb: 2048.0");
`;

export const LANDSCAPE_PREPARE = `// Protected: the fixed evaluation would live here.
export const EVAL = 1;
`;

export interface LandscapeOptions {
  /** Replace train.mjs content. */
  train?: string;
  command?: string;
  extraToml?: string;
  /** Extra lines of the [study] table (e.g. "failure_window = 4"). */
  studyToml?: string;
  timeoutS?: number;
  tag?: string;
  /** [run].sandbox (default: the config's default, "auto"). */
  sandbox?: 'auto' | 'bwrap' | 'none';
}

/** Creates a committed workspace in a fresh temp dir and returns its path. */
export function makeLandscapeRepo(opts: LandscapeOptions = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'ar-landscape-'));
  writeFileSync(join(dir, 'train.mjs'), opts.train ?? LANDSCAPE_TRAIN);
  writeFileSync(join(dir, 'prepare.mjs'), LANDSCAPE_PREPARE);
  writeFileSync(
    join(dir, 'autoresearch.toml'),
    [
      '[study]',
      `tag = "${opts.tag ?? 'test'}"`,
      ...(opts.studyToml ? [opts.studyToml] : []),
      '[objective]',
      'metric = "val_bpb"',
      'direction = "minimize"',
      '[run]',
      `command = ${JSON.stringify(opts.command ?? 'node train.mjs')}`,
      `timeout_s = ${opts.timeoutS ?? 30}`,
      'kill_grace_s = 1',
      ...(opts.sandbox ? [`sandbox = "${opts.sandbox}"`] : []),
      '[files]',
      'editable = ["train.mjs"]',
      'protected = ["prepare.mjs"]',
      opts.extraToml ?? '',
    ].join('\n'),
  );
  git(dir, ['init', '--quiet', '-b', 'main']);
  git(dir, ['add', '-A']);
  git(dir, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-m', 'init']);
  return dir;
}

export function git(dir: string, args: string[]): string {
  return execFileSync('git', args, { cwd: dir, encoding: 'utf8' });
}
