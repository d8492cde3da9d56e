/**
 * The periodic held-out check (`[heldout] every = N`): after every N-th keep, the worker that
 * kept the change scores the new best once on the template's held-out split — one run through
 * the same path as `autoresearch heldout` (./run-once.ts with `heldout: true`: training, the
 * evaluate step, then the evaluate step again with AUTORESEARCH_SPLIT=heldout) — and records the
 * validation and held-out values of that run as a `heldout-check` study record. The first check
 * also scores the baseline, the reference the later gaps are read against (the held-out split may
 * be easier or harder as a whole; what matters is whether the gap grows as keeps pile up).
 *
 * It never drives a decision: the values go to study records (never into a proposal's context),
 * the `heldout-check` event, `status` and the report. The run's seed is drawn like any other.
 *
 * Contract: never throws for what the run does (a failed check is recorded with its reason); a
 * template without a held-out split is recorded once as unsupported and not checked again;
 * 'interrupted' leaves nothing recorded for that check.
 */
import type { Experiment } from '../ledger/types.js';
import type { LoopContext } from './context.js';
import { runOnce } from './run-once.js';
import type { SlotLease } from './slot-pool.js';

export const HELDOUT_CHECK = 'heldout-check';

/** The run index of a check's run (its log: NNNN.r90.log, NNNN.r90.heldout.log). */
const CHECK_RUN_INDEX = 90;

/** Record `heldout-check` / <experiment number>. */
export interface HeldoutCheckRecord {
  number: number;
  commit: string;
  /** Keeps so far when it was checked (0: the baseline, the reference). */
  keeps: number;
  validation: number | null;
  heldout: number | null;
  /** held-out - validation on that run (the metric's units; null when either is missing). */
  gap: number | null;
  /** Why a value is missing. */
  reason?: string;
  /** The evaluate step scores no held-out split: no further checks. */
  unsupported?: true;
  at: number;
}

/** Runs the check after a keep when it is due. */
export async function heldoutCheckAfterKeep(ctx: LoopContext, lease: SlotLease, kept: Experiment): Promise<void> {
  const every = ctx.config.heldout.every;
  if (every === 0 || ctx.signal.aborted) return;
  const { ledger, frontier } = ctx;
  const study = frontier.currentStudy;
  const existing = await ledger.listRecords(study.id, HELDOUT_CHECK);
  if (existing.some((r) => (r.value as HeldoutCheckRecord).unsupported)) return;
  if (ctx.config.run.evaluate === undefined) {
    await record(ctx, {
      number: kept.number,
      commit: kept.commit ?? kept.parentCommit,
      keeps: 0,
      validation: null,
      heldout: null,
      gap: null,
      reason: 'no [run] evaluate step: a held-out split is scored by the evaluate step',
      unsupported: true,
      at: Date.now(),
    });
    return;
  }
  const all = await ledger.listExperiments(study.id);
  const keeps = all.filter((e) => e.status === 'keep' && !e.baseline).length;
  if (keeps === 0 || keeps % every !== 0) return;
  const done = new Set(existing.map((r) => r.key));
  const base = all.find((e) => e.baseline && e.status === 'keep');
  const targets: Array<{ exp: Experiment; keeps: number }> = [];
  if (base && !done.has(String(base.number))) targets.push({ exp: base, keeps: 0 });
  if (!done.has(String(kept.number))) targets.push({ exp: kept, keeps });
  for (const t of targets) {
    const commit = t.exp.baseline ? t.exp.parentCommit : (t.exp.commit ?? t.exp.parentCommit);
    const r = await runOnce(ctx, {
      exp: t.exp,
      study,
      worktree: lease.worktree,
      slot: lease.slot,
      runIndex: CHECK_RUN_INDEX,
      commit,
      attempt: t.exp.attempts,
      heldout: true,
    });
    if (r.kind === 'interrupted') return;
    const validation = r.kind === 'ran' && r.result.kind === 'ok' ? r.result.value : null;
    const heldout = r.kind === 'ran' ? (r.heldout?.value ?? null) : null;
    const reason =
      r.kind === 'tampered'
        ? `the run modified protected file(s) ${r.files.join(', ')}`
        : r.result.kind !== 'ok'
          ? (r.result.reason ?? r.result.kind)
          : r.heldout?.reason;
    const rec: HeldoutCheckRecord = {
      number: t.exp.number,
      commit,
      keeps: t.keeps,
      validation,
      heldout,
      gap: validation !== null && heldout !== null ? heldout - validation : null,
      ...(reason ? { reason } : {}),
      ...(r.kind === 'ran' && r.heldout?.unsupported ? { unsupported: true as const } : {}),
      at: Date.now(),
    };
    await record(ctx, rec);
    if (rec.unsupported) return;
  }
}

async function record(ctx: LoopContext, rec: HeldoutCheckRecord): Promise<void> {
  await ctx.ledger.putRecord(ctx.frontier.currentStudy.id, HELDOUT_CHECK, String(rec.number), rec);
  ctx.emit({
    type: 'heldout-check',
    t: Date.now(),
    number: rec.number,
    keeps: rec.keeps,
    validation: rec.validation,
    heldout: rec.heldout,
    gap: rec.gap,
    ...(rec.reason ? { reason: rec.reason } : {}),
  });
}

/** The recorded checks, in experiment order. */
export async function listHeldoutChecks(
  ledger: Pick<LoopContext['ledger'], 'listRecords'>,
  studyId: number,
): Promise<HeldoutCheckRecord[]> {
  return (await ledger.listRecords(studyId, HELDOUT_CHECK))
    .map((r) => r.value as HeldoutCheckRecord)
    .sort((a, b) => a.number - b.number);
}

/**
 * The lines `status` shows: per checked best, validation and held-out values of one run and the
 * gap (held-out - validation), and how the gap moved since the baseline's (positive with a metric
 * to minimise: the kept changes fit the validation split better than fresh data).
 */
export function renderHeldoutChecks(checks: readonly HeldoutCheckRecord[], fmt: (x: number) => string): string {
  if (checks.length === 0) return '';
  const unsupported = checks.find((c) => c.unsupported);
  if (unsupported) return `periodic held-out check: not available: ${unsupported.reason ?? 'no held-out split'}\n`;
  const ref = checks.find((c) => c.keeps === 0 && c.gap !== null)?.gap ?? null;
  const sign = (x: number) => `${x >= 0 ? '+' : ''}${fmt(x)}`;
  const lines = checks.map((c) => {
    const who = c.keeps === 0 ? `#${c.number} baseline` : `#${c.number} (after ${c.keeps} keeps)`;
    if (c.gap === null) return `  ${who.padEnd(24)} not scored: ${c.reason ?? 'no value'}`;
    const moved = ref !== null && c.keeps > 0 ? `  gap moved ${sign(c.gap - ref)} since the baseline` : '';
    return `  ${who.padEnd(24)} validation ${fmt(c.validation!)}  held-out ${fmt(c.heldout!)}  gap ${sign(c.gap)}${moved}`;
  });
  return `periodic held-out check (one run per check; gap = held-out - validation; never used to decide):\n${lines.join('\n')}\n`;
}
