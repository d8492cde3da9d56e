/**
 * The proposer of a joined workspace: the configured proposer, wrapped (../proposer/types.ts
 * contract) with what the hub adds to each proposal.
 *
 * - **Owner-queued experiments first.** When the work desk (./work-desk.ts) holds an experiment
 *   the study owner queued, it is the proposal: its parent is rebuilt here by tree
 *   (./remote-commit.ts), its diff applied on it, and the change moved onto the current best
 *   with git's three-way merge (../workspace/reapply.ts; nothing moves when the parent's tree is
 *   the best's). The worktree then holds the change, and the loop treats it like any proposal:
 *   the proposal guard (only editable files: a queued diff touching prepare.py or the evaluate
 *   step is rejected), the screen, the duplicate check, then run, judged and recorded, with
 *   proposer "hub-queued" and the work's description. A parent that can't be rebuilt or a diff
 *   that does not apply is a failed proposal (recorded `rejected`). Its `change` carries the work
 *   (id, hub parent, whether it ran on its parent's tree) so that the poster (./poster.ts) posts
 *   the result with its `workId`.
 * - **Others' results and notes.** Otherwise, before the configured proposer is asked, what
 *   others tried from this best and the notes board are fetched (./hub-context.ts) and given as
 *   `ctx.others`; a hub that does not answer is one notice (until it answers again) and the
 *   proposal goes on without them. `ctx.others.fetchChange` serves the diff of a listed result
 *   (an LLM agent's `build_on` tool: build on another contributor's near miss).
 * - **Notes to the board.** The notes an LLM agent adds or rewrites with its `note` tool are
 *   posted to the hub's notes board too, best-effort in the background (one notice when that
 *   fails; not queued offline: a note is advice, not a result). Each note's key is derived from
 *   its text, so a retry never duplicates it.
 *
 * Contract: never throws for what the hub does.
 */
import { createHash } from 'node:crypto';
import { oneLine } from '../loop/record.js';
import { cleanNoteText } from '../proposer/journal.js';
import type { OthersContext, ProposalContext, ProposalResult, Proposer } from '../proposer/types.js';
import { scrub } from '../runner/secrets.js';
import { reapply } from '../workspace/reapply.js';
import { Worktree } from '../workspace/worktree.js';
import type { HubClient } from './client.js';
import { fetchOthers, hubCommitOfBest } from './hub-context.js';
import { buildOn, localCommitFor, type RemoteRecipe, treeOf } from './remote-commit.js';
import type { WorkDesk } from './work-desk.js';
import type { WorkItem } from './work.js';

export const HUB_QUEUED_PROPOSER = 'hub-queued';

/** What an owner-queued experiment's `change` holds (read back by the poster). */
export interface QueuedChange {
  hubWork: {
    id: number;
    /** The hub commit the owner queued it on, and the diff as queued. */
    parent: string;
    diff: string;
    /** The local commit it was placed on, and whether that commit's tree is the parent's. */
    placedOn: string;
    onParentTree: boolean;
  };
}

export function queuedChangeOf(change: unknown): QueuedChange['hubWork'] | null {
  const w = (change as Partial<QueuedChange> | null)?.hubWork;
  if (!w || typeof w.id !== 'number' || typeof w.parent !== 'string' || typeof w.placedOn !== 'string') return null;
  return { ...w, diff: typeof w.diff === 'string' ? w.diff : '', onParentTree: w.onParentTree === true };
}

export interface HubProposerDeps {
  /** For the reads before each proposal: few retries, a short timeout. */
  client: Pick<HubClient, 'tried' | 'notes' | 'postNote'>;
  studyId: string;
  desk: WorkDesk;
  recipeOf: (sha: string) => Promise<RemoteRecipe | null>;
  ownIds: (ctx: ProposalContext) => Set<string>;
  /** A host-unique salt for note keys. */
  host: string;
  notice: (level: 'info' | 'warn', message: string) => void;
}

export interface HubProposer extends Proposer {
  /** Waits for the notes being posted. */
  drain(): Promise<void>;
}

