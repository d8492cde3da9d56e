/**
 * Whole-file writes that a concurrent reader sees entirely or not at all.
 *
 * Contract: `writeAtomic` writes a temporary file next to `path`, then renames it over `path`
 * (atomic on POSIX within one filesystem): a reader sees the old content or the new, never a
 * part. On failure the temporary file is removed and the error thrown.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';

export function writeAtomic(path: string, content: string): void {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    writeFileSync(tmp, content);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
