/**
 * Progress lines: the training curve a run prints while it trains (for early stopping).
 *
 * Format (one line, anywhere in the output, printed and flushed every few seconds):
 *
 *     progress: elapsed=12.5 loss=3.8123 step=340
 *
 * - `elapsed`: seconds of training so far (the script's own clock, the one its time budget uses);
 * - `loss`: the training loss at that point (smoothed is best: an EMA), lower is better;
 * - `step` (optional): optimizer steps so far; with it a run is compared at the same step too, so a
 *   run slowed down by a busy machine (fewer steps in the same time, same loss per step) is not
 *   taken for a worse change;
 * - any other `name=value` pairs (`lr`, ...) are allowed and ignored.
 * The pairs may come in any order; a line without a finite `elapsed` >= 0 and a finite `loss` is
 * ignored. Lines are cleaned like metric lines (`\r` progress bars, ANSI colours).
 *
 * These numbers are written by the editable training script: the harness uses them only to stop
 * a run early, never to keep anything (a script that lies can only lose itself the saving, or
 * get itself stopped).
 */
import { cleanLine, parseMetricValue } from './metrics.js';

/** One point of a training curve: seconds of training, training loss, the step when printed. */
export interface ProgressPoint {
  elapsed: number;
  loss: number;
  step?: number;
}

const PROGRESS = /^progress:\s+(.*)$/;
const PAIR = /^([A-Za-z_][\w.-]*)=(\S+)$/;

/** Parses one (cleaned or raw) line; undefined when it is not a valid progress line. Never throws. */
export function parseProgressLine(raw: string): ProgressPoint | undefined {
  const m = PROGRESS.exec(cleanLine(raw).trim());
  if (!m) return undefined;
  let elapsed: number | undefined;
  let loss: number | undefined;
  let step: number | undefined;
  for (const token of (m[1] ?? '').split(/\s+/)) {
    const pair = PAIR.exec(token);
    if (!pair) continue;
    const value = parseMetricValue(pair[2] ?? '');
    if (pair[1] === 'elapsed') elapsed = value;
    else if (pair[1] === 'loss') loss = value;
    else if (pair[1] === 'step') step = value;
  }
  if (elapsed === undefined || loss === undefined) return undefined;
  if (!Number.isFinite(elapsed) || elapsed < 0 || !Number.isFinite(loss)) return undefined;
  return step !== undefined && Number.isFinite(step) && step >= 0 ? { elapsed, loss, step } : { elapsed, loss };
}

/** Longest line kept while waiting for its end (a flood without newlines is dropped, not buffered). */
const MAX_PENDING = 4096;

/**
 * Splits a stream of output chunks into lines and yields the progress points among them.
 * Chunks may cut lines anywhere; a partial line waits for the next chunk.
 */
export class ProgressParser {
  private pending = '';

  /** Feeds one chunk; returns the progress points completed by it, in order. */
  push(chunk: string): ProgressPoint[] {
    const text = this.pending + chunk;
    const lines = text.split('\n');
    this.pending = lines.pop() ?? '';
    if (this.pending.length > MAX_PENDING) this.pending = '';
    const out: ProgressPoint[] = [];
    for (const line of lines) {
      if (!line.includes('progress:')) continue;
      const p = parseProgressLine(line);
      if (p) out.push(p);
    }
    return out;
  }

  /** The last line when the output ended without a newline. */
  end(): ProgressPoint[] {
    const last = this.pending;
    this.pending = '';
    const p = last.includes('progress:') ? parseProgressLine(last) : undefined;
    return p ? [p] : [];
  }
}