export function hubProposer(inner: Proposer, deps: HubProposerDeps): HubProposer {
  let unreachable = false;
  let notesFailing = false;
  let notes: Promise<void> = Promise.resolve();

  const postNotes = (ctx: ProposalContext, texts: string[]) => {
    const commit = hubCommitOfBest(ctx);
    for (const raw of texts) {
      const text = scrub(cleanNoteText(raw), ctx.secrets);
      if (!text) continue;
      const key = `n-${createHash('sha256').update(`${deps.studyId}\0${deps.host}\0${text}`).digest('hex').slice(0, 40)}`;
      notes = notes.then(async () => {
        const r = await deps.client.postNote(deps.studyId, { text, key, commit });
        if (r.kind === 'ok') notesFailing = false;
        else if (!notesFailing) {
          notesFailing = true;
          deps.notice(
            'warn',
            `hub: a note was not posted to the notes board (${r.message}); it stays in the local journal`,
          );
        }
      });
    }
  };

  const proposer: HubProposer = {
    name: inner.name,
    async propose(ctx, signal) {
      const work = deps.desk.next();
      if (work) return proposeQueued(ctx, work, deps);
      const got = await fetchOthers(deps, ctx);
      if (!got.ok && !unreachable) {
        unreachable = true;
        deps.notice(
          'warn',
          `hub: what others tried and the notes board are not shown (${got.reason}); proposing without them`,
        );
      } else if (got.ok && unreachable) {
        unreachable = false;
        deps.notice('info', 'hub: what others tried and the notes board are shown again');
      }
      const result = await inner.propose(
        got.ok ? { ...ctx, others: { ...got.others, fetchChange: changeFetcher(got.others, deps.recipeOf) } } : ctx,
        signal,
      );
      const texts = (('journal' in result && result.journal) || []).flatMap((op) =>
        op.op === 'add' || op.op === 'replace' ? [op.text] : [],
      );
      if (texts.length) postNotes(ctx, texts);
      return result;
    },
    drain: () => notes,
  };
  if (inner.repair) proposer.repair = inner.repair.bind(inner);
  if (inner.preflight) proposer.preflight = inner.preflight.bind(inner);
  return proposer;
}

/**
 * `OthersContext.fetchChange`: the diff of a result listed in `others.tried` (by its full commit),
 * from the hub's recipe of that commit; any other commit is refused (the tool must not become a
 * way to fetch arbitrary hub content).
 */
export function changeFetcher(
  others: OthersContext,
  recipeOf: HubProposerDeps['recipeOf'],
): NonNullable<OthersContext['fetchChange']> {
  const listed = new Set(others.tried.flatMap((t) => (t.commit ? [t.commit] : [])));
  return async (commit) => {
    if (!listed.has(commit)) return { error: `${commit.slice(0, 12)} is not a result listed from this best` };
    try {
      const r = await recipeOf(commit);
      return r ? { diff: r.diff } : { error: "the hub does not hold this commit's change or did not answer" };
    } catch (err) {
      return { error: `the hub did not answer: ${(err as Error).message}` };
    }
  };
}

/** Places an owner-queued experiment in the worktree (see the module comment). */
async function proposeQueued(ctx: ProposalContext, work: WorkItem, deps: HubProposerDeps): Promise<ProposalResult> {
  const wt = new Worktree(ctx.worktree);
  const git = wt.git;
  const description = oneLine(
    `queued on the hub (work #${work.id}): ${cleanNoteText(work.description, 160) || '(no description)'}`,
  );
  const change: QueuedChange = {
    hubWork: { id: work.id, parent: work.parent, diff: work.diff, placedOn: ctx.parentCommit, onParentTree: false },
  };
  const failed = (reason: string): ProposalResult => ({
    kind: 'failed',
    reason: `${description}: ${reason}`,
    change,
    proposer: HUB_QUEUED_PROPOSER,
  });
  deps.notice('info', `hub: proposing queued work #${work.id} (${work.description.slice(0, 80)})`);
  const parent = await localCommitFor(git, work.parent, deps.recipeOf);
  if (!parent.ok) return failed(`its parent can't be rebuilt here: ${parent.reason}`);
  const built = await buildOn(git, parent.commit, work.diff, description);
  if (!built.ok) return failed(`conflict: ${built.reason}`);
  change.hubWork.onParentTree = (await treeOf(git, parent.commit)) === (await treeOf(git, ctx.parentCommit));
  const moved = await reapply(
    wt,
    { parent: parent.commit, commit: built.commit, diff: work.diff },
    ctx.parentCommit,
    description,
  );
  if (!moved.ok)
    return failed(`conflict: it can't be moved onto the best ${ctx.parentCommit.slice(0, 7)}: ${moved.reason}`);
  // The worktree holds the moved change as a commit: back to the best with the change as
  // working-tree edits, which the loop's guard checks like any proposal's.
  await git.ok(['reset', '-q', '--mixed', ctx.parentCommit]);
  return { kind: 'ok', description, change, proposer: HUB_QUEUED_PROPOSER };
}
