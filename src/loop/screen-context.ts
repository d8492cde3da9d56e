/**
 * Builds the diff screen's context for a study from a worktree: the names its editable files
 * import from protected files (read before the proposer changes them), the objective, and
 * whether rule (a) applies (only without `[run].evaluate`; see screen.ts for why).
 *
 * Contract: reads files only; a missing or unreadable file counts as empty; never throws.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/load.js';
import { protectedImports, type SourceFile } from './protected-imports.js';
import type { ScreenContext } from './screen.js';

function read(root: string, paths: string[]): SourceFile[] {
  const out: SourceFile[] = [];
  for (const path of paths) {
    try {
      out.push({ path, text: readFileSync(join(root, path), 'utf8') });
    } catch {
      // missing (a file the proposal will create) or unreadable: nothing to read
    }
  }
  return out;
}

export function screenContext(config: Config, worktree: string, metric: string): ScreenContext {
  const protectedPaths = [...config.files.protected];
  return {
    metric,
    protectedModules: protectedImports(
      read(worktree, config.files.editable),
      protectedPaths,
      read(worktree, protectedPaths),
    ),
    protectedPaths,
    metricOutput: config.run.evaluate === undefined,
  };
}
