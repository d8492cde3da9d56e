/**
 * What a run may see, from the config: builds the `SandboxView` (runner/sandbox.ts) of one run.
 *
 * Contract: reads the filesystem only to resolve paths (realpath, `.git` files, `pyvenv.cfg`);
 * never throws for a path that does not exist (it is left out, or kept as given).
 *
 * - links: the real paths of `[files].link` (taken from the workspace root);
 * - hidden: the real paths of `[files].validation`, from the workspace root and from the
 *   worktree (a tracked validation file, or one inside a linked folder); absolute paths and
 *   `~/...` (a data cache outside the workspace) are taken as they are;
 * - readable: toolchains that would vanish with $HOME or under the private /tmp: PATH entries
 *   there (and their parent, the toolchain's prefix), this package (e.g. a clone in /tmp)
 *   when installed under $HOME, and the Python installation of a linked virtualenv (uv puts
 *   its managed Pythons in ~/.local/share/uv/python).
 */
import { existsSync, readFileSync, realpathSync, type Stats, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import type { Config } from '../config/load.js';
import type { SandboxPhase, SandboxView } from '../runner/sandbox.js';
import { STATE_DIR } from '../workspace/workspace.js';
import { PACKAGE_BIN } from './run-env.js';

export interface SandboxViewInput {
  worktree: string;
  /** The run's output directory (must exist before the run). */
  outputDir?: string;
  phase: SandboxPhase;
  /** The run's environment (its PATH decides which toolchains under $HOME stay readable). */
  env?: Readonly<Record<string, string | undefined>>;
  /** The harness user's home (default os.homedir()). */
  home?: string;
}

export function sandboxView(config: Config, input: SandboxViewInput): SandboxView {
  const root = real(config.root);
  const worktree = real(input.worktree);
  const home = real(input.home ?? homedir());
  const links = config.files.link.map((l) => real(join(config.root, l))).filter(existsSync);
  const hidden = new Set<string>();
  for (const v of config.files.validation) {
    const bases = v.startsWith('~/') ? [home] : isAbsolute(v) ? [''] : [config.root, input.worktree];
    for (const base of bases) {
      const p = base ? join(base, v.startsWith('~/') ? v.slice(2) : v) : v;
      if (existsSync(p)) hidden.add(real(p));
    }
  }
  const view: SandboxView = {
    phase: input.phase,
    worktree,
    links,
    hidden: [...hidden],
    readable: toolchains(input.env?.PATH ?? '', links, home),
    network: config.run.network,
    workspaceRoot: root,
    stateDir: join(root, STATE_DIR),
    gitDirs: gitDirs(root),
    home,
  };
  if (input.outputDir !== undefined) view.outputDir = real(input.outputDir);
  return view;
}

/** The workspace's git directory: `.git` itself, or where a `.git` file points (and its common dir). */
export function gitDirs(root: string): string[] {
  const dotGit = join(root, '.git');
  let st: Stats;
  try {
    st = statSync(dotGit);
  } catch {
    return [];
  }
  if (st.isDirectory()) return [real(dotGit)];
  const out = [dotGit];
  const m = /^gitdir:\s*(.+)$/m.exec(readText(dotGit) ?? '');
  if (!m) return out;
  const dir = resolve(root, m[1]!.trim());
  out.push(real(dir));
  const common = readText(join(dir, 'commondir'))?.trim();
  if (common) out.push(real(resolve(dir, common)));
  return [...new Set(out)];
}

/** Paths under `home` a run needs to keep reading: PATH entries, this package, linked venvs' Pythons. */
function toolchains(path: string, links: readonly string[], home: string): string[] {
  const out = new Set<string>();
  // what the sandbox covers: $HOME (hidden) and /tmp (private); never either one whole
  const roots = [home, '/tmp'];
  const under = (p: string) => roots.some((h) => p.startsWith(h.endsWith(sep) ? h : h + sep));
  const add = (p: string) => {
    if (!isAbsolute(p) || !existsSync(p)) return;
    const r = real(p);
    if (under(r) && !roots.includes(r) && !home.startsWith(r + sep)) out.add(r); // never $HOME or above it
  };
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    add(dir);
    // a bin directory's parent is its toolchain's prefix (~/.pyenv for ~/.pyenv/shims, whose
    // shims call ~/.pyenv/libexec; ~/.cargo for ~/.cargo/bin), never $HOME itself
    if (isAbsolute(dir) && existsSync(dir)) add(dirname(real(dir)));
  }
  add(dirname(PACKAGE_BIN));
  for (const l of links) {
    const cfg = readText(join(l, 'pyvenv.cfg'));
    const m = cfg ? /^home\s*=\s*(.+)$/m.exec(cfg) : null;
    if (m) add(dirname(m[1]!.trim())); // home = <python install>/bin
  }
  return [...out];
}

function real(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}

function readText(p: string): string | null {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return null;
  }
}
