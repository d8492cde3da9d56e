/**
 * Ablation of a study's kept chain: what each kept change is worth, alone and in context.
 *
 * Variants (each a commit built from the baseline with the loop's three-way re-apply):
 *   base              the baseline
 *   best              every kept change (the study's best)
 *   only-<n>          the baseline plus change #n alone            (add-one)
 *   without-<n>       every kept change but #n, in chain order      (leave-one-out)
 * Variants with the same tree (only-<first> is the first keep; with one change, only = best) are
 * measured once. Each is run `k` times, run r of every variant on the same seed r (drawn by the
 * harness at plan time), on free slots in parallel, through the loop's runner and sandbox; with
 * an evaluate step, each run is also scored on the held-out split.
 *
 * Per change: gain alone = base - only, gain in context = without - best (signed: positive is
 * better), each with a 95% half-width from the pooled run-to-run sigma; "removal does not hurt"
 * when the gain in context is not clearly positive. The chain is additive when the sum of the
 * gains alone is within its uncertainty of the whole (base - best). A change that does not
 * apply without its predecessors is a conflict: reported with git's reason, left out of the sums.
 *
 * Ledger: study records of kind 'ablation': 'plan' (seeds), 'run/<variant>/<r>' (session.ts
 * RunRecord) and 'summary' (AblationSummary below, the table `ablate` prints).
 */
import type { Direction } from '../ledger/types.js';
import type { Chain, KeptChange } from './chain.js';
import { describe, fmtGain, gainBetween, gather, linearGain, noiseOf, planSeeds, type Split } from './measured.js';
import type { AnalysisSession, Job } from './session.js';
import { additivity, clearlyPositive, type Estimate, mean } from './stats.js';
import { buildVariant, treeOf } from './variants.js';

/** The record 'summary' of kind 'ablation' (also `ablate --json`). */
export interface AblationSummary {
  metric: string;
  direction: Direction;
  runs: number;
  seeds: number[];
  /** Pooled run-to-run sigma of the analysis runs, per split (null: too few runs). */
  noise: { values: { sigma: number; df: number } | null; heldout: { sigma: number; df: number } | null };
  base: VariantLine;
  best: VariantLine;
  /** base - best (positive = better), per split. */
  whole: { values: Estimate | null; heldout: Estimate | null };
  changes: ChangeLine[];
  /** Sum of the gains alone vs the whole (validation split), over the changes without conflicts. */
  additivity: { sum: number; whole: number; difference: Estimate; additive: boolean | null; changes: number } | null;
  /** Sum of the gains in context vs the whole: below it, the changes help each other; above, they overlap. */
  inContext: { sum: number; difference: Estimate | null } | null;
  /** Variants that could not be built even so (reported, left out of the sums). */
  conflicts: Array<{ numbers: number[]; variant: string; failedAt: number; reason: string }>;
  /** Every variant built -> the variant whose runs measured it (the same tree is measured once). */
  measuredAs: Record<string, string>;
  /** Changes that do not apply without an earlier keep, measured together with it (one line). */
  merged: Array<{ number: number; with: number[]; reason: string }>;
  finishedAt: number;
}

export interface VariantLine {
  variant: string;
  mean: number | null;
  sd: number | null;
  n: number;
  heldout: number | null;
  failed: string[];
}

export interface ChangeLine {
  /** The first keep of the unit, and every keep in it (more than one: see `merged`). */
  number: number;
  numbers: number[];
  description: string;
  /** base - only-<n>; null when only-<n> could not be built or measured. */
  alone: Estimate | null;
  /** without-<n> - best. */
  inContext: Estimate | null;
  /** Run-to-run spread (sd) of only-<n> and of without-<n>. */
  spread: { alone: number | null; inContext: number | null };
  heldout: { alone: Estimate | null; inContext: Estimate | null };
  /** True when the gain in context is not clearly positive (removing the change does not hurt). */
  removable: boolean | null;
  conflict: string | null;
}

