/**
 * Process-group helpers: signalling a whole group, and making sure the groups a runner started
 * die with the tool when Node exits while they still run.
 */

/**
 * Sends `signal` to every process of group `pgid`. Returns false when the group no longer
 * exists (ESRCH) or cannot be signalled; never throws.
 */
export function killGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  if (!Number.isInteger(pgid) || pgid <= 1) return false; // never signal -1 / -0 (everyone)
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * The process groups of runs in flight. While it holds any, a `process.on('exit')` hook is
 * installed that SIGKILLs them, so that a tool exiting mid-run (Ctrl-C handler calling
 * `process.exit`, an uncaught error) leaves no orphan. One registry per runner instance.
 * Never throws.
 */
export class GroupRegistry {
  private readonly groups = new Set<number>();
  private readonly onExit = (): void => {
    for (const pgid of this.groups) killGroup(pgid, 'SIGKILL');
  };

  add(pgid: number): void {
    if (this.groups.size === 0) process.on('exit', this.onExit);
    this.groups.add(pgid);
  }

  delete(pgid: number): void {
    if (!this.groups.delete(pgid)) return;
    if (this.groups.size === 0) process.off('exit', this.onExit);
  }

  get size(): number {
    return this.groups.size;
  }
}
