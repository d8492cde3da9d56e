/**
 * The agent's `build_on` tool (offered in a workspace joined to a hub): start from a result
 * another contributor measured from the same best (a near miss listed under "Tried by other
 * contributors", ./others-section.ts) by applying its diff onto the working copy, which holds the
 * current best plus whatever the agent edited already. The agent may then edit further; the
 * proposal is guarded, screened, run and judged against the best like any other.
 *
 * Adversary: the diff is contributor-written. Only commits listed in the context are fetched (no
 * way to read arbitrary hub content), the diff is bounded, and it may touch only the editable
 * files, as plain files (no symbolic links): anything else is refused before a byte is written.
 * Should that check ever be bypassed, the proposal guard rejects the proposal anyway.
 *
 * Contract: `buildOnTool` never throws (a failure is an error result for the model); on any
 * failure the working copy is left exactly as it was (nothing half-applied). The index is left at
 * HEAD for the paths it touched.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OthersContext } from '../types.js';
import { Git } from '../../workspace/git.js';
import { normalRel } from '../../workspace/rel-path.js';
import type { FileScope, ToolOutput } from './file-tools.js';

/** A contributor's diff larger than this is refused (the hub caps stored diffs at 1 MiB). */
export const BUILD_ON_MAX_DIFF_CHARS = 256 * 1024;

export interface BuildOnSource {
  tried: OthersContext['tried'];
  fetchChange: NonNullable<OthersContext['fetchChange']>;
}

export type Applied =
  | { kind: 'applied'; files: string[]; added: number; deleted: number; threeWay: boolean }
  | { kind: 'failed'; message: string };

/** The listed result a commit (full, or a unique prefix of at least 7 hex digits) names. */
export function listedResult(
  tried: OthersContext['tried'],
  asked: string,
): { ok: true; entry: OthersContext['tried'][number] & { commit: string } } | { ok: false; message: string } {
  const a = asked.trim().toLowerCase();
  const listed = tried.filter((t): t is typeof t & { commit: string } => typeof t.commit === 'string');
  const hits = /^[0-9a-f]{7,64}$/.test(a) ? listed.filter((t) => t.commit.startsWith(a)) : [];
  const unique = [...new Map(hits.map((t) => [t.commit, t])).values()];
  if (unique.length === 1) return { ok: true, entry: unique[0]! };
  if (unique.length > 1) return { ok: false, message: `${a} names several listed results; give more digits` };
  return {
    ok: false,
    message: `refused: ${JSON.stringify(asked.slice(0, 70))} is not the commit of a result listed under "Tried by other contributors from this best"; build_on takes only those`,
  };
}

export async function buildOnTool(scope: FileScope, source: BuildOnSource, asked: string): Promise<ToolOutput> {
  const err = (content: string): ToolOutput => ({ content, isError: true });
  const found = listedResult(source.tried, asked);
  if (!found.ok) return err(found.message);
  const { entry } = found;
  const short = entry.commit.slice(0, 12);
  let got: { diff: string } | { error: string };
  try {
    got = await source.fetchChange(entry.commit);
  } catch (e) {
    got = { error: (e as Error).message };
  }
  if ('error' in got) return err(`cannot get the change of ${short} from the hub: ${got.error}`);
  const diff = got.diff;
  if (diff.length > BUILD_ON_MAX_DIFF_CHARS)
    return err(
      `refused: the change of ${short} is ${diff.length} characters, over the ${BUILD_ON_MAX_DIFF_CHARS} bound`,
    );
  if (diff.trim() === '') return err(`the change of ${short} is empty: nothing to build on`);
  if (/^(new file mode|new mode|deleted file mode|old mode) 120000/m.test(diff))
    return err(`refused: the change of ${short} involves a symbolic link; only plain editable files may change`);
  const git = new Git(scope.worktree);
  const paths = await touchedPaths(git, diff);
  if (!paths.ok) return err(`the change of ${short} is not a diff git can read: ${paths.message}`);
  const editable = new Set(scope.editable.map(normalRel));
  const outside = paths.paths.filter((p) => !editable.has(normalRel(p)));
  if (outside.length)
    return err(
      `refused: the change of ${short} touches file(s) outside the editable files: ${outside.slice(0, 5).join(', ')}. You may change only: ${scope.editable.join(', ')}.`,
    );
  const applied = await applyChange(scope.worktree, diff);
  if (applied.kind === 'failed')
    return err(
      `the change of ${short} does not apply on your working copy (nothing was changed): ${applied.message}. Make your own change instead, or build on another result.`,
    );
  return {
    content: [
      `applied the change of ${short} (${entry.status}${entry.value !== null ? ` ${entry.value}` : ''}, by ${JSON.stringify(entry.contributor)}: ${JSON.stringify(entry.description)})`,
      `to ${applied.files.join(', ')} (+${applied.added} -${applied.deleted} lines${applied.threeWay ? ', with a three-way merge' : ''}).`,
      'Read the file(s): the change is contributor-written and may be wrong. Edit further if you like, then call finish; it is judged against the current best like any proposal.',
    ].join(' '),
    isError: false,
  };
}