export async function ablate(
  s: AnalysisSession,
  chain: Chain,
  opts: { runs: number; heldout: boolean; metric: string; direction: Direction },
): Promise<AblationSummary | 'interrupted'> {
  const { study } = s;
  const changes = chain.changes;
  const variants: Array<{ id: string; commit: string | null; conflict?: { failedAt: number; reason: string } }> = [];
  const add = (id: string, commit: string | null, conflict?: { failedAt: number; reason: string }) =>
    variants.push(conflict ? { id, commit, conflict } : { id, commit });
  add('base', chain.baseCommit);
  add('best', chain.bestCommit);
  const pin = (id: string) => `refs/autoresearch/analysis/${study.tag}/ablation/${id}`;
  // Units: a change that does not apply on the baseline alone (it edits what an earlier keep
  // wrote, e.g. DEPTH 3 -> 5 then 5 -> 6) is measured together with the earlier unit it needs.
  const units: KeptChange[][] = [];
  const merged: AblationSummary['merged'] = [];
  const idsOf = (u: readonly KeptChange[]) => u.map((x) => x.number).join('+');
  const buildOnly = (u: KeptChange[]) =>
    buildVariant(s.build, chain.baseCommit, u, `ablation: only #${idsOf(u)}`, pin(`only-${idsOf(u)}`));
  const inOrder = (u: KeptChange[]) => [...u].sort((a, b) => changes.indexOf(a) - changes.indexOf(b));
  for (const c of changes) {
    const alone = await buildOnly([c]);
    if (alone.ok || !units.length) {
      add(`only-${c.number}`, alone.ok ? alone.commit : null, alone.ok ? undefined : alone);
      units.push([c]);
      continue;
    }
    // the nearest earlier unit it applies with; else every earlier unit and it, as one
    let placed = false;
    for (let j = units.length - 1; j >= 0 && !placed; j--) {
      const u = inOrder([...units[j]!, c]);
      const built = await buildOnly(u);
      if (!built.ok) continue;
      variants.splice(
        variants.findIndex((v) => v.id === `only-${idsOf(units[j]!)}`),
        1,
      );
      merged.push({ number: c.number, with: units[j]!.map((x) => x.number), reason: alone.reason });
      units[j] = u;
      add(`only-${idsOf(u)}`, built.commit);
      placed = true;
    }
    if (placed) continue;
    const all = [...units.flat(), c];
    for (const u of units)
      variants.splice(
        variants.findIndex((v) => v.id === `only-${idsOf(u)}`),
        1,
      );
    merged.push({ number: c.number, with: units.flat().map((x) => x.number), reason: alone.reason });
    units.splice(0, units.length, all);
    const built = await buildOnly(all);
    add(`only-${idsOf(all)}`, built.ok ? built.commit : null, built.ok ? undefined : built);
  }
  for (const u of units) {
    const ids = idsOf(u);
    const rest = inOrder(units.filter((x) => x !== u).flat());
    const without = await buildVariant(
      s.build,
      chain.baseCommit,
      rest,
      `ablation: without #${ids}`,
      pin(`without-${ids}`),
    );
    add(`without-${ids}`, without.ok ? without.commit : null, without.ok ? undefined : without);
  }

  // One measurement per distinct tree: aliases share their runs.
  const trees = new Map<string, string>(); // tree -> variant measured
  const alias = new Map<string, string>(); // variant -> variant measured
  const measuredAs: Array<{ id: string; commit: string; tree: string }> = [];
  for (const v of variants) {
    if (!v.commit) continue;
    const tree = await treeOf(s.build, v.commit);
    const first = trees.get(tree);
    if (first) alias.set(v.id, first);
    else {
      trees.set(tree, v.id);
      alias.set(v.id, v.id);
      measuredAs.push({ id: v.id, commit: v.commit, tree });
    }
  }
  const seeds = await planSeeds(s.ledger, study.id, 'ablation', '', opts.runs, {
    chain: changes.map((c) => c.number),
  });
  const jobs: Job[] = measuredAs.flatMap((v) =>
    seeds.map((seed, r) => ({ variant: v.id, run: r, commit: v.commit, tree: v.tree, seed })),
  );
  const records = await s.measure(jobs, { prefix: '', heldout: opts.heldout, numberBase: 900_000 });
  if (records === 'interrupted') return 'interrupted';

  const measured = gather(
    measuredAs.map((v) => v.id),
    records,
  );
  const runs = new Map([...alias].map(([v, m]) => [v, { ...measured.get(m)!, variant: v }]));
  const noise = { values: noiseOf(measured, 'values'), heldout: noiseOf(measured, 'heldout') };
  const g = (before: string, after: string, split: Split) =>
    runs.has(before) && runs.has(after) ? gainBetween(runs, before, after, opts.direction, split, noise[split]) : null;

  const conflicts = variants
    .filter((v) => v.conflict)
    .map((v) => ({
      numbers: v.id.split('-')[1]!.split('+').map(Number),
      variant: v.id,
      failedAt: v.conflict!.failedAt,
      reason: v.conflict!.reason,
    }));
  const lines: ChangeLine[] = units.map((u) => {
    const ids = u.map((x) => x.number).join('+');
    const only = `only-${ids}`;
    const without = `without-${ids}`;
    const inContext = g(without, 'best', 'values');
    const conflict = conflicts.filter((x) => x.variant === only || x.variant === without);
    return {
      number: u[0]!.number,
      numbers: u.map((x) => x.number),
      description: u.map((x) => x.description).join('; '),
      alone: g('base', only, 'values'),
      inContext,
      spread: { alone: describe(runs.get(only), 'values').sd, inContext: describe(runs.get(without), 'values').sd },
      heldout: { alone: g('base', only, 'heldout'), inContext: g(without, 'best', 'heldout') },
      removable: inContext ? !clearlyPositive(inContext) : null,
      conflict: conflict.length
        ? conflict.map((x) => `${x.variant}: #${x.failedAt} does not apply (${x.reason})`).join('; ')
        : null,
    };
  });

  const whole = g('base', 'best', 'values');
  const clean = lines.filter((l) => l.alone !== null);
  const baseRuns = runs.get('base')?.values.length ?? 0;
  const bestRuns = runs.get('best')?.values.length ?? 0;
  const partRuns = mean(clean.map((l) => runs.get(`only-${l.numbers.join('+')}`)!.values.length)) ?? 0;
  const add1 =
    whole && clean.length && baseRuns && bestRuns && partRuns
      ? {
          ...additivity(
            clean.map((l) => l.alone!.value),
            whole.value,
            { base: baseRuns, part: partRuns, best: bestRuns },
            noise.values,
          ),
          changes: clean.length,
        }
      : null;
  const ctxLines = lines.filter((l) => l.inContext !== null);
  const inContext =
    whole && ctxLines.length && ctxLines.length === lines.length
      ? {
          sum: ctxLines.reduce((a, l) => a + l.inContext!.value, 0),
          difference: linearGain(
            runs,
            [...ctxLines.map((l): [string, number] => [`without-${l.numbers.join('+')}`, 1]), ['best', 1]],
            [
              ['best', ctxLines.length],
              ['base', 1],
            ],
            opts.direction,
            'values',
            noise.values,
          ),
        }
      : null;
  const line = (v: string): VariantLine => {
    const d = describe(runs.get(v), 'values');
    return {
      variant: v,
      mean: d.mean,
      sd: d.sd,
      n: d.n,
      heldout: describe(runs.get(v), 'heldout').mean,
      failed: runs.get(v)?.failed ?? [],
    };
  };
  return {
    metric: opts.metric,
    direction: opts.direction,
    runs: opts.runs,
    seeds,
    noise,
    base: line('base'),
    best: line('best'),
    whole: { values: whole, heldout: g('base', 'best', 'heldout') },
    changes: lines,
    additivity: add1,
    inContext,
    conflicts,
    merged,
    measuredAs: Object.fromEntries(alias),
    finishedAt: Date.now(),
  };
}

