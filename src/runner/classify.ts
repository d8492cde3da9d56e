/**
 * Outcome classification: turns what happened to a run (exit status, who killed it, its output,
 * its metrics) into `RunResult.kind` / `failure` / `reason` / `value`. Pure; never throws.
 */
import { cleanLine, cleanLines, lastLines } from './metrics.js';
import type { RunFailure, RunKind } from './types.js';

/** Everything the classifier looks at. */
export interface RunFacts {
  /** Objective metric name; undefined when the run is not expected to print it (training before an evaluate step). */
  metric?: string;
  exitCode: number | null;
  signal: string | null;
  /** We killed it at the hard timeout. */
  timedOut: boolean;
  /** We killed it because it printed nothing for the stall timeout. */
  stalled?: boolean;
  /** The stall timeout, for the message. */
  stallTimeoutMs?: number;
  /** We killed it because the caller aborted. */
  aborted: boolean;
  /** Set when the command could not be started at all (a human-readable cause). */
  spawnError?: string;
  /** The hard timeout, for the message. */
  timeoutMs?: number;
  /** The captured output (head + tail of the log); its end is the real end of the output. */
  output: string;
  /** Metrics parsed from the output. */
  metrics: Record<string, number>;
}

export interface Classification {
  kind: RunKind;
  failure?: RunFailure;
  reason?: string;
  /** The objective metric when kind is 'ok' (always finite then), else null. */
  value: number | null;
}

/** How much of the end of the output is split into lines for messages. */
const TAIL_WINDOW_BYTES = 64 * 1024;

/** Longest reason excerpt taken from the output. */
export const REASON_LINE_MAX = 200;

const OOM_TEXT = /CUDA out of memory|OutOfMemoryError|CUBLAS_STATUS_ALLOC_FAILED|MemoryError\b/;
const SHELL_NOT_FOUND = /^(?:.*?:\s+)?(?:line \d+:\s+|\d+:\s+)?(.+?):\s+(?:command )?not found\s*$/;
const SHELL_NO_PERMISSION = /^(?:.*?:\s+)?(?:line \d+:\s+|\d+:\s+)?(.+?):\s+Permission denied\s*$/;

/**
 * Classifies a finished (or killed, or never started) run. Precedence: spawn error, abort,
 * timeout, stall (kind 'timeout', failure 'stalled'), out-of-memory, signal, command not found,
 * non-zero exit, then (exit 0) missing or non-finite metric, else ok. Never throws.
 */
