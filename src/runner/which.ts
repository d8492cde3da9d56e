/**
 * The one PATH lookup of the harness (the run command's check, `uv`, `bwrap`, the agent CLIs).
 *
 * Contract: pure apart from file-system checks; never throws. A name containing "/" is a path
 * (relative to `cwd`), checked as it is; any other name is looked up in the directories of
 * `pathVar` in order. Found means a regular file (after symlinks) that this process may execute.
 * Empty PATH entries are skipped: a shell would read them as the current directory, which is
 * not a place to pick executables up from.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

/** Where executable `name` is (an absolute path for a path name, `dir/name` from PATH), or null. */
export function findExecutable(name: string, pathVar: string | undefined, cwd: string = process.cwd()): string | null {
  if (name === '') return null;
  if (name.includes('/')) {
    const p = isAbsolute(name) ? name : resolve(cwd, name);
    return isExecutableFile(p) ? p : null;
  }
  for (const dir of (pathVar ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    if (isExecutableFile(p)) return p;
  }
  return null;
}

/** A regular file (symlinks followed) with execute permission for this process. */
export function isExecutableFile(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
