/**
 * A short summary of an agent's proposal session, kept with the experiment (`change.transcript`)
 * so that a person can see how the change came about (the dashboard's experiment page shows it):
 * per turn, the start of what the model said and the tools it called (name, the file or finish
 * description they named, and whether the call was refused).
 *
 * Contract: bounded (at most MAX_STEPS turns, each text at most MAX_TEXT characters, tool targets
 * at most MAX_TARGET), secrets scrubbed, one line per text (control characters removed): it is
 * model-written text, shown to people as text only. Never throws.
 */
import type { ToolCall } from './provider.js';

export const MAX_STEPS = 30;
export const MAX_TEXT = 300;
export const MAX_TARGET = 120;

export interface TranscriptTool {
  name: string;
  /** The path it read or edited, or finish's description (when it named one). */
  target?: string;
  /** True when the harness refused the call (a path outside the editable files, bad input). */
  refused?: boolean;
}

export interface TranscriptStep {
  turn: number;
  /** The start of what the model wrote this turn, on one line (empty when it only called tools). */
  said: string;
  tools: TranscriptTool[];
}

export interface TranscriptSummary {
  steps: TranscriptStep[];
  /** Turns left out past MAX_STEPS (the first MAX_STEPS - 5 and the last 5 are kept). */
  omitted: number;
}

function oneLine(text: string, max: number, clean: (s: string) => string): string {
  const flat = clean(text)
    .replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function targetOf(call: ToolCall): string | undefined {
  try {
    const args = JSON.parse(call.arguments) as Record<string, unknown>;
    const t = args.path ?? args.file_path ?? args.description ?? args.text;
    return typeof t === 'string' ? t : undefined;
  } catch {
    return undefined;
  }
}

/** Collects the steps of one session; `summary()` returns the bounded record. */
export class TranscriptRecorder {
  private readonly steps: TranscriptStep[] = [];

  /** `clean` scrubs secrets (API keys, run secrets) from every text kept. */
  constructor(private readonly clean: (text: string) => string = (t) => t) {}

  record(turn: number, said: string, calls: ToolCall[], refused: ReadonlySet<string> = new Set()): void {
    this.steps.push({
      turn,
      said: oneLine(said, MAX_TEXT, this.clean),
      tools: calls.map((c) => {
        const target = targetOf(c);
        return {
          name: oneLine(c.name, 40, this.clean),
          ...(target !== undefined ? { target: oneLine(target, MAX_TARGET, this.clean) } : {}),
          ...(refused.has(c.id) ? { refused: true } : {}),
        };
      }),
    });
  }

  summary(): TranscriptSummary {
    if (this.steps.length <= MAX_STEPS) return { steps: [...this.steps], omitted: 0 };
    const head = this.steps.slice(0, MAX_STEPS - 5);
    const tail = this.steps.slice(-5);
    return { steps: [...head, ...tail], omitted: this.steps.length - head.length - tail.length };
  }
}
