/**
 * The environment a training command runs with: the harness's environment without provider
 * secrets, the config's `[run].env`, and the AUTORESEARCH_* variables that templates read.
 */
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/load.js';

/** Secrets of the harness that a training run never needs (and must never log). */
const SECRET_VARS = /^(ANTHROPIC_API_KEY|OPENAI_API_KEY|GEMINI_API_KEY|GOOGLE_API_KEY|OPENROUTER_API_KEY|.*_AUTH_TOKEN)$/;

/**
 * The package's own bin/, first on a run's PATH: `autoresearch` itself and `tsx` (which the
 * TypeScript templates run with) resolve even under npx or without a global install.
 */
export const PACKAGE_BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin');

export function runEnv(
  config: Config,
  experiment: { number: number; worktree: string; seed?: number; extra?: Record<string, string> },
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !SECRET_VARS.test(k)) env[k] = v;
  Object.assign(env, config.run.env, experiment.extra ?? {});
  env.PATH = [PACKAGE_BIN, env.PATH ?? ''].filter(Boolean).join(delimiter);
  env.AUTORESEARCH_STUDY = config.study.tag;
  env.AUTORESEARCH_EXPERIMENT = String(experiment.number);
  env.AUTORESEARCH_SEED = String(experiment.seed ?? config.study.seed);
  // Marks the run's processes, so that a resumed study can find and kill what a kill -9 left.
  env.AUTORESEARCH_RUN = runMarker(config, experiment.number);
  env.AUTORESEARCH_WORKSPACE = config.root;
  env.AUTORESEARCH_WORKTREE = experiment.worktree;
  if (config.run.time_budget_s !== undefined) env.AUTORESEARCH_TIME_BUDGET = String(config.run.time_budget_s);
  env.PYTHONUNBUFFERED = env.PYTHONUNBUFFERED ?? '1';
  return env;
}

/** The value of AUTORESEARCH_RUN for an experiment (unique per workspace, study and number). */
export function runMarker(config: Config, number: number): string {
  return `${config.root}#${config.study.tag}/${number}`;
}
