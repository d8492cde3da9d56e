/**
 * The one error type providers throw (see provider.ts): classified, key-free, with the server's
 * retry-after hint when it sent one.
 */
export type LlmErrorKind =
  | 'rate_limit' // 429
  | 'server' // 5xx, 529 overloaded
  | 'timeout' // no answer within request_timeout_s
  | 'connection' // refused, reset, DNS
  | 'auth' // 401/403
  | 'not_found' // 404 (unknown model, wrong base URL)
  | 'bad_request' // other 4xx
  | 'aborted'; // the caller's signal

export class LlmError extends Error {
  readonly kind: LlmErrorKind;
  readonly status: number | null;
  /** Delay the server asked for (retry-after / retry-after-ms), when it sent one. */
  readonly retryAfterMs: number | null;

  constructor(
    kind: LlmErrorKind,
    message: string,
    opts: { status?: number | null; retryAfterMs?: number | null } = {},
  ) {
    super(message);
    this.name = 'LlmError';
    this.kind = kind;
    this.status = opts.status ?? null;
    this.retryAfterMs = opts.retryAfterMs ?? null;
  }

  /** Worth another try after a pause: rate limits, server errors, timeouts, dropped connections. */
  get retryable(): boolean {
    return (
      this.kind === 'rate_limit' || this.kind === 'server' || this.kind === 'timeout' || this.kind === 'connection'
    );
  }
}

/** Kind for an HTTP status (used by providers when mapping SDK errors). */
export function kindForStatus(status: number): LlmErrorKind {
  if (status === 429) return 'rate_limit';
  if (status === 408) return 'timeout';
  if (status >= 500) return 'server';
  if (status === 401 || status === 403) return 'auth';
  if (status === 404) return 'not_found';
  return 'bad_request';
}

/** Parses retry-after-ms / retry-after (seconds or an HTTP date) into milliseconds. */
export function retryAfterMs(
  headers: { get(name: string): string | null } | undefined,
  now: number = Date.now(),
): number | null {
  if (!headers) return null;
  const ms = Number.parseFloat(headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const raw = headers.get('retry-after');
  if (!raw) return null;
  const s = Number.parseFloat(raw);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const date = Date.parse(raw);
  return Number.isFinite(date) ? Math.max(0, date - now) : null;
}

/** The most specific reason in an error's cause chain (e.g. "ECONNREFUSED" under "fetch failed"). */
export function rootCause(err: unknown): string {
  let e = err as { message?: string; code?: string; cause?: unknown } | undefined;
  let best = e?.message ?? String(err);
  for (let i = 0; i < 5 && e; i++) {
    if (typeof e.code === 'string') return e.code;
    if (e.message) best = e.message;
    e = e.cause as typeof e;
  }
  return best;
}
