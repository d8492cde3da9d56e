/**
 * Per-model prices in US dollars per million tokens (input, output), for the cost recorded with
 * each experiment. List prices of the common models; `[proposer].prices` overrides or adds
 * entries ({ "my-model" = { input = 0.5, output = 1.5 } }).
 *
 * Lookup: the model name is lower-cased, a provider prefix ("anthropic/", "openai/") is dropped,
 * then the longest table key that is a prefix of it wins (so "claude-sonnet-4-5-20250929" uses
 * "claude-sonnet-4-5"). Unknown models cost 0 (tokens are still counted).
 */
export interface Price {
  /** $ per million input tokens. */
  input: number;
  /** $ per million output tokens. */
  output: number;
}

export const PRICES: Readonly<Record<string, Price>> = {
  // Anthropic (list prices, 2026-11; Haiku 5.5: the price for prompts up to 100k tokens)
  'claude-fable-5': { input: 10, output: 50 },
  'claude-fable-5-1': { input: 10, output: 50 },
  'claude-mythos-5': { input: 10, output: 50 },
  'claude-mythos-5-1': { input: 10, output: 50 },
  'claude-opus-5-5': { input: 4, output: 20 },
  'claude-opus-5': { input: 5, output: 25 },
  'claude-sonnet-5-5': { input: 2, output: 10 },
  'claude-sonnet-5': { input: 2, output: 10 },
  'claude-haiku-5-5': { input: 0.1, output: 0.5 },
  'claude-opus-4-8': { input: 5, output: 25 },
  'claude-opus-4-7': { input: 5, output: 25 },
  'claude-opus-4-6': { input: 5, output: 25 },
  'claude-sonnet-4-6': { input: 3, output: 15 },
  'claude-opus-4-5': { input: 5, output: 25 },
  'claude-opus-4-1': { input: 15, output: 75 },
  'claude-opus-4': { input: 15, output: 75 },
  'claude-sonnet-4-5': { input: 3, output: 15 },
  'claude-sonnet-4': { input: 3, output: 15 },
  'claude-3-7-sonnet': { input: 3, output: 15 },
  'claude-3-5-sonnet': { input: 3, output: 15 },
  'claude-haiku-4-5': { input: 1, output: 5 },
  'claude-3-5-haiku': { input: 0.8, output: 4 },
  'claude-3-haiku': { input: 0.25, output: 1.25 },
  // OpenAI
  'gpt-5.4': { input: 2.5, output: 15 },
  'gpt-5.4-mini': { input: 0.75, output: 4.5 },
  'gpt-5.4-nano': { input: 0.2, output: 1.25 },
  'gpt-5.1': { input: 1.25, output: 10 },
  'gpt-5': { input: 1.25, output: 10 },
  'gpt-5-mini': { input: 0.25, output: 2 },
  'gpt-5-nano': { input: 0.05, output: 0.4 },
  'gpt-4.1': { input: 2, output: 8 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4 },
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  o3: { input: 2, output: 8 },
  'o4-mini': { input: 1.1, output: 4.4 },
};

export function findPrice(model: string, overrides: Readonly<Record<string, Price>> = {}): Price | null {
  const exact = overrides[model];
  if (exact) return exact;
  const name = model.toLowerCase().replace(/^.*\//, '');
  const table: Record<string, Price> = { ...PRICES };
  for (const [k, v] of Object.entries(overrides)) table[k.toLowerCase().replace(/^.*\//, '')] = v;
  let best: string | null = null;
  for (const key of Object.keys(table)) {
    if (name === key || name.startsWith(`${key}-`) || name.startsWith(`${key}:`)) {
      if (best === null || key.length > best.length) best = key;
    }
  }
  return best === null ? null : table[best]!;
}

export interface TokenCounts {
  /** All input tokens, cached ones included. */
  inputTokens: number;
  outputTokens: number;
  /** Of inputTokens, read from a prompt cache: billed at 0.1x the input price (Anthropic). */
  cacheReadTokens?: number;
  /** Of inputTokens, written to a prompt cache: billed at 1.25x (Anthropic, 5-minute cache). */
  cacheWriteTokens?: number;
}

/** Cost in dollars of the tokens, 0 for an unknown model; rounded to 1e-6 $. */
export function costUsd(model: string, tokens: TokenCounts, overrides?: Readonly<Record<string, Price>>): number {
  const p = findPrice(model, overrides);
  if (!p) return 0;
  const read = tokens.cacheReadTokens ?? 0;
  const write = tokens.cacheWriteTokens ?? 0;
  const fresh = Math.max(0, tokens.inputTokens - read - write);
  const c = ((fresh + 1.25 * write + 0.1 * read) * p.input + tokens.outputTokens * p.output) / 1e6;
  return Math.round(c * 1e6) / 1e6;
}