/** The table `ablate` prints (and the dashboard shows). */
export function renderAblation(a: AblationSummary, tag: string): string {
  const sig = (n: { sigma: number; df: number } | null) =>
    n ? `${n.sigma.toFixed(6)} (pooled, ${n.df} df)` : 'unknown (one run per variant: use --runs 2 or more)';
  const fmtV = (v: VariantLine) =>
    `${v.mean === null ? '-' : v.mean.toFixed(6)}${v.sd !== null ? ` ± ${v.sd.toFixed(6)} sd` : ''} over ${v.n} run(s)${v.heldout !== null ? `, held-out ${v.heldout.toFixed(6)}` : ''}${v.failed.length ? `, ${v.failed.length} failed` : ''}`;
  const out = [
    `ablation of study ${tag}: ${a.changes.reduce((n, l) => n + l.numbers.length, 0)} kept change(s), ${a.runs} run(s) per variant on seeds drawn by the harness; ${a.metric} (${a.direction}); gains > 0 are improvements, ± is the 95% interval`,
    `noise: sigma ${sig(a.noise.values)}`,
    `baseline: ${fmtV(a.base)}`,
    `best:     ${fmtV(a.best)}`,
    `whole gain (baseline -> best): ${fmtGain(a.whole.values)}${a.whole.heldout ? `   held-out: ${fmtGain(a.whole.heldout)}` : ''}`,
    '',
    `  ${'change'.padEnd(44)} ${'gain alone'.padEnd(22)} ${'gain in context'.padEnd(22)} ${'spread'.padEnd(9)} ${'held-out alone'.padEnd(22)} note`,
  ];
  for (const l of a.changes) {
    const desc = `#${l.numbers.join('+#')} ${l.description}`.slice(0, 44).padEnd(44);
    const spread = l.spread.alone ?? l.spread.inContext;
    const note = l.conflict
      ? `CONFLICT ${l.conflict}`
      : l.removable
        ? 'removal does not hurt'
        : l.removable === null
          ? 'not measured'
          : '';
    out.push(
      `  ${desc} ${fmtGain(l.alone).padEnd(22)} ${fmtGain(l.inContext).padEnd(22)} ${(spread === null ? '-' : spread.toFixed(6)).padEnd(9)} ${fmtGain(l.heldout.alone).padEnd(22)} ${note}`,
    );
  }
  out.push('');
  if (a.additivity) {
    const d = a.additivity.difference;
    out.push(
      `additivity: sum of gains alone ${fmtGain({ value: a.additivity.sum, se: null, half: null })} vs whole ${fmtGain({ value: a.additivity.whole, se: null, half: null })}: difference ${fmtGain(d)} -> ${
        a.additivity.additive === null
          ? 'unknown (no noise estimate)'
          : a.additivity.additive
            ? 'additive'
            : 'NOT additive (the changes interact)'
      }${a.additivity.changes < a.changes.length ? ` (over ${a.additivity.changes} of ${a.changes.length} lines: the others conflict)` : ''}`,
    );
  }
  if (a.inContext?.difference)
    out.push(
      `sum of gains in context vs whole: difference ${fmtGain(a.inContext.difference)} (below 0: the changes overlap; above: they help each other)`,
    );
  for (const m of a.merged)
    out.push(
      `measured together: #${m.number} does not apply on the baseline without #${m.with.join(', #')} (${m.reason})`,
    );
  for (const c of a.conflicts)
    out.push(
      `conflict: ${c.variant} could not be built: #${c.failedAt} does not apply without the changes it was made on (${c.reason})`,
    );
  return `${out.join('\n')}\n`;
}
