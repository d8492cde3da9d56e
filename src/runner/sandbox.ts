/**
 * Sandbox seam: wraps a run so that the command sees only what it may see.
 *
 * Contract of `Sandbox.wrap(spec, view)`:
 * - Pure apart from looking at the filesystem (which of the view's paths exist, files or
 *   folders); returns a new RunSpec, never mutates `spec`, never throws for missing paths (a
 *   path of the view that does not exist is simply not mounted; the worktree and, when given,
 *   the output directory must exist).
 * - `command` stays the user's string (for logs); the sandbox goes into `wrapper` (an argv
 *   prefix the runner puts before `/bin/sh -c command`) and may change `env`.
 * - Inside (BwrapSandbox):
 *   - the whole filesystem is read-only; writable are only the worktree, the output directory
 *     (phase "train"; read-only in "evaluate") and a private, empty /tmp;
 *   - never visible: the workspace's `.autoresearch/` (ledger, logs, locks, other slots), the
 *     workspace's git directory (and the worktree's `.git` file that points into it), $HOME
 *     (HOME is set to an empty /tmp/home), /run (system sockets: dbus, docker, systemd);
 *   - `view.links` (the `[files].link` targets) and `view.readable` (toolchains under $HOME)
 *     are readable, never writable; the workspace root itself is read-only;
 *   - `view.hidden` (the `[files].validation` paths) are hidden in phase "train" only;
 *   - no network (own network namespace with only loopback) unless `view.network`;
 *   - GPUs (/dev/nvidia*) passed through; a fresh /dev and /proc;
 *   - own PID namespace (`--unshare-pid`): when the command's shell exits, or the runner kills
 *     the process group, the namespace dies and every process in it, `setsid` daemons too;
 *     `--die-with-parent` does the same if the harness dies; no capabilities (`--cap-drop ALL`:
 *     a root run cannot remount anything read-write); own IPC, UTS (and cgroup) namespaces.
 *   - The process group is kept (no `--new-session`): the runner's SIGTERM/SIGKILL of the group
 *     reaches the command directly. The command has no controlling terminal (stdin is
 *     /dev/null, the runner starts it in a new session), so TIOCSTI injection is not possible.
 * - NoSandbox returns the spec unchanged: the run has the user's rights.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, realpathSync, type Stats, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RunSpec } from './types.js';
import { findExecutable } from './which.js';

export type SandboxPhase = 'train' | 'evaluate';
export type SandboxMode = 'auto' | 'bwrap' | 'none';

/** What a run may see; every path absolute and resolved (realpath) by whoever builds it. */
export interface SandboxView {
  phase: SandboxPhase;
  /** The slot's worktree: writable. */
  worktree: string;
  /** The run's output directory: writable in "train", read-only in "evaluate". */
  outputDir?: string;
  /** `[files].link` targets (real paths): readable, never writable. */
  links: readonly string[];
  /** `[files].validation` paths (real paths): hidden in "train", readable in "evaluate". */
  hidden: readonly string[];
  /** Extra read-only paths made visible even inside a hidden area (toolchains under $HOME). */
  readable: readonly string[];
  network: boolean;
  /** The workspace root: read-only. */
  workspaceRoot: string;
  /** The workspace's `.autoresearch/`: never visible. */
  stateDir: string;
  /** The workspace's git directory (and its common dir): never visible. */
  gitDirs: readonly string[];
  /** The harness user's home: never visible. */
  home: string;
}

export interface Sandbox {
  readonly kind: 'bwrap' | 'none';
  wrap(spec: RunSpec, view: SandboxView): RunSpec;
}

/** HOME inside the bubblewrap sandbox (on its private /tmp). */
export const SANDBOX_HOME = '/tmp/home';

/** Runs as they are, with the user's rights. */
export class NoSandbox implements Sandbox {
  readonly kind = 'none' as const;
  wrap(spec: RunSpec): RunSpec {
    return spec;
  }
}

export interface BwrapOptions {
  /** Path of the bwrap executable. */
  bwrap: string;
  /** Device nodes passed through (default: /dev/nvidia* present now). */
  devices?: readonly string[];
}

/** Sandboxing with bubblewrap (see the contract above). */
export class BwrapSandbox implements Sandbox {
  readonly kind = 'bwrap' as const;
  private readonly bwrap: string;
  private readonly devices: readonly string[];

  constructor(o: BwrapOptions) {
    this.bwrap = o.bwrap;
    this.devices = o.devices ?? nvidiaDevices();
  }

  wrap(spec: RunSpec, view: SandboxView): RunSpec {
    const args = bwrapArgs(view, spec.cwd, this.devices);
    return {
      ...spec,
      wrapper: [this.bwrap, ...args, ...(spec.wrapper ?? [])],
      env: { ...spec.env, HOME: SANDBOX_HOME },
    };
  }
}

