/** Per-token rate limit: a token bucket per contributor, held by one app instance (not global). */
export interface RateLimiter {
  /** `0` when the request may go on, else the seconds to wait. */
  take(key: number, now: number): number;
}

export function tokenBuckets(ratePerSecond: number, burst: number): RateLimiter {
  const buckets = new Map<number, { tokens: number; at: number }>();
  return {
    take(key, now) {
      const b = buckets.get(key) ?? { tokens: burst, at: now };
      b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * ratePerSecond);
      b.at = now;
      buckets.set(key, b);
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return 0;
      }
      return Math.max(1, Math.ceil((1 - b.tokens) / ratePerSecond));
    },
  };
}