export function classifyRun(f: RunFacts): Classification {
  const fail = (kind: RunKind, failure: RunFailure, reason: string): Classification => ({
    kind,
    failure,
    reason: oneLine(reason),
    value: null,
  });

  if (f.spawnError !== undefined) return fail('crash', 'spawn', `could not start the command: ${f.spawnError}`);
  if (f.aborted) return fail('crash', 'aborted', 'aborted by user');
  if (f.timedOut) {
    const limit = f.timeoutMs !== undefined ? ` (${formatDuration(f.timeoutMs)})` : '';
    return fail('timeout', 'timeout', `killed at the hard timeout${limit}`);
  }
  if (f.stalled) {
    const quiet = f.stallTimeoutMs !== undefined ? ` for ${formatDuration(f.stallTimeoutMs)}` : '';
    return fail('timeout', 'stalled', `stalled (no output${quiet}): killed by [run] stall_timeout_s`);
  }

  // The end of the output is where the shell's and the interpreter's last words are.
  const lines = cleanLines(lastLines(f.output, TAIL_WINDOW_BYTES));
  const value = f.metric === undefined ? undefined : f.metrics[f.metric];
  const metricOk = f.metric === undefined || (value !== undefined && Number.isFinite(value));
  const failed = f.exitCode !== 0 || f.signal !== null;

  // A script may catch an OOM and recover (e.g. retry with a smaller batch): only a run that
  // failed, or did not deliver its metric, is called an OOM.
  if (failed || !metricOk) {
    const oomLine = findLast(lines, (l) => OOM_TEXT.test(l)) ?? firstLineMatching(f.output, OOM_TEXT);
    if (oomLine !== undefined) return fail('crash', 'oom', `out of memory: ${excerpt(oomLine)}`);
  }

  if (f.signal !== null) {
    if (f.signal === 'SIGKILL') {
      return fail('crash', 'oom', 'killed by SIGKILL (not sent by autoresearch; likely the kernel OOM killer)');
    }
    return fail('crash', 'signal', withLastLine(`killed by signal ${f.signal}`, lines));
  }

  if (f.exitCode === null) return fail('crash', 'exit', withLastLine('exited without a status', lines));

  if (f.exitCode === 127 || f.exitCode === 126) {
    const nf = notFoundReason(lines);
    if (nf !== undefined) return fail('crash', 'not-found', nf);
  }

  if (f.exitCode === 137) {
    // 128 + 9: a process under the shell was SIGKILLed, most often by the OOM killer.
    return fail('crash', 'oom', withLastLine('exit code 137 (SIGKILL; likely the kernel OOM killer)', lines));
  }

  if (f.exitCode !== 0) return fail('crash', 'exit', withLastLine(`exit code ${f.exitCode}`, lines));
  if (f.metric === undefined) return { kind: 'ok', value: null };

  if (value === undefined) {
    return fail(
      'crash',
      'missing-metric',
      `metric "${f.metric}" was not printed (expected a "---" block with "${f.metric}: <number>"` +
        ` or a line "METRIC ${f.metric}=<number>")`,
    );
  }
  if (!metricOk) return fail('crash', 'non-finite', `metric "${f.metric}" is ${String(value)}`);
  return { kind: 'ok', value };
}

/** `command not found: foo` / `permission denied: ./train.sh` from the shell's message line. */
function notFoundReason(lines: string[]): string | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = (lines[i] ?? '').trim();
    const nf = SHELL_NOT_FOUND.exec(line);
    if (nf) return `command not found: ${excerpt(nf[1] ?? '')}`;
    const pd = SHELL_NO_PERMISSION.exec(line);
    if (pd) return `permission denied: ${excerpt(pd[1] ?? '')}`;
  }
  return undefined;
}

/** Trailer lines runtimes print after the real error (Node's version footer, caret markers). */
const NOISE_LINE = /^\s*(Node\.js v\d+\S*|\^+|\s*at .+\(.*\)|\s*at \S+:\d+:\d+)\s*$/;
/** A line that names the error, e.g. "ValueError: ...", "ReferenceError: x is not defined". */
const ERROR_LINE = /\b([A-Z]\w*(Error|Exception)|error|Error|FAILED|Killed|panicked)\b[:\s]/;

/** The most telling line near the end: the last one naming an error, else the last non-noise one. */
function withLastLine(prefix: string, lines: string[]): string {
  const recent = lines.slice(-40);
  const telling =
    findLast(recent, (l) => ERROR_LINE.test(l) && !NOISE_LINE.test(l)) ??
    findLast(lines, (l) => l.trim() !== '' && !NOISE_LINE.test(l));
  return telling === undefined ? prefix : `${prefix}: ${excerpt(telling)}`;
}

function findLast(lines: string[], pred: (line: string) => boolean): string | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i];
    if (line !== undefined && pred(line)) return line;
  }
  return undefined;
}

/** The (cleaned) line holding the first match of `re` in `text`, scanning the whole text once. */
function firstLineMatching(text: string, re: RegExp): string | undefined {
  const m = re.exec(text);
  if (!m) return undefined;
  const start = text.lastIndexOf('\n', m.index) + 1;
  const end = text.indexOf('\n', m.index);
  return cleanLine(text.slice(start, end < 0 ? text.length : end));
}

function excerpt(line: string): string {
  const t = line.trim();
  return t.length <= REASON_LINE_MAX ? t : `${t.slice(0, REASON_LINE_MAX - 1)}…`;
}

function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ');
}

function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  return s < 120 ? `${Number(s.toFixed(1))} s` : `${Number((s / 60).toFixed(1))} min`;
}
