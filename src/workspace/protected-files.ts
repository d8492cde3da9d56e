/**
 * Protected-file hashes: the study records them when it starts (ledger `protectedHashes`); every
 * run checks them before and after each step (loop/run-once.ts), so a run that rewrites the
 * evaluation is caught and the file restored.
 *
 * Contract: pure apart from reading the files; never throws for a missing file (it is left out of
 * the record, and a check skips paths that have no recorded hash). Read errors other than a
 * missing file (EACCES, EISDIR) throw: the harness cannot vouch for a file it cannot read.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** sha256 (hex) of each of `paths` (relative to `root`) that exists. */
export function hashFiles(root: string, paths: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of paths) {
    const abs = join(root, p);
    if (existsSync(abs)) out[p] = createHash('sha256').update(readFileSync(abs)).digest('hex');
  }
  return out;
}
