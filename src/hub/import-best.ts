/**
 * The hub's verified best for this platform as the local base: between experiments, the
 * contributor reads the hub's frontier; when this platform's verified best changed and is better
 * than the local best, its tree is rebuilt here (./remote-commit.ts, from the hub's nodes) and
 * recorded in the local ledger as an imported keep on the local best ("from hub: <commit> by
 * <contributor>", proposer `hub`, the hub's verified value), then the study branch moves there
 * (../loop/frontier.ts `advance`: ledger first, then git). Experiments still running on the old
 * best are re-applied onto it as for any new best. What cannot be rebuilt is a notice; the study
 * goes on locally.
 *
 * Contract: never throws; imported keeps are not posted back to the hub (./poster.ts skips them).
 */
import type { LoopContext } from '../loop/context.js';
import type { HubClient } from './client.js';
import { localCommitFor, type RemoteRecipe, treeOf } from './remote-commit.js';
import { better } from './verify.js';

export const HUB_PROPOSER = 'hub';

interface FrontierView {
  platformKey: string;
  best: { commit: string; value: number; resultId: string };
  chain: Array<{ commit: string; contributor: string }>;
}

export function hubBestImporter(deps: {
  client: HubClient;
  studyId: string;
  platformKey: string;
  recipeOf: (sha: string) => Promise<RemoteRecipe | null>;
}): (ctx: LoopContext) => Promise<void> {
  let seen: string | null = null;
  return async (ctx) => {
    const note = (level: 'info' | 'warn', message: string) =>
      ctx.emit({ type: 'notice', t: Date.now(), level, message: `hub: ${message}` });
    const r = await deps.client.request<{ platforms: FrontierView[] }>('GET', `/studies/${deps.studyId}/frontier`);
    if (r.kind !== 'ok') return;
    const mine = r.value.platforms.find((p) => p.platformKey === deps.platformKey);
    if (!mine || mine.best.commit === seen) return;
    const local = ctx.frontier.current;
    const direction = ctx.frontier.currentStudy.direction;
    if (!local || !better(mine.best.value, local.mean, direction)) {
      seen = mine.best.commit;
      return;
    }
    const git = ctx.workspace.git;
    const built = await localCommitFor(git, mine.best.commit, deps.recipeOf);
    if (!built.ok) {
      seen = mine.best.commit;
      return note(
        'warn',
        `the verified best ${mine.best.commit.slice(0, 7)} can't be rebuilt here (${built.reason}); going on locally`,
      );
    }
    const by = mine.chain.find((n) => n.commit === mine.best.commit)?.contributor ?? 'another contributor';
    const description = `from hub: ${mine.best.commit.slice(0, 12)} by ${by} (verified ${mine.best.value})`;
    await ctx.frontier.lock.run(async () => {
      const base = ctx.frontier.current;
      if (!base || !better(mine.best.value, base.mean, direction)) return;
      const tree = await treeOf(git, built.commit);
      const made = tree
        ? await git.run([
            '-c',
            'user.name=autoresearch',
            '-c',
            'user.email=autoresearch@localhost',
            'commit-tree',
            tree,
            '-p',
            base.commit,
            '-m',
            description,
          ])
        : null;
      if (made?.code !== 0)
        return note('warn', `cannot commit the verified best here: ${made?.stderr.trim() ?? 'no tree'}`);
      const commit = made.stdout.trim();
      const diff = (await git.run(['diff', '--no-color', base.commit, commit])).stdout;
      const study = ctx.frontier.currentStudy;
      const exp = await ctx.ledger.createExperiment(study.id, {
        baseline: false,
        parentCommit: base.commit,
        proposer: HUB_PROPOSER,
        description,
        diff,
        commit,
        // the hub's commit it stands for (./hub-context.ts asks the hub what was tried from it)
        change: { hubCommit: mine.best.commit },
      });
      const adv = await ctx.frontier.advance(
        exp,
        { value: mine.best.value, metrics: {}, reason: "the hub's verified best for this platform", evidence: null },
        commit,
      );
      if (adv.kind === 'kept') {
        seen = mine.best.commit;
        note('info', `${description}: now the local best (#${exp.number})`);
      } else {
        await ctx.ledger.finishExperiment(exp.id, {
          status: 'discard',
          value: mine.best.value,
          metrics: {},
          reason: 'the local best moved meanwhile',
        });
      }
    });
  };
}
