/**
 * Loads `autoresearch.toml` once, applies flag overrides, validates, and returns a resolved,
 * immutable `Config` that is passed down (never read from a global).
 *
 * Contract: `loadConfig` never throws for user mistakes; it returns `{ok: false, message}` with
 * one clear, actionable message (file, key, what is wrong, what to do). It throws only for bugs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import type { z } from 'zod';
import { configSchema, type ParsedConfig } from './schema.js';

export const CONFIG_FILE = 'autoresearch.toml';

export type Config = Readonly<
  Omit<ParsedConfig, 'study'> & {
    study: Omit<ParsedConfig['study'], 'tag'> & { tag: string };
    /** Absolute path of the workspace root (the directory holding autoresearch.toml). */
    root: string;
    /** Absolute path of the config file. */
    configPath: string;
  }
>;

/** Values from command-line flags; each wins over the file when set. */
export interface ConfigOverrides {
  tag?: string;
  seed?: number;
  command?: string;
  timeoutS?: number;
  timeBudgetS?: number;
  metric?: string;
  direction?: string;
  proposer?: string;
  model?: string;
  minDelta?: number;
  judge?: string;
  slots?: number | 'auto';
}

export type LoadResult = { ok: true; config: Config } | { ok: false; message: string };

/** The default study tag: month and day, e.g. "nov27" (as the original's runs were named). */
export function defaultTag(now: Date = new Date()): string {
  const month = now.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' }).toLowerCase();
  return `${month}${now.getUTCDate()}`;
}

export function loadConfig(dir: string, overrides: ConfigOverrides = {}): LoadResult {
  const root = resolve(dir);
  const configPath = join(root, CONFIG_FILE);
  if (!existsSync(configPath)) {
    return {
      ok: false,
      message: `no ${CONFIG_FILE} in ${root}. Create one with \`autoresearch init ${dir === '.' ? '' : dir}\`.`.replace(
        '  ',
        ' ',
      ),
    };
  }
  let raw: Record<string, unknown>;
  try {
    raw = parseToml(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof TomlError) {
      const first = err.message.split('\n')[0];
      return { ok: false, message: `${CONFIG_FILE}:${err.line}:${err.column}: invalid TOML: ${first}` };
    }
    return { ok: false, message: `cannot read ${configPath}: ${(err as Error).message}` };
  }
  return validateConfig(applyOverrides(raw, overrides), { root, configPath });
}

/** Validates an already-parsed config object (used by loadConfig and by `init`). */
export function validateConfig(raw: unknown, where: { root: string; configPath: string }): LoadResult {
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, message: formatIssues(parsed.error.issues) };
  const c = parsed.data;
  const config: Config = {
    ...c,
    study: { ...c.study, tag: c.study.tag ?? defaultTag() },
    root: where.root,
    configPath: where.configPath,
  };
  return { ok: true, config: deepFreeze(config) };
}

function applyOverrides(raw: Record<string, unknown>, o: ConfigOverrides): Record<string, unknown> {
  const out = structuredClone(raw);
  const section = (name: string): Record<string, unknown> => {
    const existing = out[name];
    if (existing && typeof existing === 'object' && !Array.isArray(existing))
      return existing as Record<string, unknown>;
    const fresh: Record<string, unknown> = {};
    out[name] = fresh;
    return fresh;
  };
  if (o.tag !== undefined) section('study').tag = o.tag;
  if (o.seed !== undefined) section('study').seed = o.seed;
  if (o.command !== undefined) section('run').command = o.command;
  if (o.timeoutS !== undefined) section('run').timeout_s = o.timeoutS;
  if (o.timeBudgetS !== undefined) section('run').time_budget_s = o.timeBudgetS;
  if (o.metric !== undefined) section('objective').metric = o.metric;
  if (o.direction !== undefined) section('objective').direction = o.direction;
  if (o.proposer !== undefined) section('proposer').kind = o.proposer;
  if (o.model !== undefined) section('proposer').model = o.model;
  if (o.minDelta !== undefined) section('judge').min_delta = o.minDelta;
  if (o.judge !== undefined) section('judge').kind = o.judge;
  if (o.slots !== undefined) section('slots').count = o.slots;
  return out;
}

const KNOWN_KEYS: Record<string, string[]> = Object.fromEntries(
  Object.entries(configSchema.shape).map(([k, v]) => [k, Object.keys(unwrapShape(v))]),
);

function unwrapShape(schema: unknown): Record<string, unknown> {
  let s = schema as { shape?: Record<string, unknown>; def?: { innerType?: unknown } };
  for (let i = 0; i < 5 && !s.shape && s.def?.innerType; i++) s = s.def.innerType as typeof s;
  return s.shape ?? {};
}

function formatIssues(issues: z.core.$ZodIssue[]): string {
  const lines = issues.slice(0, 5).map((issue) => {
    const where = keyPath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      const section = String(issue.path[0] ?? '');
      const known = issue.path.length === 0 ? Object.keys(KNOWN_KEYS) : (KNOWN_KEYS[section] ?? []);
      return issue.keys
        .map((k) => {
          const hint = closest(k, known);
          const at = issue.path.length === 0 ? `[${k}]` : `${where}.${k}`;
          return `${at}: unknown key${hint ? ` (did you mean "${hint}"?)` : ''}; known: ${known.join(', ')}`;
        })
        .join('\n');
    }
    if (issue.code === 'invalid_type' && issue.input === undefined) return `${where}: missing (required)`;
    return `${where}: ${issue.message}`;
  });
  const more = issues.length > 5 ? `\n(and ${issues.length - 5} more)` : '';
  return `${CONFIG_FILE} is invalid:\n  ${lines.join('\n  ')}${more}`;
}

function keyPath(path: PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  const [section, ...rest] = path.map(String);
  return `[${section}]${rest.length ? '.' + rest.join('.') : ''}`;
}

function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) [best, bestD] = [c, d];
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
