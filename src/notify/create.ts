/**
 * Builds the notifier from the config and the environment: the webhook URL is read from the
 * variable named by `[notify].webhook_env` (never from the file). Unset or empty = no notifier.
 */
import type { Config } from '../config/load.js';
import { Notifier } from './notifier.js';
import { postWebhook } from './webhook.js';

export type MadeNotifier = { notifier: Notifier | null; problem: string | null };

export function createNotifier(
  config: Config,
  env: Readonly<Record<string, string | undefined>>,
  warn: (message: string) => void,
): MadeNotifier {
  const n = config.notify;
  const url = env[n.webhook_env]?.trim();
  if (!url) return { notifier: null, problem: null };
  let ok = false;
  try {
    const u = new URL(url);
    ok = u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    ok = false;
  }
  if (!ok)
    return { notifier: null, problem: `${n.webhook_env} is not an http(s) URL: notifications are off for this run` };
  return {
    notifier: new Notifier({
      post: (m) => postWebhook(url, m, n.timeout_s * 1000),
      warn,
      failureStreak: n.failure_streak,
      summaryEveryMs: n.summary_every_h * 3_600_000,
    }),
    problem: null,
  };
}
