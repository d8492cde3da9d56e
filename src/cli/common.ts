/**
 * What every command needs: load the config once, open the workspace and the ledger. Failures
 * are `UserError`s: main.ts prints their message as one line (no stack trace) and exits 1.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { loadConfig, type Config, type ConfigOverrides } from '../config/load.js';
import { openLedger } from '../ledger/open.js';
import type { Ledger, Study } from '../ledger/types.js';
import { findExecutable } from '../runner/which.js';
import { Workspace } from '../workspace/workspace.js';
import { explainSystemError, gitInstalled, NO_GIT_EXIT, NO_GIT_MESSAGE } from './system-errors.js';

export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

export function mustLoadConfig(dir: string, overrides: ConfigOverrides = {}): Config {
  const r = loadConfig(dir, overrides);
  if (!r.ok) throw new UserError(r.message);
  return r.config;
}

export async function mustOpenWorkspace(dir: string): Promise<Workspace> {
  const r = await Workspace.open(dir);
  if (!r.ok) {
    // Workspace.open sees a missing git binary as "not a repository": say what it is.
    if (!gitInstalled()) throw new UserError(NO_GIT_MESSAGE, NO_GIT_EXIT);
    throw new UserError(r.message);
  }
  return r.workspace;
}

export async function mustOpenLedger(config: Config): Promise<Ledger> {
  try {
    const password = process.env[config.ledger.password_env];
    return await openLedger(config.ledger.url, { root: config.root, ...(password ? { password } : {}) });
  } catch (err) {
    const known = explainSystemError(err, [config.root]);
    if (known) throw new UserError(known.message, known.exitCode);
    throw new UserError(`cannot open the ledger ${config.ledger.url}: ${(err as Error).message}`);
  }
}

/** Fails with one line when the git binary cannot be started (before anything is written). */
export function mustHaveGit(): void {
  if (!gitInstalled()) throw new UserError(NO_GIT_MESSAGE, NO_GIT_EXIT);
}

/** Parses a flag value as a number, with a message naming the flag. */
export function numberFlag(name: string, integer = false) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < 0) {
      throw new UserError(`${name} expects a ${integer ? 'whole ' : ''}number >= 0, got "${value}"`);
    }
    return n;
  };
}

const SHELL_WORDS = new Set([
  'cd',
  'exec',
  'env',
  'time',
  'nice',
  'timeout',
  'if',
  'for',
  'while',
  '{',
  '(',
  '!',
  'set',
  'export',
  '.',
  'source',
  'true',
  'test',
  '[',
]);

/**
 * Checks that the first word of the run command can be found, so "command not found" is one
 * clear line before the baseline rather than a crashed baseline. Returns a message or null.
 */
export function checkCommand(command: string, cwd: string, pathVar: string): string | null {
  const words = command.trim().split(/\s+/);
  let first = words.find((w) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(w));
  if (!first || SHELL_WORDS.has(first) || /[$`'"|&;<>()*?]/.test(first)) return null;
  first = first.replace(/^~(?=\/)/, process.env.HOME ?? '~');
  if (findExecutable(first, pathVar, cwd)) return null;
  if (first.includes('/') && existsSync(isAbsolute(first) ? first : join(cwd, first))) {
    return (
      `${first} (the first word of [run].command) is not executable: ` +
      `chmod +x ${first}, or run it through its interpreter`
    );
  }
  return `command not found: ${first} (the first word of [run].command "${command}"). Install it, or change [run].command in autoresearch.toml (or pass --command).`;
}

/** What to say when the study is not in the ledger (with the tags that are). */
export function noStudyMessage(tag: string, tags: string[]): string {
  return tags.length
    ? `no study "${tag}" in this workspace; studies: ${tags.join(', ')} (pick one with --tag)`
    : `no study "${tag}" yet; start it with \`autoresearch run\``;
}

/** The study named `tag`, or a UserError saying which studies there are (or how to start one). */
export async function mustGetStudy(ledger: Ledger, tag: string): Promise<Study> {
  const study = await ledger.getStudy(tag);
  if (!study)
    throw new UserError(
      noStudyMessage(
        tag,
        (await ledger.listStudies()).map((s) => s.tag),
      ),
    );
  return study;
}
