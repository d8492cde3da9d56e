/**
 * Posts one message to a chat webhook. The body works for both Slack and Discord incoming
 * webhooks: `text` (Slack) and `content` (Discord), with mentions disabled.
 *
 * The message may quote text written by the proposer (descriptions): Slack's control sequences
 * (`<!channel>`, `<url|label>`) are neutralised by escaping `&`, `<` and `>` in `text`, and
 * Discord is told not to turn `@everyone` or user ids into pings (`allowed_mentions`).
 *
 * Contract: never throws; resolves with `{ok: true}` or `{ok: false, message}` (HTTP status,
 * network error, timeout) for the caller to show as a warning.
 */
export type PostResult = { ok: true } | { ok: false; message: string };

/** Discord rejects content over 2000 characters. */
export const MAX_MESSAGE_CHARS = 1900;

export function slackEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function webhookBody(message: string): Record<string, unknown> {
  const cut = message.length > MAX_MESSAGE_CHARS ? `${message.slice(0, MAX_MESSAGE_CHARS - 1)}…` : message;
  return { text: slackEscape(cut), content: cut, allowed_mentions: { parse: [] } };
}

/** Describes a URL without its path and query (which hold the webhook's secret). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/…`;
  } catch {
    return '(not a URL)';
  }
}

export async function postWebhook(url: string, message: string, timeoutMs: number): Promise<PostResult> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(webhookBody(message)),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok) return { ok: false, message: `webhook ${redactUrl(url)} answered HTTP ${res.status}` };
    return { ok: true };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const why = e.name === 'TimeoutError' ? `no answer in ${timeoutMs} ms` : (e.cause?.code ?? e.message);
    return { ok: false, message: `webhook ${redactUrl(url)} failed: ${why}` };
  }
}
