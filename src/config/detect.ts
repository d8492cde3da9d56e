/**
 * Recognises a checkout of the original autoresearch (prepare.py, train.py and program.md side
 * by side, no autoresearch.toml) and answers what `init` would have asked, so that `init` and
 * `run` work there without flags: the seed's command, its metric and its file roles.
 *
 * Contract: detectOriginalLayout only reads (the directory and PATH) and never throws for odd
 * input (an unreadable directory is simply "not detected"); adoptOriginalLayout also writes the
 * config.
 */
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findExecutable } from '../runner/which.js';
import { CONFIG_FILE, defaultTag } from './load.js';
import { renderConfigToml, type InitAnswers } from './render.js';

/** The files that make a directory the original layout. */
export const ORIGINAL_FILES = ['prepare.py', 'train.py', 'program.md'] as const;
/** Files of the original that the proposer must not touch besides prepare.py, when present. */
const OPTIONAL_PROTECTED = ['pyproject.toml', 'uv.lock'] as const;

export type Detection = { detected: true; answers: InitAnswers; notes: string[] } | { detected: false };

export interface DetectOptions {
  /** PATH to look for `uv` in (default: process.env.PATH). */
  pathVar?: string;
  /** Study tag (default: today, e.g. nov27). */
  tag?: string;
  /** Detect even when autoresearch.toml exists (init --force). */
  ignoreExistingConfig?: boolean;
}

export function detectOriginalLayout(dir: string, opts: DetectOptions = {}): Detection {
  const has = (name: string) => isFile(join(dir, name));
  if (!opts.ignoreExistingConfig && has(CONFIG_FILE)) return { detected: false };
  if (!ORIGINAL_FILES.every(has)) return { detected: false };
  const uv = onPath('uv', opts.pathVar ?? process.env.PATH ?? '');
  const command = uv ? 'uv run train.py' : 'python3 train.py';
  const protectedFiles = ['prepare.py', ...OPTIONAL_PROTECTED.filter(has)];
  const answers: InitAnswers = {
    tag: opts.tag ?? defaultTag(),
    command,
    metric: 'val_bpb',
    direction: 'minimize',
    editable: ['train.py'],
    protected: protectedFiles,
    timeoutS: 600,
  };
  const notes = [
    'detected the original autoresearch layout (prepare.py, train.py, program.md)',
    `command: ${command}${uv ? '' : ' (uv is not on PATH; the python3 on PATH needs torch and the data prepared)'}`,
    'objective: val_bpb, lower is better; memory from peak_vram_mb; hard timeout 600 s',
    `editable: train.py; protected: ${protectedFiles.join(', ')}`,
    `warning: ${noEvaluateWarning(true)}`,
  ];
  return { detected: true, answers, notes };
}

/**
 * The one-line warning for a study whose objective comes from the edited code (no
 * `[run].evaluate`). In the original layout it points at `init --guard`.
 */
export function noEvaluateWarning(originalLayout: boolean): string {
  return originalLayout
    ? 'the metric comes from the edited code (no [run] evaluate); proposals are screened; `autoresearch init --guard` adds a protected evaluate step'
    : 'the metric comes from the edited code (no [run] evaluate); proposals are screened; set [run] evaluate to a protected evaluation command to measure outside it';
}

/** True when `dir` holds the original's prepare.py and train.py. */
export function hasOriginalFiles(dir: string): boolean {
  return isFile(join(dir, 'prepare.py')) && isFile(join(dir, 'train.py'));
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** True when an executable `name` is in one of PATH's directories (runner/which.ts). */
export function onPath(name: string, pathVar: string): boolean {
  return findExecutable(name, pathVar) !== null;
}

/**
 * For `run` in a directory without autoresearch.toml: when it holds the original layout, writes
 * the config for it and returns a one-line message saying so; otherwise returns null (and the
 * usual "no autoresearch.toml" error follows).
 */
export function adoptOriginalLayout(dir: string, tag?: string): string | null {
  const root = resolve(dir);
  if (existsSync(join(root, CONFIG_FILE))) return null;
  const found = detectOriginalLayout(root, { tag });
  if (!found.detected) return null;
  writeFileSync(join(root, CONFIG_FILE), renderConfigToml(found.answers));
  return `no ${CONFIG_FILE}: ${found.notes[0]}; wrote one (${found.notes.slice(1).join('; ')})`;
}
