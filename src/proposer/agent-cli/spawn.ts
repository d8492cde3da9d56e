/**
 * Runs a coding-agent CLI as a child in its own process group, with optional stdin, a wall-clock
 * timeout and an abort signal; on either the whole group gets SIGTERM, then SIGKILL after a grace.
 *
 * Contract: never throws; resolves once the child has exited (or could not start), with its exit
 * status and the tails of stdout/stderr (each capped). No process of the group survives a timeout
 * or an abort.
 */
import { spawn } from 'node:child_process';

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

export function runCli(spec: CliRunSpec, signal?: AbortSignal): Promise<CliRunResult> {
  const t0 = Date.now();
  const cap = spec.capBytes ?? 1024 * 1024;
  const out = new Tail(cap);
  const err = new Tail(cap);
  return new Promise((resolve) => {
    let timedOut = false;
    let aborted = false;
    let spawnError: string | null = null;
    let killTimer: NodeJS.Timeout | undefined;
    const [cmd, ...args] = spec.argv;
    const child = spawn(cmd!, args, { cwd: spec.cwd, env: spec.env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    const killGroup = (sig: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // already gone
      }
    };
    const stop = () => {
      killGroup('SIGTERM');
      killTimer ??= setTimeout(() => killGroup('SIGKILL'), spec.killGraceMs ?? 2000);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, spec.timeoutMs);
    const onAbort = () => {
      aborted = true;
      stop();
    };
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => {}); // EPIPE when the CLI does not read stdin
    child.stdin.end(spec.stdin ?? '');
    child.on('error', (e) => {
      spawnError = e.message;
    });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      // The leader exited; make sure nothing of its group lingers.
      killGroup('SIGKILL');
      if (killTimer) clearTimeout(killTimer);
      signal?.removeEventListener('abort', onAbort);
      resolve({ exitCode: code, signal: sig, stdout: out.text(), stderr: err.text(), timedOut, aborted, spawnError, durationMs: Date.now() - t0 });
    });
  });
}