/** The bwrap arguments for a view (order matters: a later mount shadows an earlier one). */
export function bwrapArgs(view: SandboxView, cwd: string, devices: readonly string[] = []): string[] {
  const a: string[] = [
    '--die-with-parent',
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
    '--cap-drop',
    'ALL',
  ];
  if (!view.network) a.push('--unshare-net');
  a.push('--ro-bind', '/', '/');
  a.push('--dev', '/dev');
  for (const d of devices) if (existsSync(d)) a.push('--dev-bind', d, d);
  a.push('--proc', '/proc');
  a.push('--tmpfs', '/tmp', '--dir', SANDBOX_HOME);
  if (isDir('/run')) {
    a.push('--tmpfs', '/run');
    // With network, DNS may need /etc/resolv.conf's target under /run (systemd-resolved).
    if (view.network) {
      const target = realOrNull('/etc/resolv.conf');
      if (target?.startsWith('/run/')) a.push('--ro-bind', dirname(target), dirname(target));
    }
  }
  if (view.home && view.home !== '/') hide(a, view.home);
  // Back into sight, read-only: what a hide above may have covered (a workspace under $HOME or
  // /tmp, a .venv whose Python lives under $HOME).
  for (const p of [view.workspaceRoot, ...view.links, ...view.readable]) if (existsSync(p)) a.push('--ro-bind', p, p);
  hide(a, view.stateDir);
  for (const g of view.gitDirs) hide(a, g);
  a.push('--bind', view.worktree, view.worktree);
  if (view.outputDir !== undefined)
    a.push(view.phase === 'train' ? '--bind' : '--ro-bind', view.outputDir, view.outputDir);
  // The worktree's .git (a file pointing into the workspace's git dir): a run that rewrote it
  // could point the harness's next git command at a config it wrote (core.fsmonitor = ...).
  hide(a, join(view.worktree, '.git'));
  if (view.phase === 'train') for (const h of view.hidden) hide(a, h);
  a.push('--chdir', cwd);
  return a;
}

/** Covers `path` with an empty tmpfs (folder) or /dev/null (anything else); nothing if absent. */
function hide(a: string[], path: string): void {
  let st: Stats;
  try {
    st = statSync(path);
  } catch {
    return;
  }
  if (st.isDirectory()) a.push('--tmpfs', path);
  else a.push('--ro-bind', '/dev/null', path);
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function realOrNull(p: string): string | null {
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
}

/** The NVIDIA device nodes (/dev/nvidia0, /dev/nvidiactl, /dev/nvidia-uvm, /dev/nvidia-caps, ...). */
export function nvidiaDevices(devDir = '/dev'): string[] {
  try {
    return readdirSync(devDir)
      .filter((n) => n.startsWith('nvidia'))
      .map((n) => join(devDir, n))
      .sort();
  } catch {
    return [];
  }
}

/**
 * Runs `bwrap` once with the namespaces and mounts every run uses, on `true`. Returns null when
 * it works, else why not (one line).
 */
export function probeBwrap(bwrap: string): string | null {
  const r = spawnSync(
    bwrap,
    [
      '--die-with-parent',
      '--unshare-pid',
      '--unshare-ipc',
      '--unshare-net',
      '--cap-drop',
      'ALL',
      '--ro-bind',
      '/',
      '/',
      '--dev',
      '/dev',
      '--proc',
      '/proc',
      '--tmpfs',
      '/tmp',
      'true',
    ],
    { encoding: 'utf8', timeout: 15_000, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (r.error) return `${bwrap}: ${r.error.message}`;
  if (r.status === 0) return null;
  const why = (r.stderr || r.stdout || '').trim().split('\n')[0] || `exit ${r.status ?? r.signal}`;
  return `${bwrap} does not work here: ${why}`;
}

export type CreateSandboxResult = { ok: true; sandbox: Sandbox; notice?: string } | { ok: false; message: string };

export interface CreateSandboxDeps {
  /** Where bwrap is looked up (default process.env.PATH). */
  PATH?: string;
  /** The bwrap executable (default: `bwrap` on PATH). */
  bwrap?: string;
  devices?: readonly string[];
}

/**
 * The sandbox for `[run].sandbox`: "none" -> NoSandbox; "bwrap" -> BwrapSandbox, or an error
 * value when bwrap is missing or does not work (probed once by running it); "auto" ->
 * BwrapSandbox when it works, else NoSandbox with a one-line notice saying so. Never throws.
 */
export function createSandbox(mode: SandboxMode, deps: CreateSandboxDeps = {}): CreateSandboxResult {
  if (mode === 'none') return { ok: true, sandbox: new NoSandbox() };
  const bwrap = deps.bwrap ?? findExecutable('bwrap', deps.PATH ?? process.env.PATH ?? '');
  const problem = bwrap === null ? 'bubblewrap (bwrap) is not installed' : probeBwrap(bwrap);
  if (problem === null) {
    return {
      ok: true,
      sandbox: new BwrapSandbox({ bwrap: bwrap!, ...(deps.devices ? { devices: deps.devices } : {}) }),
    };
  }
  if (mode === 'bwrap') {
    return {
      ok: false,
      message: `[run].sandbox = "bwrap" but ${problem}: install bubblewrap (apt-get install bubblewrap), or set [run].sandbox = "auto" or "none"`,
    };
  }
  return {
    ok: true,
    sandbox: new NoSandbox(),
    notice: `runs are not sandboxed (${problem}): they can read your files and environment and reach the network; install bubblewrap, or set [run].sandbox = "none" to silence this`,
  };
}
