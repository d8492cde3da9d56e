/**
 * Waiting out a proposer outage (an LLM API that refuses connections or answers 5xx/429 for
 * minutes): the proposer answered `{kind: 'unavailable'}` after its own bounded retries. The
 * loop records nothing (no rejected experiment, no repair attempt used), pauses with a growing
 * back-off — 30 s, 1 min, 2 min, ... capped at 10 min — says so in a notice, and asks again.
 *
 * Contract: `waitWhileUnavailable` resolves true after the pause, false when the study's signal
 * aborts during it (Ctrl-C stops at once); it never throws. `consecutive` is the caller's count
 * of unavailable answers in a row (1 for the first), which sets the pause.
 */
import type { LoopContext } from './context.js';

export const OUTAGE_FIRST_PAUSE_MS = 30_000;
export const OUTAGE_MAX_PAUSE_MS = 600_000;

/** The pause after the n-th unavailable answer in a row (n >= 1): 30 s doubling, at most 10 min. */
export function outagePauseMs(consecutive: number): number {
  return Math.min(OUTAGE_MAX_PAUSE_MS, OUTAGE_FIRST_PAUSE_MS * 2 ** Math.max(0, Math.min(consecutive - 1, 20)));
}

/** Sleeps `ms` unless `signal` aborts first; true when the full pause passed. Never throws. */
export function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export async function waitWhileUnavailable(
  ctx: Pick<LoopContext, 'emit' | 'signal'> & { pause?: LoopContext['pause'] },
  consecutive: number,
  reason: string,
  subject = 'proposals',
): Promise<boolean> {
  const ms = outagePauseMs(consecutive);
  ctx.emit({
    type: 'notice',
    t: Date.now(),
    level: 'warn',
    message: `the proposer is unavailable (${reason}); ${subject} paused for ${fmt(ms)}, then asked again (pause ${consecutive}; nothing is recorded or counted meanwhile; Ctrl-C stops)`,
  });
  return (ctx.pause ?? pause)(ms, ctx.signal);
}

/** Says the proposer answers again after `pauses` pauses (call once, on the first answer after). */
export function outageOver(ctx: Pick<LoopContext, 'emit'>, pauses: number): void {
  ctx.emit({
    type: 'notice',
    t: Date.now(),
    level: 'info',
    message: `the proposer answers again after ${pauses} pause${pauses === 1 ? '' : 's'}; proposing resumes`,
  });
}

function fmt(ms: number): string {
  return ms >= 60_000 ? `${+(ms / 60_000).toFixed(1)} min` : `${+(ms / 1000).toFixed(1)} s`;
}
