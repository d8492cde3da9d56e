/**
 * The held-out check: every step of the kept chain (the baseline, then each keep) re-run on
 * fresh seeds and scored on both the validation split (which drove the decisions) and the
 * held-out split (which never drives one). Per kept change: its gain as the study measured it,
 * its gain re-measured on validation, its gain on the held-out split, and the gap (validation
 * minus held-out: positive when the change fits the validation split better than fresh data).
 *
 * Ledger: study records of kind 'heldout': 'plan', 'run/<variant>/<r>' and 'summary'
 * (HeldoutSummary below, what `heldout` prints and `status` shows). Steps already measured are
 * reused (by tree and seed), so running the check again after more keeps costs only the new ones.
 */
import type { Direction } from '../ledger/types.js';
import type { Chain } from './chain.js';
import { describe, fmtGain, gainBetween, gather, noiseOf, planSeeds } from './measured.js';
import type { AnalysisSession, Job } from './session.js';
import { type Estimate, estimate } from './stats.js';
import { treeOf } from './variants.js';

/** The record 'summary' of kind 'heldout'. */
export interface HeldoutSummary {
  metric: string;
  direction: Direction;
  runs: number;
  /** False when the evaluate step does not score a held-out split (then only validation is shown). */
  supported: boolean;
  reason: string | null;
  base: { validation: number | null; heldout: number | null };
  changes: Array<{
    number: number;
    description: string;
    /** The gain that decided the keep (the study's recorded values). */
    decided: number | null;
    validation: Estimate | null;
    heldout: Estimate | null;
    /** validation - heldout gain, with its uncertainty. */
    gap: Estimate | null;
  }>;
  finishedAt: number;
}

export async function heldoutCheck(
  s: AnalysisSession,
  chain: Chain,
  opts: { runs: number; metric: string; direction: Direction },
): Promise<HeldoutSummary | 'interrupted'> {
  const order = [
    { variant: 'base', commit: chain.baseCommit, value: chain.baseValue },
    ...chain.changes.map((c) => ({ variant: `step-${c.number}`, commit: c.commit, value: c.value })),
  ];
  const seeds = await planSeeds(s.ledger, s.study.id, 'heldout', '', opts.runs);
  const jobs: Job[] = [];
  for (const o of order) {
    const tree = await treeOf(s.build, o.commit);
    for (const [r, seed] of seeds.entries()) jobs.push({ variant: o.variant, run: r, commit: o.commit, tree, seed });
  }
  const records = await s.measure(jobs, { prefix: '', heldout: true, numberBase: 700_000 });
  if (records === 'interrupted') return 'interrupted';
  const runs = gather(
    order.map((o) => o.variant),
    records,
  );
  const noise = { values: noiseOf(runs, 'values'), heldout: noiseOf(runs, 'heldout') };
  const unsupported = records.find((r) => r.heldout === null && r.heldoutReason)?.heldoutReason ?? null;
  const sign = opts.direction === 'minimize' ? 1 : -1;
  const summary: HeldoutSummary = {
    metric: opts.metric,
    direction: opts.direction,
    runs: opts.runs,
    supported: records.some((r) => typeof r.heldout === 'number'),
    reason: unsupported,
    base: {
      validation: describe(runs.get('base'), 'values').mean,
      heldout: describe(runs.get('base'), 'heldout').mean,
    },
    changes: chain.changes.map((c, i) => {
      const prev = order[i]!;
      const v = gainBetween(runs, prev.variant, `step-${c.number}`, opts.direction, 'values', noise.values);
      const h = gainBetween(runs, prev.variant, `step-${c.number}`, opts.direction, 'heldout', noise.heldout);
      // both splits score the same runs' models (correlated): the sum of the two errors bounds the gap's
      const gap =
        v && h
          ? estimate(v.value - h.value, v.se !== null && h.se !== null ? v.se + h.se : null, noise.values?.df ?? null)
          : null;
      return {
        number: c.number,
        description: c.description,
        decided: c.value !== null && prev.value !== null ? sign * (prev.value - c.value) : null,
        validation: v,
        heldout: h,
        gap,
      };
    }),
    finishedAt: Date.now(),
  };
  await s.ledger.putRecord(s.study.id, 'heldout', 'summary', summary);
  return summary;
}

/** The per-change lines (`heldout` prints them; `status` shows them under the study). */
export function renderHeldout(h: HeldoutSummary): string {
  if (!h.supported) return `held-out check: not available: ${h.reason ?? 'no run produced a held-out value'}\n`;
  const out = [
    `validation vs held-out, per kept change (${h.runs} run(s) per step on fresh seeds; gains > 0 are improvements; gap = validation - held-out):`,
    `  ${'change'.padEnd(44)} ${'decided'.padEnd(10)} ${'re-measured'.padEnd(22)} ${'held-out'.padEnd(22)} gap`,
    ...h.changes.map(
      (c) =>
        `  ${`#${c.number} ${c.description}`.slice(0, 44).padEnd(44)} ${(c.decided === null ? '-' : `${c.decided >= 0 ? '+' : ''}${c.decided.toFixed(6)}`).padEnd(10)} ${fmtGain(c.validation).padEnd(22)} ${fmtGain(c.heldout).padEnd(22)} ${fmtGain(c.gap)}`,
    ),
  ];
  return `${out.join('\n')}\n`;
}
