/**
 * Kills what is left of a run whose harness was killed with `kill -9` (its process group lives
 * on, since only the harness could have stopped it).
 *
 * Contract: never throws. On Linux it only signals processes of that group whose environment
 * carries `marker` (e.g. AUTORESEARCH_WORKTREE=/path), so a recycled process-group id of some
 * unrelated program is never touched. Elsewhere it signals the group directly.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';

export function killStaleGroup(pgid: number, marker: string): number {
  if (!Number.isInteger(pgid) || pgid <= 1) return 0;
  if (!existsSync('/proc/self/stat')) {
    try {
      process.kill(-pgid, 'SIGKILL');
      return 1;
    } catch {
      return 0;
    }
  }
  let killed = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== pgid) continue; // field 5 of stat: the process group
      const environ = readFileSync(`/proc/${name}/environ`, 'utf8');
      if (!environ.split('\0').includes(marker)) continue;
      process.kill(Number(name), 'SIGKILL');
      killed++;
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return killed;
}