/** Paths a diff creates, changes or deletes (both sides of a rename), from git's own parser. */
async function touchedPaths(
  git: Git,
  diff: string,
): Promise<{ ok: true; paths: string[] } | { ok: false; message: string }> {
  const r = await git.run(['apply', '--numstat', '-z', '-'], { input: diff });
  if (r.code !== 0) return { ok: false, message: firstLine(r.stderr) };
  // records: "added\tdeleted\tpath\0", or for a rename "added\tdeleted\t\0from\0to\0"
  const paths: string[] = [];
  const parts = r.stdout.split('\0');
  for (let i = 0; i < parts.length; i++) {
    const m = /^(?:\d+|-)\t(?:\d+|-)\t(.*)$/s.exec(parts[i]!);
    if (!m) continue;
    if (m[1] !== '') paths.push(m[1]!);
    else {
      paths.push(parts[i + 1]!, parts[i + 2]!);
      i += 2;
    }
  }
  return paths.length ? { ok: true, paths: [...new Set(paths)] } : { ok: false, message: 'no file in it' };
}

/**
 * Applies `diff` to the working tree of the git repository `worktree` (its root), on top of any
 * uncommitted edits: directly when it applies, else with git's three-way merge (the blobs the
 * diff names, when this repository has them). All or nothing: on failure every touched path is
 * restored to its content before. No check of which files it touches (the caller's job).
 */
export async function applyChange(worktree: string, diff: string): Promise<Applied> {
  const git = new Git(worktree);
  const paths = await touchedPaths(git, diff);
  if (!paths.ok) return { kind: 'failed', message: paths.message };
  const saved = new Map(paths.paths.map((p) => [p, readOrNull(join(worktree, p))]));
  const stat = await git.run(['apply', '--numstat', '-'], { input: diff });
  const counts = stat.stdout
    .split('\n')
    .map((l) => l.split('\t'))
    .reduce((acc, [a, d]) => ({ added: acc.added + (Number(a) || 0), deleted: acc.deleted + (Number(d) || 0) }), {
      added: 0,
      deleted: 0,
    });
  const direct = await git.run(['apply', '--whitespace=nowarn', '-'], { input: diff });
  if (direct.code === 0) return { kind: 'applied', files: paths.paths, ...counts, threeWay: false };
  // The three-way merge works through the index: stage the agent's edits of these paths first
  // (the working tree must match the index), then put the index back to HEAD whatever happens.
  const existing = paths.paths.filter((p) => saved.get(p) !== null);
  const restoreIndex = () => git.run(['reset', '-q', '--', ...paths.paths]);
  try {
    if (existing.length) {
      const add = await git.run(['add', '--', ...existing]);
      if (add.code !== 0) return restored(worktree, saved, firstLine(direct.stderr));
    }
    const merged = await git.run(['apply', '--3way', '--whitespace=nowarn', '-'], { input: diff });
    if (merged.code === 0 && !hasConflictMarkers(worktree, paths.paths))
      return { kind: 'applied', files: paths.paths, ...counts, threeWay: true };
    const why = firstLine(merged.stderr) || 'conflicts with your working copy';
    return restored(worktree, saved, /conflict/i.test(why) ? why : `${firstLine(direct.stderr)}; three-way: ${why}`);
  } finally {
    await restoreIndex();
  }
}

function restored(worktree: string, saved: Map<string, Buffer | null>, message: string): Applied {
  for (const [p, content] of saved) {
    const abs = join(worktree, p);
    if (content === null) rmSync(abs, { force: true });
    else writeFileSync(abs, content);
  }
  return { kind: 'failed', message };
}

function hasConflictMarkers(worktree: string, paths: string[]): boolean {
  return paths.some((p) => {
    const b = readOrNull(join(worktree, p));
    return b !== null && /^<{7} .*\n[\s\S]*^>{7} /m.test(b.toString('utf8'));
  });
}

function readOrNull(abs: string): Buffer | null {
  return existsSync(abs) ? readFileSync(abs) : null;
}

const firstLine = (s: string) =>
  s
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(0, 2)
    .join(' ');
