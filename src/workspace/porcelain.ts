/**
 * Parsing of `git status --porcelain=v1 -z` output (pure; no git here).
 */

/** Paths from `git status --porcelain=v1 -z` output (rename sources skipped). */
export function parsePorcelainZ(out: string): string[] {
  const parts = out.split('\0');
  const paths: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const entry = parts[i]!;
    if (entry.length < 4) continue;
    const xy = entry.slice(0, 2);
    paths.push(entry.slice(3));
    if (xy[0] === 'R' || xy[0] === 'C') i++; // the next part is the rename source
  }
  return paths;
}
