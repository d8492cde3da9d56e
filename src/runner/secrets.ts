/**
 * The one secret rule of the harness, used for run environments, coding-agent CLI environments,
 * log tails and prompts.
 *
 * A variable is a secret when its name ends in `_KEY`, `_TOKEN`, `_SECRET` (or is exactly KEY,
 * TOKEN, SECRET), contains `PASSWORD`/`PASSWD`, starts with `AWS_`, or is one of the extra names
 * the caller gives (the configured `[proposer].api_key_env`). Names are compared
 * case-insensitively.
 *
 * Contract: pure functions, no globals. Secret *values* are found once (by the CLI, from its
 * environment and the config) and passed down to whoever writes text that may leave the
 * harness (`RunSpec.secrets`, `LoopContext.secrets`, `ProposalContext.secrets`).
 */

/** A secret value and the name of the variable it came from. */
export interface Secret {
  name: string;
  value: string;
}

/** Values shorter than this are not scrubbed (replacing "1" or "true" everywhere helps nobody). */
export const MIN_SECRET_LENGTH = 8;

const SECRET_NAME = /(^|_)(KEY|TOKEN|SECRET|SECRETS)$|PASSWORD|PASSWD|^AWS_/i;

/** True when a variable of this name must never reach a run, a CLI that does not need it, a log or a prompt. */
export function isSecretName(name: string, extraNames: readonly string[] = []): boolean {
  if (SECRET_NAME.test(name)) return true;
  const upper = name.toUpperCase();
  return extraNames.some((n) => n.toUpperCase() === upper);
}

/**
 * The secrets of `env`: every secret-named variable (see `isSecretName`) whose value is at least
 * MIN_SECRET_LENGTH characters, longest value first (so that a secret containing another is
 * replaced whole). The same value under two names is listed once.
 */
export function secretValues(
  env: Readonly<Record<string, string | undefined>>,
  extraNames: readonly string[] = [],
): Secret[] {
  const seen = new Set<string>();
  const out: Secret[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || value.length < MIN_SECRET_LENGTH || !isSecretName(name, extraNames)) continue;
    if (seen.has(value)) continue;
    seen.add(value);
    out.push({ name, value });
  }
  return out.sort((a, b) => b.value.length - a.value.length || a.name.localeCompare(b.name));
}

/** Merges secret lists: each value once (the first name wins), longest first. */
export function mergeSecrets(...lists: ReadonlyArray<readonly Secret[] | undefined>): Secret[] {
  const byValue = new Map<string, Secret>();
  for (const list of lists)
    for (const s of list ?? [])
      if (s.value.length >= MIN_SECRET_LENGTH && !byValue.has(s.value)) byValue.set(s.value, s);
  return [...byValue.values()].sort((a, b) => b.value.length - a.value.length || a.name.localeCompare(b.name));
}

/** `text` with every occurrence of each secret value replaced by `[redacted:NAME]`. */
export function scrub(text: string, secrets: readonly Secret[] | undefined): string {
  if (!secrets?.length || text === '') return text;
  let out = text;
  for (const s of secrets) {
    if (s.value.length < MIN_SECRET_LENGTH) continue;
    if (out.includes(s.value)) out = out.split(s.value).join(`[redacted:${s.name}]`);
  }
  return out;
}

/** `env` without its secret-named variables, except those named in `keep`. */
export function withoutSecrets<T extends string | undefined>(
  env: Readonly<Record<string, T>>,
  opts: { keep?: readonly string[]; extraNames?: readonly string[] } = {},
): Record<string, T> {
  const keep = new Set((opts.keep ?? []).map((k) => k.toUpperCase()));
  const out: Record<string, T> = {};
  for (const [k, v] of Object.entries(env)) {
    if (isSecretName(k, opts.extraNames) && !keep.has(k.toUpperCase())) continue;
    out[k] = v;
  }
  return out;
}
