/**
 * Opens (or creates) a study and brings git in line with the ledger before any experiment runs.
 *
 * Contract: returns `{ok: false, message}` for every condition the user must fix (dirty tree,
 * missing files, branch conflicts, a config that no longer matches the study); never throws for
 * them. The ledger is the truth: the study is recorded before the branch exists, and on every
 * start the branch is moved to the ledger's best, so a kill between any two writes is repaired.
 * Worktrees of slots and proposal workers that no longer exist (fewer --slots than last time,
 * or a killed run) are removed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/load.js';
import type { Ledger, Study } from '../ledger/types.js';
import { STATE_DIR, studyBranch, type Workspace } from '../workspace/workspace.js';
import { materialiseFromLedger } from './frontier.js';
import { hashFiles } from '../workspace/protected-files.js';
import type { Worktree } from '../workspace/worktree.js';
import type { EmitEvent } from './events.js';
import { isSharedLedger, pinnedIdentity } from './host-id.js';

export interface Session {
  study: Study;
  resumed: boolean;
  /** Where proposals are made, one per concurrent proposal (detached at the best). */
  proposeWorktrees: Worktree[];
  /** One worktree per slot, in slot order. */
  slotWorktrees: Worktree[];
}

export type SetupResult = { ok: true; session: Session } | { ok: false; message: string };

export async function openSession(
  config: Config,
  workspace: Workspace,
  ledger: Ledger,
  emit: EmitEvent,
  slotCount: number,
  proposeCount = 1,
): Promise<SetupResult> {
  const tag = config.study.tag;
  const branch = studyBranch(tag);
  await workspace.ensureExcluded([`/${STATE_DIR}/`, '/results.tsv']);

  let study = await ledger.getStudy(tag);
  const resumed = study !== null;
  if (!study) {
    const problem = await checkFreshStart(config, workspace, branch);
    if (problem) return { ok: false, message: problem };
    const baseCommit = await workspace.head();
    study = await ledger.openStudy({
      tag,
      branch,
      metric: config.objective.metric,
      direction: config.objective.direction,
      baseCommit,
      protectedHashes: hashFiles(config.root, config.files.protected),
      config: { ...config },
    });
  } else {
    const problem = checkSameObjective(config, study) ?? checkSameFiles(config, study);
    if (problem) return { ok: false, message: problem };
  }

  const dir = workspace.worktreeDir(tag);
  const elsewhere = await workspace.branchCheckedOutElsewhere(branch, dir);
  if (elsewhere) {
    return {
      ok: false,
      message: `branch ${branch} is checked out in ${elsewhere}; the study moves that branch as it finds improvements, so switch that checkout to another branch first (git -C ${elsewhere} checkout -).`,
    };
  }
  // Several hosts: commits are written the same way everywhere, so that another host's kept
  // commit is rebuilt here with the same hash (../workspace/materialise.ts).
  const pinned = isSharedLedger(config) ? pinnedIdentity(study.createdAt) : null;
  if (pinned) workspace.git.pin(pinned);
  // The ledger is the truth: the branch points at its best (repairs a kill between keep and move).
  const at = study.bestCommit ?? study.baseCommit;
  if (pinned && !(await workspace.resolveCommit(at))) {
    const made = await materialiseFromLedger(workspace, ledger, study, at);
    if (!made.ok)
      return {
        ok: false,
        message: `the study's best ${at.slice(0, 7)} (kept by another host) can't be rebuilt from the ledger: ${made.reason}`,
      };
  }
  if (!(await workspace.resolveCommit(at))) {
    return {
      ok: false,
      message: `the study's commit ${at.slice(0, 7)} is missing from the repository (was it garbage-collected?). Start a new study with --tag.`,
    };
  }
  const hadBranch = await workspace.branchExists(branch);
  await workspace.setBranch(branch, at);
  if (resumed && !hadBranch && !pinned)
    emit({
      type: 'notice',
      t: Date.now(),
      level: 'warn',
      message: `branch ${branch} was missing; recreated it at ${at.slice(0, 7)} from the ledger`,
    });

  const paths = [
    ...Array.from({ length: proposeCount }, (_, i) => join(dir, `propose-${i}`)),
    ...Array.from({ length: slotCount }, (_, i) => join(dir, `slot-${i}`)),
  ];
  await workspace.removeWorktreesUnder(dir, paths);
  const trees: Worktree[] = [];
  for (const p of paths) {
    const wt = await workspace.openWorktree(p, at);
    if (pinned) wt.git.pin(pinned);
    const problems = wt.linkFrom(config.root, config.files.link);
    if (problems.length) return { ok: false, message: problems.join('\n') };
    trees.push(wt);
  }
  return {
    ok: true,
    session: {
      study,
      resumed,
      proposeWorktrees: trees.slice(0, proposeCount),
      slotWorktrees: trees.slice(proposeCount),
    },
  };
}

