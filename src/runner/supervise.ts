/**
 * The one process supervisor of the harness: the training/evaluate runner (process-runner.ts)
 * and the coding-agent CLIs (proposer/agent-cli/spawn.ts) both run their children through it.
 *
 * Contract of `Supervisor.run(spec, signal)`:
 * - Never rejects. A child that cannot start is a value (`spawnError`); so is everything the
 *   child does.
 * - `argv[0]` is spawned as the leader of a new process group (`detached`), with stdout and
 *   stderr piped to `onData` (in arrival order) and stdin either /dev/null or `spec.stdin`.
 * - At the hard timeout (`timeoutMs`), when no byte arrived on stdout or stderr for
 *   `stallTimeoutMs`, or when `signal` aborts, the whole group gets SIGTERM, then SIGKILL after
 *   `killGraceMs`; `killedFor` says which of the three it was (the first one wins).
 * - When the leader exits, whatever it left in its group is SIGKILLed: no orphan survives.
 * - Resolves once the leader exited and its pipes closed (or `pipeDrainMs` after the exit, when
 *   an escaped process holds them open); an unkillable leader is given up `killWaitMs` after the
 *   SIGKILL. If Node exits while children run, their groups are SIGKILLed by an exit hook.
 * - A signal that is already aborted starts nothing (`killedFor: 'abort'`, no spawn).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { GroupRegistry, killGroup } from './process-group.js';

/** Longest delay Node's timers accept; longer timeouts are clamped to it (~24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

export type KillReason = 'timeout' | 'stall' | 'abort';

export interface SuperviseSpec {
  /** The executable and its arguments; `argv[0]` leads the new process group. */
  argv: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Written to the child's stdin, which is then closed; without it stdin is /dev/null. */
  stdin?: string;
  /** Hard wall-clock limit (Infinity: none). Must be >= 0. */
  timeoutMs: number;
  /** Kill when neither stdout nor stderr produced a byte for this long (undefined: never). */
  stallTimeoutMs?: number;
  /** Delay between SIGTERM and SIGKILL. */
  killGraceMs: number;
  /** Called once with the leader's pid (== its process group id) right after spawn. */
  onSpawn?: (pgid: number) => void;
  /** Every chunk of output as it arrives. Must not throw (a throw is ignored). */
  onData?: (chunk: Buffer, stream: 'stdout' | 'stderr') => void;
}

export interface Supervised {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Why we killed the group, or null when the child ended by itself (or never started). */
  killedFor: KillReason | null;
  /** Set when the child could not be started (a human-readable cause). */
  spawnError?: string;
  startedAt: number; // epoch ms
  endedAt: number; // epoch ms
}

/** Tunables of the supervisor itself (the per-child settings are in `SuperviseSpec`). */
export interface SupervisorOptions {
  /**
   * After the leader exited and its group was SIGKILLed, how long to wait for stdout and
   * stderr to close (a process that escaped the group may hold them open). Default 2000.
   */
  pipeDrainMs?: number;
  /** After SIGKILL, how long to wait for the exit before giving up on the process. Default 10000. */
  killWaitMs?: number;
}

/** Supervises children (see the contract above). Several may be in flight at once on one instance. */
export class Supervisor {
  private readonly pipeDrainMs: number;
  private readonly killWaitMs: number;
  private readonly groups = new GroupRegistry();

  constructor(options: SupervisorOptions = {}) {
    this.pipeDrainMs = options.pipeDrainMs ?? 2000;
    this.killWaitMs = options.killWaitMs ?? 10_000;
  }

  async run(spec: SuperviseSpec, signal?: AbortSignal): Promise<Supervised> {
    const startedAt = Date.now();
    if (signal?.aborted) return { exitCode: null, signal: null, killedFor: 'abort', startedAt, endedAt: startedAt };
    const child = startChild(spec);
    if (typeof child === 'string') return notStarted(child, startedAt);
    return this.watch(child, spec, startedAt, signal);
  }

