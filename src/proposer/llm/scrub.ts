/**
 * Removes API keys from text that may reach the user, the log or the ledger (error messages from
 * SDKs and servers sometimes echo a key or an Authorization header).
 *
 * Contract: pure; every occurrence of each given secret (4 characters or more) is replaced by
 * "***", and so is anything that looks like a key (sk-..., Bearer ..., x-api-key: ...).
 */
export function scrubSecrets(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const s of secrets) {
    if (s && s.length >= 4) out = out.split(s).join('***');
  }
  return out
    .replace(/\bsk-[A-Za-z0-9_-]{8,}/g, 'sk-***')
    .replace(/\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/gi, 'Bearer ***')
    .replace(/\b(x-api-key|api[_-]?key|authorization)(["']?\s*[:=]\s*["']?)[A-Za-z0-9._~+/=-]{8,}/gi, '$1$2***');
}
