/**
 * The baseline: the unchanged code at the study's base commit, run `noise_runs` times with
 * different seeds, at once on as many free slots as there are (./run-batch.ts). Its mean is the
 * first best; the spread of its runs is the noise floor that the noise-aware judge measures
 * gains against.
 *
 * Contract: never throws for what the command does. Returns the finished baseline, or
 * 'interrupted' (the baseline stays `running` and is re-run on resume; with several hosts, also
 * when this host lost its lease: ctx.signal is not aborted then, and runStudy waits for it again).
 */
import { poolNoise } from '../judge/pooled-noise.js';
import { sampleStd } from '../judge/types.js';
import type { Experiment } from '../ledger/types.js';
import type { Slot } from '../scheduler/slots.js';
import type { LoopContext } from './context.js';
import { leaseLostNotice } from './leases.js';
import { announceFinished, finishExperiment } from './record.js';
import { runBatch, type FinishedRun } from './run-batch.js';
import type { SlotLease, SlotPool } from './slot-pool.js';

export async function runBaseline(
  ctx: LoopContext,
  pending: Experiment | null,
  pool: SlotPool,
): Promise<Experiment | 'interrupted'> {
  const lease = await pool.acquire(ctx.signal, 0);
  if (!lease) return 'interrupted';
  try {
    return await baseline(ctx, pending, pool, lease);
  } finally {
    lease.release();
  }
}

async function baseline(
  ctx: LoopContext,
  pending: Experiment | null,
  pool: SlotPool,
  lease: SlotLease,
): Promise<Experiment | 'interrupted'> {
  const { ledger, frontier, config } = ctx;
  const study = frontier.currentStudy;
  const slot = lease.slot;
  const exp = pending
    ? await ledger.updateExperiment(pending.id, { attempts: pending.attempts + 1, slot: slot.index })
    : await ledger.createExperiment(study.id, {
        baseline: true,
        parentCommit: study.baseCommit,
        proposer: 'baseline',
        description: 'baseline',
        slot: slot.index,
        ...(ctx.host ? { lease: { host: ctx.host.id, ms: ctx.host.leaseMs } } : {}),
      });
  ctx.emit({
    type: 'experiment-started',
    t: Date.now(),
    number: exp.number,
    slot: slot.index,
    baseline: true,
    parentCommit: study.baseCommit,
    description: 'baseline',
    resumed: !!pending,
  });

  // The noise runs at once, on as many free slots as there are (in run-index order below).
  const repeats = config.judge.kind === 'greedy' ? 1 : config.judge.noise_runs;
  const values: number[] = [];
  let runMs = 0;
  let last: FinishedRun | null = null;
  // Paired seeds: the baseline's runs are its values on its own seed list (./paired-seeds.ts).
  const seeds = ctx.paired ? await ctx.paired.seedsOf(study.baseCommit, exp.number) : null;
  for (let i = 0; i < repeats; ) {
    const batch = await runBatch(ctx, pool, lease, {
      exp,
      commit: study.baseCommit,
      firstIndex: i,
      count: repeats - i,
      ...(seeds ? { seedOf: (k: number) => seeds[k] } : {}),
    });
    if (batch === 'interrupted') return 'interrupted';
    for (const run of batch) {
      last = run;
      const r = run.result;
      runMs += r.durationMs;
      if (run.kind === 'tampered' || r.kind !== 'ok') {
        const status = run.kind === 'tampered' ? 'rejected' : r.kind === 'timeout' ? 'timeout' : 'crash';
        const reason =
          run.kind === 'tampered' ? `the run modified protected file(s) ${run.files.join(', ')}` : (r.reason ?? r.kind);
        return lostIsInterrupted(
          await finishExperiment(ctx, exp, {
            status,
            value: null,
            metrics: r.metrics,
            reason: repeats > 1 ? `run ${i + 1}/${repeats}: ${reason}` : reason,
            logTail: r.logTail,
            exitCode: r.exitCode,
            runMs,
            env: { ...ctx.machine, ...slotFacts(slot) },
          }),
        );
      }
      values.push(r.value!);
      if (seeds && seeds[i] !== undefined) await ctx.paired!.record(study.baseCommit, seeds[i]!, r.value!);
      if (repeats > 1)
        ctx.emit({
          type: 'notice',
          t: Date.now(),
          level: 'info',
          message: `baseline run ${i + 1}/${repeats}: ${study.metric} = ${r.value}`,
        });
      i++;
    }
  }
  const lastRun = last?.kind === 'ran' ? last.result : null;
  const mean = values.reduce((s, x) => s + x, 0) / values.length;
  const spread = sampleStd(values);
  const noise = poolNoise(values, [{ commit: study.baseCommit, runs: values }]);
  if (noise) {
    await ledger.setStudyNoise(study.id, noise);
    ctx.emit({ type: 'noise-floor', t: Date.now(), ...noise });
  }
  const result = {
    value: mean,
    metrics: lastRun?.metrics ?? {},
    reason:
      values.length > 1 ? `baseline (mean of ${values.length} runs, noise sigma ${spread.toPrecision(3)})` : 'baseline',
    logTail: lastRun?.logTail,
    exitCode: lastRun?.exitCode,
    runMs,
    endedAt: Date.now(),
    env: { ...ctx.machine, ...slotFacts(slot) },
    evidence: { runs: values, mean, spread },
  };
  const advanced = await frontier.lock.run(() => frontier.advance(exp, result, study.baseCommit, ctx.host?.id));
  if (advanced.kind === 'lease-lost') {
    leaseLostNotice(ctx, exp, advanced.holder);
    return 'interrupted';
  }
  if (advanced.kind === 'best-moved') {
    // another host's baseline of this study was recorded first (several hosts started at once)
    return lostIsInterrupted(
      await finishExperiment(ctx, exp, {
        ...result,
        status: 'discard',
        reason: `another host's baseline (#${advanced.best?.number ?? '?'}) was recorded first; this one is kept as a record only`,
      }),
    );
  }
  await announceFinished(ctx, advanced.experiment);
  return advanced.experiment;
}

/** A baseline whose lease another host took over is theirs to finish: like an interrupted one here. */
function lostIsInterrupted(done: Experiment | null): Experiment | 'interrupted' {
  return done ?? 'interrupted';
}

export function slotFacts(slot: Slot): Record<string, unknown> {
  return slot.gpu ? { slot: slot.label, gpu: slot.gpu.name, gpuCount: 1 } : { slot: slot.label };
}
