/**
 * Transfer: do the study's gains hold at a larger scale? The baseline and the best (with
 * `chain`, every step of the kept chain) are re-run with constants of the editable files
 * overridden (`DEPTH=24`) and, when asked, a longer budget; each step's gain at that scale is
 * compared with its gain in the study: grew, held, shrank, vanished or reversed (stats.ts).
 *
 * The overrides are applied in a scratch worktree, on top of each step's commit, as a commit of
 * their own (pinned under refs/autoresearch/analysis/); nothing on the study branch changes. A
 * step whose files no longer define an overridden constant is reported as a conflict.
 *
 * Runs: as for ablation (session.ts), `k` per variant, run r of every variant on seed r.
 * Ledger: study records of kind 'transfer', under a prefix naming the setting
 * (`<NAME=VALUE,...>@<budget>s[/chain]/`): 'plan', 'run/<variant>/<r>' and 'summary'; the latest
 * summary is also the record 'summary' (TransferSummary below, the table `transfer` prints).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Direction, NoiseFloor } from '../ledger/types.js';
import type { Chain } from './chain.js';
import { describe, fmtGain, gainBetween, gather, noiseOf, planSeeds } from './measured.js';
import { type Constant, findConstants, type Sets, setConstant } from './overrides.js';
import type { AnalysisSession, Job } from './session.js';
import { estimate, type Estimate, type Transferred, transferred } from './stats.js';
import { treeOf } from './variants.js';

/** The record 'summary' of kind 'transfer' (also `transfer --json`). */
export interface TransferSummary {
  metric: string;
  direction: Direction;
  sets: Sets;
  timeBudgetS: number | null;
  runs: number;
  seeds: number[];
  noise: { sigma: number; df: number } | null;
  /** Per variant at the larger scale: base, then each step (or best). */
  variants: Array<{
    variant: string;
    commit: string | null;
    mean: number | null;
    sd: number | null;
    n: number;
    heldout: number | null;
    failed: string[];
    conflict: string | null;
  }>;
  /** Per step: its gain over the step before, in the study and at the larger scale. */
  steps: Array<{
    variant: string;
    number: number | null;
    description: string;
    study: Estimate | null;
    scaled: Estimate | null;
    heldout: Estimate | null;
    verdict: Transferred | null;
  }>;
  finishedAt: number;
}

export type TransferOutcome =
  | { kind: 'done'; summary: TransferSummary }
  | { kind: 'unknown-constant'; message: string }
  | { kind: 'interrupted' };

