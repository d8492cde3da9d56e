/** Finds an executable on PATH (or checks an explicit path). Pure apart from file-system checks. */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

export function findExecutable(name: string, path: string | undefined, cwd: string = process.cwd()): string | null {
  const ok = (p: string) => {
    try {
      accessSync(p, constants.X_OK);
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (name.includes('/')) {
    const p = isAbsolute(name) ? name : resolve(cwd, name);
    return ok(p) ? p : null;
  }
  for (const dir of (path ?? '').split(delimiter)) {
    if (dir && ok(join(dir, name))) return join(dir, name);
  }
  return null;
}
