/**
 * Shared wording of provider preflight answers: one line each, saying what to set.
 */
import type { LlmError } from './errors.js';

export function describeUnreachable(api: string, url: string, err: LlmError, keyVar: string): string {
  if (err.kind === 'auth') return `${url} refused the API key (${err.status ?? 'auth'}): check ${keyVar}`;
  if (err.kind === 'connection' || err.kind === 'timeout') {
    return `cannot reach the ${api} API at ${url} (${err.kind === 'timeout' ? 'no answer' : err.message.replace(/^cannot connect to \S+: /, '')}); check the base URL ([proposer].base_url or the environment)`;
  }
  return `the ${api} API at ${url} failed: ${err.message}`;
}

/**
 * `ids` is the server's model list (null when it has none). The model is fine when listed, when a
 * listed id starts with it and "-" or ":" (an alias, e.g. Ollama's "qwen3" for "qwen3:latest"), or when `retrieve` says the server knows it.
 */
export async function checkModelListed(
  model: string,
  url: string,
  ids: string[] | null,
  retrieve: () => Promise<boolean>,
): Promise<string | null> {
  if (ids === null) return null;
  if (ids.includes(model) || ids.some((id) => id.startsWith(`${model}-`) || id.startsWith(`${model}:`))) return null;
  if (await retrieve()) return null;
  const some = ids.slice(0, 8).join(', ') + (ids.length > 8 ? ', ...' : '');
  return `unknown model "${model}" at ${url}${ids.length ? ` (it serves: ${some})` : ''}; set [proposer].model or --model`;
}
