/**
 * Maps an official SDK's error (Anthropic or OpenAI: both have the same error family) to an
 * `LlmError` whose message never holds the key. Rethrows what is not an SDK error (a bug).
 */
import { LlmError, kindForStatus, retryAfterMs, rootCause } from './errors.js';
import { scrubSecrets } from './scrub.js';

type ErrorClass = abstract new (...args: never[]) => Error;

/** The SDK's error classes, e.g. `{abort: Anthropic.APIUserAbortError, ...}`. */
export interface SdkErrorClasses {
  abort: ErrorClass;
  timeout: ErrorClass;
  connection: ErrorClass;
  api: ErrorClass;
  base: ErrorClass;
}

export interface SdkErrorContext {
  baseUrl: string;
  requestTimeoutMs: number;
  apiKey?: string | null;
  signal?: AbortSignal;
}

export function sdkErrorToLlm(err: unknown, sdk: SdkErrorClasses, ctx: SdkErrorContext): LlmError {
  const scrub = (m: string) => scrubSecrets(m, [ctx.apiKey ?? undefined]);
  if (err instanceof LlmError) return err;
  if (ctx.signal?.aborted || err instanceof sdk.abort) return new LlmError('aborted', 'aborted');
  if (err instanceof sdk.timeout)
    return new LlmError('timeout', `no answer from ${ctx.baseUrl} within ${ctx.requestTimeoutMs / 1000} s`);
  if (err instanceof sdk.connection)
    return new LlmError('connection', scrub(`cannot connect to ${ctx.baseUrl}: ${rootCause(err)}`));
  const status = (err as { status?: unknown }).status;
  if (err instanceof sdk.api && typeof status === 'number') {
    return new LlmError(kindForStatus(status), scrub(`${ctx.baseUrl} answered ${err.message}`), {
      status,
      retryAfterMs: retryAfterMs((err as { headers?: Parameters<typeof retryAfterMs>[0] }).headers),
    });
  }
  if (err instanceof sdk.base) return new LlmError('bad_request', scrub(err.message));
  throw err;
}
