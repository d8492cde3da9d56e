/**
 * Bounded retries with exponential backoff and full jitter for provider calls.
 *
 * Contract: calls `fn` up to 1 + maxRetries times; retries only `LlmError`s that are retryable
 * (429, 5xx, timeouts, connection errors). The pause before retry n (0-based) is the server's
 * retry-after when it sent one (capped at maxRetryAfterMs), else a random delay in
 * [d/2, d] with d = min(maxDelayMs, baseDelayMs * 2^n). An abort during the pause throws
 * LlmError 'aborted'. The last error is rethrown as is. `sleep` and `random` are injected so
 * tests run instantly and deterministically.
 */
import { LlmError } from './errors.js';

export interface RetryPolicy {
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Upper bound on a server-requested pause. */
  maxRetryAfterMs: number;
}

export interface RetryDeps {
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  random: () => number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxRetries: 5,
  baseDelayMs: 1000,
  maxDelayMs: 60_000,
  maxRetryAfterMs: 600_000,
};

export function realRetryDeps(): RetryDeps {
  return { sleep: abortableSleep, random: Math.random };
}

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new LlmError('aborted', 'aborted'));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new LlmError('aborted', 'aborted'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function backoffDelay(attempt: number, err: LlmError, policy: RetryPolicy, random: () => number): number {
  if (err.retryAfterMs !== null) return Math.min(err.retryAfterMs, policy.maxRetryAfterMs);
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.round(cap / 2 + (cap / 2) * random());
}

export async function withRetries<T>(
  fn: () => Promise<T>,
  policy: RetryPolicy,
  deps: RetryDeps,
  signal?: AbortSignal,
  onRetry?: (err: LlmError, delayMs: number, attempt: number) => void,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof LlmError) || !err.retryable || attempt >= policy.maxRetries || signal?.aborted) throw err;
      const delay = backoffDelay(attempt, err, policy, deps.random);
      onRetry?.(err, delay, attempt + 1);
      await deps.sleep(delay, signal);
    }
  }
}
