/**
 * The environment a training command runs with, rebuilt from an allow list (never the harness's
 * environment minus a deny list):
 *
 *   1. the harness variables a toolchain needs (ALLOWED below: PATH, locale, CUDA/NCCL/torch/
 *      triton/OpenMP knobs, Python/uv/node settings, caches, CA bundles, proxies) and the user's
 *      own AUTORESEARCH_* variables — minus every secret-named one (src/runner/secrets.ts, with
 *      `[proposer].api_key_env` as an extra name) and any value with a password in a URL;
 *   2. `[run].env` — the user's explicit choice, kept as written, even a secret-named variable
 *      (its value is scrubbed from logs: see `runSecrets`);
 *   3. the slot's variables (CUDA_VISIBLE_DEVICES);
 *   4. the harness's AUTORESEARCH_* variables (study, experiment, seed, run marker, paths).
 *
 * HOME: the real one is passed here (a run without sandbox has the user's rights anyway, and
 * tools such as uv find their managed Pythons and caches there); the bubblewrap sandbox replaces
 * it with a private, empty directory under the run's private /tmp (runner/sandbox.ts).
 */
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/load.js';
import { isSecretName, mergeSecrets, secretValues, type Secret } from '../runner/secrets.js';

/** Exact names passed through from the harness's environment. */
const ALLOWED_NAMES = new Set([
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'LANGUAGE',
  'TZ',
  'TERM',
  'COLORTERM',
  'NO_COLOR',
  'FORCE_COLOR',
  'LD_LIBRARY_PATH',
  'VIRTUAL_ENV',
  'CONDA_PREFIX',
  'CONDA_DEFAULT_ENV',
  'PYTHONPATH',
  'PYTHONHOME',
  'PYTHONUNBUFFERED',
  'PYTHONDONTWRITEBYTECODE',
  'PYTHONHASHSEED',
  'PYTHONWARNINGS',
  'PYTHONUTF8',
  'PYTHONIOENCODING',
  'NODE_OPTIONS',
  'NODE_PATH',
  'NODE_EXTRA_CA_CERTS',
  'TOKENIZERS_PARALLELISM',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'REQUESTS_CA_BUNDLE',
  'CURL_CA_BUNDLE',
  'XLA_FLAGS',
  'PYENV_ROOT',
  'PYENV_VERSION',
]);

/** Prefixes passed through (secret-named variables excepted). */
const ALLOWED_PREFIXES = [
  'LC_',
  'CUDA_',
  'CUDNN_',
  'CUBLAS_',
  'NVIDIA_',
  'NCCL_',
  'OMP_',
  'MKL_',
  'OPENBLAS_',
  'KMP_',
  'TORCH_',
  'TORCHINDUCTOR_',
  'PYTORCH_',
  'TRITON_',
  'UV_',
  'PIP_',
  'HF_',
  'TRANSFORMERS_',
  'JAX_',
  'AUTORESEARCH_',
];

/** Proxy settings, in either case. */
const PROXY = /^(https?_proxy|all_proxy|no_proxy)$/i;

/** A URL with a password in it (https://user:pass@host): index URLs and proxies sometimes carry one. */
const URL_PASSWORD = /:\/\/[^/\s@:]*:[^/\s@]*@/;

/** True when the harness variable `name` (with `value`) may reach a run. */
export function isAllowedRunVar(name: string, value: string, extraSecretNames: readonly string[] = []): boolean {
  if (isSecretName(name, extraSecretNames) || URL_PASSWORD.test(value)) return false;
  return PROXY.test(name) || ALLOWED_NAMES.has(name) || ALLOWED_PREFIXES.some((p) => name.startsWith(p));
}

/**
 * The package's own bin/, first on a run's PATH: `autoresearch` itself and `tsx` (which the
 * TypeScript templates run with) resolve even under npx or without a global install.
 */
export const PACKAGE_BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin');

/** Names the config marks as secret besides the rule (the proposer's key variable, the ledger password's). */
export function extraSecretNames(config: Config): string[] {
  return [
    ...(config.proposer.api_key_env ? [config.proposer.api_key_env] : []),
    // the ledger's password variable: never passed to a run, scrubbed wherever its value shows up
    ...(config.ledger.password_env ? [config.ledger.password_env] : []),
    // The webhook URL is a credential: never passed to runs, scrubbed from logs.
    ...(config.notify?.webhook_env ? [config.notify.webhook_env] : []),
  ];
}

export function runEnv(
  config: Config,
  experiment: { number: number; worktree: string; seed?: number; extra?: Record<string, string> },
  harnessEnv: Readonly<Record<string, string | undefined>> = process.env,
): Record<string, string> {
  const extraNames = extraSecretNames(config);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(harnessEnv)) if (v !== undefined && isAllowedRunVar(k, v, extraNames)) env[k] = v;
  Object.assign(env, config.run.env, experiment.extra ?? {});
  // The harness alone names the split an evaluate step scores (run-once.ts, analysis runs only):
  // never the user's environment or [run].env, so no study run is ever scored on the held-out split.
  delete env.AUTORESEARCH_SPLIT;
  env.PATH = [PACKAGE_BIN, env.PATH ?? '/usr/local/bin:/usr/bin:/bin'].filter(Boolean).join(delimiter);
  // pyenv's shims find their root through $HOME, which the sandbox replaces: name it.
  const shims = env.PATH.split(delimiter).find((d) => /[\\/]\.pyenv[\\/]shims$/.test(d));
  if (shims && env.PYENV_ROOT === undefined) env.PYENV_ROOT = dirname(shims);
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

/**
 * The secret values a study must scrub from logs, ledger and prompts: every secret-named
 * variable of the harness's environment (the rule plus `[proposer].api_key_env`) and every
 * secret-named `[run].env` entry (passed to runs by the user's choice, never shown).
 */
export function runSecrets(
  config: Config,
  harnessEnv: Readonly<Record<string, string | undefined>> = process.env,
): Secret[] {
  const extraNames = extraSecretNames(config);
  return mergeSecrets(secretValues(config.run.env, extraNames), secretValues(harnessEnv, extraNames));
}

/** The value of AUTORESEARCH_RUN for an experiment (unique per workspace, study and number). */
export function runMarker(config: Config, number: number): string {
  return `${config.root}#${config.study.tag}/${number}`;
}
