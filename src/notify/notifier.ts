/**
 * Notifications for people who are not watching: reads the study's event stream and posts to a
 * webhook on a new best, a failure streak, a stopped study, and a periodic summary.
 *
 * Contract: `onEvent` never blocks the loop and never throws: posts are queued and sent one at a
 * time; a failed post becomes a warning `notice` through `warn` (once per failure) and the study
 * goes on. `flush()` waits for queued posts (the caller bounds it: each post has its timeout).
 * `close()` stops the summary timer.
 */
import type { StudyEvent } from '../loop/events.js';
import type { PostResult } from './webhook.js';

export interface NotifierOptions {
  /** Sends one message (postWebhook bound to the URL and timeout). */
  post: (message: string) => Promise<PostResult>;
  /** Shows a warning to the user (a 'notice' event). */
  warn: (message: string) => void;
  /** Crashes/timeouts in a row that make a failure streak. */
  failureStreak: number;
  /** Summary period in ms (0 = no summary). */
  summaryEveryMs: number;
}

const fmt = (v: number | null | undefined): string =>
  v === null || v === undefined ? '-' : String(Number(v.toPrecision(6)));

export class Notifier {
  private queue: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private tag = '';
  private metric = 'metric';
  private streak = 0;
  private best: number | null = null;
  private period = { finished: 0, kept: 0, crashed: 0 };
  private lastBest: { number: number; value: number } | null = null;

  constructor(private readonly opts: NotifierOptions) {}

  onEvent(e: StudyEvent): void {
    switch (e.type) {
      case 'study-started':
        this.tag = e.tag;
        this.metric = e.metric;
        this.best = e.best?.value ?? null;
        this.lastBest = e.best ? { number: e.best.number, value: e.best.value } : null;
        if (this.opts.summaryEveryMs > 0 && !this.timer) {
          this.timer = setInterval(() => this.summary(), this.opts.summaryEveryMs);
          this.timer.unref();
        }
        break;
      case 'experiment-finished': {
        if (e.baseline) {
          if (e.best) this.lastBest = { number: e.best.number, value: e.best.value };
          break;
        }
        this.period.finished++;
        if (e.status === 'crash' || e.status === 'timeout') {
          this.period.crashed++;
          this.streak++;
          if (this.streak === this.opts.failureStreak)
            this.send(
              `⚠️ autoresearch ${this.tag}: ${this.streak} experiments in a row failed; the last, #${e.number} (${e.status}): ${e.reason.slice(0, 300)}`,
            );
        } else if (e.status === 'keep' || e.status === 'discard') this.streak = 0;
        if (e.status === 'keep' && e.best) {
          this.period.kept++;
          const prev = this.lastBest;
          const gain = prev
            ? ` (${e.best.value - prev.value >= 0 ? '+' : ''}${fmt(e.best.value - prev.value)} from #${prev.number})`
            : '';
          this.lastBest = { number: e.best.number, value: e.best.value };
          this.best = e.best.value;
          this.send(
            `✅ autoresearch ${this.tag}: new best ${this.metric} ${fmt(e.best.value)}${gain} at #${e.number}: ${e.description}`,
          );
        }
        break;
      }
      case 'study-stopped':
        this.send(
          `⏹ autoresearch ${this.tag}: study stopped (${e.reason}): ${e.message}. ${e.finished} experiments, ${e.kept} kept; best ${this.metric} ${fmt(e.best?.value)}`,
        );
        this.close();
        break;
      default:
        break;
    }
  }

  /** The periodic summary (also callable directly). */
  summary(): void {
    const p = this.period;
    this.send(
      `📊 autoresearch ${this.tag}: ${p.finished} experiments since the last summary, ${p.kept} kept, ${p.crashed} crashed; best ${this.metric} ${fmt(this.best)}`,
    );
    this.period = { finished: 0, kept: 0, crashed: 0 };
  }

  flush(): Promise<void> {
    return this.queue;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private send(message: string): void {
    this.queue = this.queue.then(async () => {
      const r = await this.opts.post(message);
      if (!r.ok) this.opts.warn(`notification not sent: ${r.message} (the study goes on)`);
    });
  }
}
