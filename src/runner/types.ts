/**
 * Runner seam: runs the study's command for one experiment.
 *
 * Contract:
 * - `Runner.run` never throws for anything the training command does (non-zero exit, crash,
 *   hang, flood of output, missing metric, NaN). Those are values: `RunResult.kind`.
 *   It throws only for harness bugs (e.g. the log directory cannot be created).
 * - The command runs in its own process group; at the hard timeout, after `stallTimeoutMs`
 *   without a byte of output, or when `signal` aborts, the whole group gets SIGTERM, then SIGKILL
 *   after `killGraceMs`. A stalled run is kind 'timeout', failure 'stalled'. When the command's main
 *   process exits, any process it left behind in its group is killed too: no orphan survives.
 * - stdout and stderr go (interleaved, in arrival order) to `logPath`, capped at `logCapBytes`:
 *   the head and the tail are kept, with a marker line saying how many bytes were dropped.
 */
import type { Secret } from './secrets.js';

export interface RunSpec {
  /** Shell command line, run with `/bin/sh -c` (the user's string, as logged). */
  command: string;
  /**
   * Argv prefix put before `/bin/sh -c command` (a sandbox: `bwrap ... `). The runner spawns
   * `wrapper[0]` in the new process group and kills that group, as without a wrapper.
   */
  wrapper?: readonly string[];
  /**
   * Secret values to scrub (as `[redacted:NAME]`) from the log file, `logTail`, `reason` and
   * `onOutput` chunks (chunks best effort: a value split across two chunks is not caught there).
   */
  secrets?: readonly Secret[];
  cwd: string;
  /** Full environment for the child (the caller builds it: loop/run-env.ts; a sandbox may change it). */
  env: Record<string, string>;
  /** Hard wall-clock limit; the process group is killed when it passes. */
  timeoutMs: number;
  /**
   * Kill the run when neither stdout nor stderr produced a byte for this long ([run]
   * stall_timeout_s); undefined: never (only the hard timeout applies). Must be > 0 when set.
   */
  stallTimeoutMs?: number;
  /** Delay between SIGTERM and SIGKILL. Default 5000. */
  killGraceMs?: number;
  /** Where the combined output is written (parent directories are created). */
  logPath: string;
  /** Cap for the log file in bytes. Default 50 MiB. */
  logCapBytes?: number;
  /**
   * Name of the objective metric, e.g. "val_bpb". Its absence makes the run a crash. Undefined
   * for a training step whose objective comes from a separate evaluate step: then exit 0 is ok
   * (with `value` null) and any metric lines are diagnostics.
   */
  metric?: string;
  /** Called once with the child's pid (== its process group id) right after spawn. */
  onSpawn?: (pgid: number) => void;
  /** Called with chunks of output as they arrive (for live views); must not throw. */
  onOutput?: (chunk: string) => void;
}

export type RunKind = 'ok' | 'crash' | 'timeout';

/** Why a run is not ok, machine-readable. */
export type RunFailure =
  | 'exit' // non-zero exit code
  | 'signal' // killed by a signal it did not get from us
  | 'not-found' // the shell could not find the command (exit 127/126)
  | 'spawn' // could not spawn at all
  | 'missing-metric' // exited 0 but never printed the objective metric
  | 'non-finite' // the objective metric is NaN or infinite
  | 'oom' // out of memory (CUDA OOM or killed by the kernel OOM killer)
  | 'timeout' // killed at the hard timeout
  | 'stalled' // killed after printing nothing for the stall timeout (kind 'timeout')
  | 'aborted'; // killed because the caller aborted (Ctrl-C)

export interface RunResult {
  kind: RunKind;
  /** Set when kind !== 'ok'. */
  failure?: RunFailure;
  /** One line for humans, e.g. "exit code 1: ModuleNotFoundError: No module named 'x'". */
  reason?: string;
  exitCode: number | null;
  signal: string | null;
  /** Every parsed metric (from the `---` block and METRIC lines), finite or not. */
  metrics: Record<string, number>;
  /** The objective metric's value when finite, else null. */
  value: number | null;
  startedAt: number; // epoch ms
  endedAt: number; // epoch ms
  durationMs: number;
  logPath: string;
  /** Last ~4 KB of the output (for the ledger and crash reports). */
  logTail: string;
  /** Total bytes the command wrote (before capping). */
  outputBytes: number;
  /** True when the log file was capped. */
  truncated: boolean;
}

export interface Runner {
  run(spec: RunSpec, signal?: AbortSignal): Promise<RunResult>;
}