export async function transfer(
  s: AnalysisSession,
  chain: Chain,
  opts: {
    sets: Sets;
    timeBudgetS: number | null;
    runs: number;
    chain: boolean;
    heldout: boolean;
    editable: readonly string[];
    metric: string;
    direction: Direction;
    studyNoise: NoiseFloor | null;
  },
): Promise<TransferOutcome> {
  const { study, build } = s;
  // The names must be constants of the editable files (at the best).
  await build.resetHard(chain.bestCommit);
  const found: Constant[] = opts.editable.flatMap((f) => {
    try {
      return findConstants(f, readFileSync(join(build.path, f), 'utf8'));
    } catch {
      return [];
    }
  });
  const unknown = opts.sets.filter((x) => !found.some((c) => c.name === x.name));
  if (unknown.length)
    return {
      kind: 'unknown-constant',
      message: `${unknown.map((u) => u.name).join(', ')}: not a constant of the editable file(s) ${opts.editable.join(', ')}. Constants found: ${[...new Set(found.map((c) => c.name))].join(', ') || 'none'}`,
    };

  const steps = opts.chain ? chain.changes : chain.changes.slice(-1);
  const order: Array<{
    variant: string;
    commit: string;
    number: number | null;
    description: string;
    value: number | null;
    runs: number;
  }> = [
    {
      variant: 'base',
      commit: chain.baseCommit,
      number: null,
      description: 'baseline',
      value: chain.baseValue,
      runs: chain.baseRuns,
    },
    ...steps.map((c) => ({
      variant: opts.chain ? `step-${c.number}` : 'best',
      commit: c.commit,
      number: opts.chain ? c.number : null,
      description: opts.chain
        ? c.description
        : `best (${chain.changes.length} kept change${chain.changes.length === 1 ? '' : 's'})`,
      value: c.value,
      runs: c.runs,
    })),
  ];
  const id = `${opts.sets.map((x) => `${x.name}=${x.value}`).join(',')}@${opts.timeBudgetS ?? 'default'}s${opts.chain ? '/chain' : ''}`;
  const built: Array<{ variant: string; commit: string | null; tree: string | null; conflict: string | null }> = [];
  for (const o of order) {
    await build.resetHard(o.commit);
    const files: string[] = [];
    const missing: string[] = [];
    for (const set of opts.sets) {
      let hit = false;
      for (const f of opts.editable) {
        const p = join(build.path, f);
        let text: string;
        try {
          text = readFileSync(p, 'utf8');
        } catch {
          continue;
        }
        const next = setConstant(text, set.name, set.value);
        if (next === null) continue;
        hit = true;
        if (next !== text) {
          writeFileSync(p, next);
          if (!files.includes(f)) files.push(f);
        }
      }
      if (!hit) missing.push(set.name);
    }
    if (missing.length) {
      built.push({
        variant: o.variant,
        commit: null,
        tree: null,
        conflict: `${missing.join(', ')} not defined at this step`,
      });
      continue;
    }
    const commit = files.length ? await build.commit(files, `transfer: ${id} on ${o.variant}`, []) : o.commit;
    await build.git.ok(['update-ref', `refs/autoresearch/analysis/${study.tag}/transfer/${o.variant}`, commit]);
    built.push({ variant: o.variant, commit, tree: await treeOf(build, commit), conflict: null });
  }

  const prefix = `${id}/`;
  const seeds = await planSeeds(s.ledger, study.id, 'transfer', prefix, opts.runs, {
    sets: opts.sets,
    timeBudgetS: opts.timeBudgetS,
  });
  const jobs: Job[] = built.flatMap((b) =>
    b.commit && b.tree
      ? seeds.map((seed, r) => ({ variant: b.variant, run: r, commit: b.commit!, tree: b.tree!, seed }))
      : [],
  );
  const records = await s.measure(jobs, { prefix, heldout: opts.heldout, numberBase: 800_000 });
  if (records === 'interrupted') return { kind: 'interrupted' };
  const runs = gather(
    built.map((b) => b.variant),
    records,
  );
  const noise = noiseOf(runs, 'values');
  const heldNoise = noiseOf(runs, 'heldout');
  const sigmaStudy = opts.studyNoise?.sigma ?? null;
  const summary: TransferSummary = {
    metric: opts.metric,
    direction: opts.direction,
    sets: opts.sets,
    timeBudgetS: opts.timeBudgetS,
    runs: opts.runs,
    seeds,
    noise,
    variants: built.map((b) => {
      const d = describe(runs.get(b.variant), 'values');
      return {
        variant: b.variant,
        commit: b.commit,
        ...d,
        heldout: describe(runs.get(b.variant), 'heldout').mean,
        failed: runs.get(b.variant)?.failed ?? [],
        conflict: b.conflict,
      };
    }),
    steps: order.slice(1).map((o, i) => {
      const prev = order[i]!;
      const studyGain =
        o.value !== null && prev.value !== null
          ? estimate(
              opts.direction === 'minimize' ? prev.value - o.value : o.value - prev.value,
              sigmaStudy !== null ? sigmaStudy * Math.sqrt(1 / prev.runs + 1 / o.runs) : null,
              opts.studyNoise ? Math.max(1, opts.studyNoise.runs.length - 1) : null,
            )
          : null;
      const scaled = gainBetween(runs, prev.variant, o.variant, opts.direction, 'values', noise);
      return {
        variant: o.variant,
        number: o.number,
        description: o.description,
        study: studyGain,
        scaled,
        heldout: gainBetween(runs, prev.variant, o.variant, opts.direction, 'heldout', heldNoise),
        verdict: studyGain && scaled ? transferred(studyGain, scaled) : null,
      };
    }),
    finishedAt: Date.now(),
  };
  await s.ledger.putRecord(study.id, 'transfer', `${prefix}summary`, summary);
  await s.ledger.putRecord(study.id, 'transfer', 'summary', summary);
  return { kind: 'done', summary };
}

export function renderTransfer(t: TransferSummary, tag: string): string {
  const out = [
    `transfer of study ${tag} to ${t.sets.map((x) => `${x.name}=${x.value}`).join(', ')}${t.timeBudgetS !== null ? `, ${t.timeBudgetS} s budget` : ''}: ${t.runs} run(s) per variant; ${t.metric} (${t.direction}); gains > 0 are improvements, ± is the 95% interval`,
    `noise at this scale: ${t.noise ? `sigma ${t.noise.sigma.toFixed(6)} (pooled, ${t.noise.df} df)` : 'unknown (one run per variant: use --runs 2 or more)'}`,
    '',
    ...t.variants.map(
      (v) =>
        `  ${v.variant.padEnd(12)} ${v.conflict ? `CONFLICT: ${v.conflict}` : `${v.mean === null ? '-' : v.mean.toFixed(6)}${v.sd !== null ? ` ± ${v.sd.toFixed(6)} sd` : ''} over ${v.n} run(s)${v.heldout !== null ? `, held-out ${v.heldout.toFixed(6)}` : ''}${v.failed.length ? `, ${v.failed.length} failed (${v.failed[0]})` : ''}`}`,
    ),
    '',
    `  ${'step'.padEnd(44)} ${'gain in the study'.padEnd(22)} ${'gain at this scale'.padEnd(22)} ${'held-out'.padEnd(22)} verdict`,
    ...t.steps.map(
      (st) =>
        `  ${`${st.number !== null ? `#${st.number} ` : ''}${st.description}`.slice(0, 44).padEnd(44)} ${fmtGain(st.study).padEnd(22)} ${fmtGain(st.scaled).padEnd(22)} ${fmtGain(st.heldout).padEnd(22)} ${st.verdict ?? '-'}`,
    ),
  ];
  return `${out.join('\n')}\n`;
}