async function checkFreshStart(config: Config, workspace: Workspace, branch: string): Promise<string | null> {
  const dirty = await workspace.uncommittedChanges();
  if (dirty.length) {
    const list = dirty.slice(0, 5).join(', ') + (dirty.length > 5 ? `, ... (${dirty.length} files)` : '');
    return `the working tree has uncommitted changes (${list}). The baseline is your last commit, so commit them (git commit -am "...") or stash them (git stash) first.`;
  }
  const files = [...config.files.editable, ...config.files.protected];
  const missing = files.filter((f) => !existsSync(join(config.root, f)));
  if (missing.length) {
    return `file(s) listed in [files] do not exist: ${missing.join(', ')}. Fix [files].editable / [files].protected in autoresearch.toml.`;
  }
  const untracked = await workspace.untrackedAtHead(files);
  if (untracked.length) {
    return `file(s) listed in [files] are not committed: ${untracked.join(', ')}. Commit them first: git add ${untracked.join(' ')} && git commit -m "add training files"`;
  }
  if (await workspace.branchExists(branch)) {
    return `branch ${branch} already exists, but the ledger has no study "${config.study.tag}". Choose another tag (--tag ${config.study.tag}b) or delete the branch (git branch -D ${branch}).`;
  }
  return null;
}

function checkSameObjective(config: Config, study: Study): string | null {
  if (study.metric !== config.objective.metric || study.direction !== config.objective.direction) {
    return `study "${study.tag}" optimises ${study.metric} (${study.direction}) but the config now says ${config.objective.metric} (${config.objective.direction}). Results would not be comparable: start a new study with --tag.`;
  }
  return null;
}

/**
 * A resumed study keeps the rules it started with: which files a proposal may change and which
 * are protected. Widening `editable` (or dropping a file from `protected`) mid-study would let
 * later experiments change what earlier ones could not, against the same baseline: refused,
 * with what changed and what to do. Studies recorded without the lists are not checked.
 */
export function checkSameFiles(config: Config, study: Study): string | null {
  const recorded = (study.config as { files?: { editable?: unknown; protected?: unknown } } | null)?.files;
  const changes: string[] = [];
  for (const key of ['editable', 'protected'] as const) {
    const then = recorded?.[key];
    if (!Array.isArray(then)) continue;
    const was = new Set(then.map(String));
    const now = new Set(config.files[key]);
    const added = [...now].filter((f) => !was.has(f));
    const removed = [...was].filter((f) => !now.has(f));
    if (added.length || removed.length) {
      changes.push(`[files].${key} was ${fmtList([...was])}, now ${fmtList([...now])}`);
    }
  }
  if (!changes.length) return null;
  return (
    `study "${study.tag}" started with other file rules: ${changes.join('; ')}. ` +
    `Its experiments are only comparable under the rules it started with: put the lists back in autoresearch.toml to resume it, ` +
    `or start a new study under the new rules with --tag (e.g. --tag ${study.tag}-2; it starts from the checked-out commit: \`git checkout -b ${study.tag}-best ${study.branch}\` first to build on this study's best).`
  );
}

function fmtList(xs: string[]): string {
  return `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`;
}