  private watch(
    child: ChildProcess,
    spec: SuperviseSpec,
    startedAt: number,
    signal: AbortSignal | undefined,
  ): Promise<Supervised> {
    return new Promise<Supervised>((resolve) => {
      const pgid = child.pid; // == the group id (detached: the child leads its own group)
      const pipes: [Readable, 'stdout' | 'stderr'][] = [];
      if (child.stdout) pipes.push([child.stdout, 'stdout']);
      if (child.stderr) pipes.push([child.stderr, 'stderr']);
      const timers = new Set<NodeJS.Timeout>();
      const later = (ms: number, fn: () => void): void => {
        const t = setTimeout(
          () => {
            timers.delete(t);
            fn();
          },
          Math.min(Math.max(ms, 0), MAX_TIMER_MS),
        );
        timers.add(t);
      };
      const clearTimers = (): void => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
      };
      let killedFor: KillReason | null = null;
      let exited = false;
      let settled = false;
      let lastOutputAt = Date.now();

      const settle = (o: Pick<Supervised, 'exitCode' | 'signal' | 'endedAt'> & { spawnError?: string }): void => {
        if (settled) return;
        settled = true;
        clearTimers();
        signal?.removeEventListener('abort', onAbort);
        if (pgid !== undefined) this.groups.delete(pgid);
        for (const [p] of pipes) p.destroy();
        resolve({ ...o, killedFor: o.spawnError === undefined ? killedFor : null, startedAt });
      };

      let openPipes = pipes.length;
      let onPipesClosed: (() => void) | null = null;
      for (const [pipe, name] of pipes) {
        pipe.on('data', (chunk: Buffer) => {
          lastOutputAt = Date.now();
          try {
            spec.onData?.(chunk, name);
          } catch {
            // onData must not throw; if it does, the child goes on regardless.
          }
        });
        pipe.on('error', () => {
          // A read error on a pipe ends it; the exit status still decides the outcome.
        });
        pipe.once('close', () => {
          openPipes -= 1;
          if (openPipes === 0) onPipesClosed?.();
        });
      }
      if (child.stdin) {
        child.stdin.on('error', () => {}); // EPIPE when the child does not read its stdin
        child.stdin.end(spec.stdin ?? '');
      }

      // One kill sequence for the timeout, the stall and the abort: SIGTERM, SIGKILL after grace.
      const startKill = (why: KillReason): void => {
        if (killedFor !== null || exited || settled || pgid === undefined) return;
        killedFor = why;
        killGroup(pgid, 'SIGTERM');
        later(spec.killGraceMs, () => {
          killGroup(pgid, 'SIGKILL');
          // An unkillable process (stuck in the kernel) must not hang the caller forever.
          later(this.killWaitMs, () => settle({ exitCode: null, signal: null, endedAt: Date.now() }));
        });
      };
      const onAbort = (): void => startKill('abort');

      child.on('error', (err) => {
        // Emitted without an 'exit' when the spawn itself failed (no pid).
        if (child.pid !== undefined) return;
        settle({ exitCode: null, signal: null, endedAt: Date.now(), spawnError: errorMessage(err) });
      });

      child.once('exit', (code, sig) => {
        exited = true;
        const endedAt = Date.now();
        // Whatever the leader left behind in its group dies with it.
        if (pgid !== undefined) killGroup(pgid, 'SIGKILL');
        clearTimers();
        const done = (): void => settle({ exitCode: code, signal: sig, endedAt });
        if (openPipes === 0) return done();
        onPipesClosed = done;
        later(this.pipeDrainMs, done);
      });

      if (pgid === undefined) return; // the 'error' event follows
      this.groups.add(pgid);
      try {
        spec.onSpawn?.(pgid);
      } catch {
        // onSpawn is the caller's; a throw there must not leave the child unsupervised.
      }
      if (Number.isFinite(spec.timeoutMs)) later(spec.timeoutMs, () => startKill('timeout'));
      const stallMs = spec.stallTimeoutMs;
      if (stallMs !== undefined && Number.isFinite(stallMs)) {
        const checkStall = (): void => {
          if (killedFor !== null || exited) return;
          const quietFor = Date.now() - lastOutputAt;
          if (quietFor >= stallMs) startKill('stall');
          else later(stallMs - quietFor, checkStall);
        };
        later(stallMs, checkStall);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted) onAbort();
    });
  }
}

function notStarted(why: string, startedAt: number): Supervised {
  return { exitCode: null, signal: null, killedFor: null, spawnError: why, startedAt, endedAt: Date.now() };
}

/** Spawns `argv` as the leader of a new process group; a string says why not. */
function startChild(spec: SuperviseSpec): ChildProcess | string {
  const cwdProblem = checkDirectory(spec.cwd);
  if (cwdProblem !== undefined) return cwdProblem;
  const [exe, ...args] = spec.argv;
  if (exe === undefined || exe === '') return 'no command given';
  try {
    return spawn(exe, args, {
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      stdio: [spec.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
  } catch (err) {
    // e.g. an environment value with a NUL byte
    return errorMessage(err);
  }
}

/** Why `dir` cannot be a working directory, or undefined when it can. */
function checkDirectory(dir: string): string | undefined {
  try {
    if (!statSync(dir).isDirectory()) return `working directory is not a directory: ${dir}`;
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `working directory does not exist: ${dir}`;
    return `working directory is not usable: ${dir} (${errorMessage(err)})`;
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
