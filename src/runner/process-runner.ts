/**
 * The process runner: runs a study's command in its own process group, with a hard timeout, a
 * stall timeout, abort, capped log capture, metric parsing and outcome classification.
 */
import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { classifyRun, type RunFacts } from './classify.js';
import { LogCapture } from './log-capture.js';
import { parseMetrics } from './metrics.js';
import { scrub, type Secret } from './secrets.js';
import { Supervisor, type SupervisorOptions } from './supervise.js';
import type { RunResult, RunSpec, Runner } from './types.js';

export const DEFAULT_KILL_GRACE_MS = 5000;
export const DEFAULT_LOG_CAP_BYTES = 50 * 1024 * 1024;
/** Tunables of the runner itself (the per-run settings are in `RunSpec`): see `SupervisorOptions`. */
export type ProcessRunnerOptions = SupervisorOptions;

/**
 * Runs commands with `/bin/sh -c` in their own process group (see the `Runner` contract in
 * types.ts), through the harness's one process supervisor (supervise.ts). `run` never throws for
 * anything the command does; it throws only when the log file cannot be created or the spec is
 * invalid (a negative or NaN timeout). Several runs may be in flight at once on one instance. If
 * Node exits while runs are in flight, their groups are SIGKILLed by an exit hook.
 */
export class ProcessRunner implements Runner {
  private readonly supervisor: Supervisor;

  constructor(options: ProcessRunnerOptions = {}) {
    this.supervisor = new Supervisor(options);
  }

  async run(spec: RunSpec, signal?: AbortSignal): Promise<RunResult> {
    if (Number.isNaN(spec.timeoutMs) || spec.timeoutMs < 0) {
      throw new Error(`RunSpec.timeoutMs must be >= 0, got ${spec.timeoutMs}`);
    }
    const stallMs = spec.stallTimeoutMs;
    if (stallMs !== undefined && (Number.isNaN(stallMs) || stallMs <= 0)) {
      throw new Error(`RunSpec.stallTimeoutMs must be > 0 when set, got ${stallMs}`);
    }
    const startedAt = Date.now();
    const capture = LogCapture.open(spec.logPath, spec.logCapBytes ?? DEFAULT_LOG_CAP_BYTES);

    // Output: both pipes into the capture (arrival order), and decoded to onOutput.
    const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
    const emit = (text: string): void => {
      if (text === '' || !spec.onOutput) return;
      try {
        spec.onOutput(scrub(text, spec.secrets));
      } catch {
        // onOutput must not throw; if it does, the run goes on regardless.
      }
    };
    const outcome = await this.supervisor.run(
      {
        argv: [...(spec.wrapper ?? []), '/bin/sh', '-c', spec.command],
        cwd: spec.cwd,
        env: spec.env,
        timeoutMs: spec.timeoutMs,
        ...(stallMs !== undefined ? { stallTimeoutMs: stallMs } : {}),
        killGraceMs: spec.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
        ...(spec.onSpawn ? { onSpawn: spec.onSpawn } : {}),
        onData: (chunk, stream) => {
          capture.write(chunk);
          if (spec.onOutput) emit(decoders[stream].write(chunk));
        },
      },
      signal,
    );
    emit(decoders.stdout.end());
    emit(decoders.stderr.end());

    capture.close();
    const output = await capturedText(capture);
    scrubLogFile(capture, output, spec.secrets);
    const metrics = parseMetrics(output);
    const facts: RunFacts = {
      metric: spec.metric,
      exitCode: outcome.exitCode,
      signal: outcome.signal,
      timedOut: outcome.killedFor === 'timeout',
      stalled: outcome.killedFor === 'stall',
      aborted: outcome.killedFor === 'abort',
      timeoutMs: spec.timeoutMs,
      ...(stallMs !== undefined ? { stallTimeoutMs: stallMs } : {}),
      output,
      metrics,
    };
    if (outcome.spawnError !== undefined) facts.spawnError = outcome.spawnError;
    const c = classifyRun(facts);
    const result: RunResult = {
      kind: c.kind,
      exitCode: outcome.exitCode,
      signal: outcome.signal,
      metrics,
      value: c.value,
      startedAt,
      endedAt: outcome.endedAt,
      durationMs: outcome.endedAt - startedAt,
      logPath: spec.logPath,
      logTail: scrub(capture.tail(), spec.secrets),
      outputBytes: capture.totalBytes,
      truncated: capture.truncated,
    };
    if (c.failure !== undefined) result.failure = c.failure;
    if (c.reason !== undefined) result.reason = scrub(c.reason, spec.secrets);
    return result;
  }
}

/** A runner with default options. */
export function createRunner(options: ProcessRunnerOptions = {}): Runner {
  return new ProcessRunner(options);
}

/** The log as it ended up on disk (head + marker + tail); the in-memory tail if the disk failed. */
async function capturedText(capture: LogCapture): Promise<string> {
  let text = '';
  try {
    text = await readFile(capture.path, 'utf8');
  } catch {
    return capture.tail();
  }
  // After a disk error the file is incomplete; the in-memory tail holds the last words.
  return capture.writeError ? `${text}\n${capture.tail()}` : text;
}

/** Rewrites the log file without the secret values when it holds any (never throws). */
function scrubLogFile(capture: LogCapture, output: string, secrets: readonly Secret[] | undefined): void {
  if (!secrets?.length || capture.writeError) return;
  const clean = scrub(output, secrets);
  if (clean === output) return;
  try {
    writeFileSync(capture.path, clean);
  } catch {
    // The tail in the ledger is scrubbed regardless.
  }
}
