/**
 * Runs a coding-agent CLI as a child in its own process group, with optional stdin, a wall-clock
 * timeout and an abort signal; on either the whole group gets SIGTERM, then SIGKILL after a grace.
 *
 * Contract: never throws; resolves once the child has exited (or could not start), with its exit
 * status and the tails of stdout/stderr (each capped). No process of the group survives a timeout
 * or an abort. An already aborted signal starts nothing (`aborted: true`).
 */
import { Supervisor } from '../../runner/supervise.js';

export interface CliRunSpec {
  argv: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdin?: string;
  timeoutMs: number;
  killGraceMs?: number;
  /** Bytes kept of each stream (the tail). */
  capBytes?: number;
}

export interface CliRunResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  aborted: boolean;
  /** Set when the process could not be started (ENOENT, EACCES). */
  spawnError: string | null;
  durationMs: number;
}

class Tail {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly cap: number) {}
  push(b: Buffer): void {
    this.chunks.push(b);
    this.size += b.length;
    while (this.size > this.cap && this.chunks.length > 1) this.size -= this.chunks.shift()!.length;
  }
  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.cap)).toString('utf8');
  }
}

/**
 * Runs the CLI through the harness's one process supervisor (runner/supervise.ts): the same group
 * kill, timeout and exit hook as training runs. stdin always gets `spec.stdin` (empty when unset),
 * then EOF.
 */
export async function runCli(spec: CliRunSpec, signal?: AbortSignal): Promise<CliRunResult> {
  const cap = spec.capBytes ?? 1024 * 1024;
  const tails = { stdout: new Tail(cap), stderr: new Tail(cap) };
  const r = await new Supervisor().run(
    {
      argv: spec.argv,
      cwd: spec.cwd,
      env: spec.env,
      stdin: spec.stdin ?? '',
      timeoutMs: spec.timeoutMs,
      killGraceMs: spec.killGraceMs ?? 2000,
      onData: (chunk, stream) => tails[stream].push(chunk),
    },
    signal,
  );
  return {
    exitCode: r.exitCode,
    signal: r.signal,
    stdout: tails.stdout.text(),
    stderr: tails.stderr.text(),
    timedOut: r.killedFor === 'timeout',
    aborted: r.killedFor === 'abort',
    spawnError: r.spawnError ?? null,
    durationMs: r.endedAt - r.startedAt,
  };
}
