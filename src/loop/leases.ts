/**
 * Several hosts, one study (a shared PostgreSQL ledger): which running experiments this host
 * drives. Each experiment a host creates carries its lease; the heartbeat renews this host's
 * leases every third of the lease and takes over the experiments whose host stopped renewing
 * (killed, powered off, cut off): they are queued here and re-run, as a resumed study re-runs its
 * own. Nothing is run twice to completion: a live host's lease is never taken (the ledger's
 * `claimExperiment` is a compare-and-set), and finishing is one-shot.
 *
 * Contract: never throws; ledger failures during a beat are notices, and the next beat retries.
 * With a one-host ledger (ctx.host null) every running experiment is this host's, as before.
 */
import type { Experiment, Ledger } from '../ledger/types.js';
import type { LoopContext } from './context.js';

/**
 * Claims (or renews) experiment `id` for this host (`Ledger.claimExperiment`) and tells the lease
 * keeper (./lease-keeper.ts) when it succeeds. Null when another host holds it or it is finished.
 */
export async function claim(
  ctx: Pick<LoopContext, 'host' | 'leases'>,
  ledger: Ledger,
  id: number,
): Promise<Experiment | null> {
  if (!ctx.host) return null;
  const sentAt = Date.now();
  const got = await ledger.claimExperiment(id, ctx.host.id, ctx.host.leaseMs);
  if (got) ctx.leases?.confirm(id, sentAt);
  return got;
}

/**
 * Before a slot runs an experiment: true when this host (still) holds it. With a shared ledger
 * the experiment may have been taken over while it waited in the queue (this host cut off from
 * the ledger longer than the lease): then it is another host's to run, and this says so.
 */
export async function stillHeld(ctx: LoopContext, exp: Experiment): Promise<boolean> {
  if (!ctx.host) return true;
  if (await claim(ctx, ctx.ledger, exp.id)) return true;
  const now = await ctx.ledger.getExperiment(exp.id);
  ctx.emit({
    type: 'notice',
    t: Date.now(),
    level: 'warn',
    message: `experiment #${exp.number} is not run here: ${now?.status === 'running' ? `host ${now.host} took it over (this host could not renew its lease in time)` : `it is finished (${now?.status ?? 'unknown'})`}`,
  });
  return false;
}

/** Says that a result was not recorded because another host holds the experiment now. */
export function leaseLostNotice(ctx: Pick<LoopContext, 'emit'>, exp: Experiment, holder: string | null): void {
  ctx.emit({
    type: 'notice',
    t: Date.now(),
    level: 'warn',
    message: `the result of experiment #${exp.number} is not recorded: host ${holder ?? '?'} took it over (this host could not renew its lease in time) and records it`,
  });
}

/**
 * The running experiments this host drives on start: all of them with a one-host ledger; with a
 * shared one, those it holds or can take (its own from an earlier run, never-leased ones, expired
 * leases). Returns them in number order.
 */
export async function claimOnStart(ctx: LoopContext, all: readonly Experiment[]): Promise<Experiment[]> {
  const running = all.filter((e) => e.status === 'running');
  if (!ctx.host) return running;
  const mine: Experiment[] = [];
  const others = new Map<string, number[]>();
  for (const e of running) {
    const got = await claim(ctx, ctx.ledger, e.id);
    if (got) mine.push(got);
    else others.set(e.host ?? '?', [...(others.get(e.host ?? '?') ?? []), e.number]);
  }
  for (const [host, numbers] of others)
    ctx.emit({
      type: 'notice',
      t: Date.now(),
      level: 'info',
      message: `host ${host} is running experiment(s) ${numbers.map((n) => `#${n}`).join(', ')} of this study`,
    });
  return mine;
}

/** True when this host may kill what is left of `e`'s processes (they ran here). */
export function ranHere(ctx: Pick<LoopContext, 'host'>, e: Experiment): boolean {
  return !ctx.host || e.host === null || e.host === ctx.host.id;
}

export interface Heartbeat {
  stop(): Promise<void>;
}

/**
 * Renews this host's leases every `leaseMs / 3` (telling the lease keeper, which stops the runs
 * of leases it could not renew in time), takes over other hosts' expired experiments (not
 * baselines: see `awaitBaseline`), and claims again its own experiments whose runs the keeper
 * stopped while the ledger was unreachable (when no other host took them meanwhile), handing
 * each to `takeOver`. `ledger` is the ledger itself, not one that waits for the server (a beat
 * must fail, not wait, while the server is unreachable). A no-op without ctx.host.
 */
export function startHeartbeat(
  ctx: LoopContext,
  studyId: number,
  takeOver: (e: Experiment) => void,
  ledger: Ledger = ctx.ledger,
): Heartbeat {
  const host = ctx.host;
  if (!host) return { stop: async () => {} };
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> = Promise.resolve();
  let failing = false;
  const beat = async () => {
    try {
      const sentAt = Date.now();
      const held = await ledger.renewLeases(studyId, host.id, host.leaseMs);
      ctx.leases?.renewed(sentAt, held);
      for (const id of ctx.leases?.takeStopped() ?? []) {
        if (stopped) return;
        const e = await ledger.getExperiment(id);
        if (e?.status !== 'running' || e.baseline) continue; // a baseline: runStudy claims it again
        const got = await claim(ctx, ledger, id);
        ctx.emit({
          type: 'notice',
          t: Date.now(),
          level: got ? 'info' : 'warn',
          message: got
            ? `claimed experiment #${e.number} again (its run was stopped while the ledger was unreachable; no other host took it): it runs again here`
            : `experiment #${e.number} is host ${e.host}'s now (it took it over while this host was cut off from the ledger)`,
        });
        if (got) takeOver(got);
      }
      const all = await ledger.listExperiments(studyId);
      const now = Date.now();
      for (const e of all) {
        if (stopped) return;
        if (e.status !== 'running' || e.baseline || e.host === null || e.host === host.id) continue;
        if (e.leaseUntil === null || e.leaseUntil >= now) continue; // the ledger's claim decides; skip live ones
        const got = await claim(ctx, ledger, e.id);
        if (!got) continue;
        ctx.emit({
          type: 'notice',
          t: Date.now(),
          level: 'warn',
          message: `took over experiment #${e.number} from host ${e.host} (its lease expired: that host stopped renewing it)`,
        });
        takeOver(got);
      }
      if (failing)
        ctx.emit({ type: 'notice', t: Date.now(), level: 'info', message: 'the ledger answers heartbeats again' });
      failing = false;
    } catch (err) {
      if (!failing)
        ctx.emit({
          type: 'notice',
          t: Date.now(),
          level: 'warn',
          message: `heartbeat failed (${(err as Error).message}); retrying — other hosts take over this host's experiments if it lasts longer than the lease`,
        });
      failing = true;
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(
      () => {
        running = beat().then(schedule);
      },
      Math.max(50, Math.floor(host.leaseMs / 3)),
    );
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}

/**
 * Before the first best exists: the baseline to run here (`{ pending }`: an unfinished one this
 * host holds or took over, or null to create one), or 'ready' once another host's baseline set
 * the best, or 'interrupted'. With a shared ledger, waits while another live host runs it.
 */
export async function awaitBaseline(
  ctx: LoopContext,
  studyId: number,
  mine: readonly Experiment[],
): Promise<{ pending: Experiment | null } | 'ready' | 'interrupted'> {
  const own = mine.find((e) => e.baseline) ?? null;
  if (!ctx.host || own) return { pending: own };
  let told = false;
  for (;;) {
    if (ctx.signal.aborted) return 'interrupted';
    await ctx.frontier.synced();
    if (ctx.frontier.current) return 'ready';
    const all = await ctx.ledger.listExperiments(studyId);
    const other = all.find((e) => e.baseline && e.status === 'running');
    if (!other) return { pending: null };
    const got = await claim(ctx, ctx.ledger, other.id);
    if (got) return { pending: got };
    if (!told)
      ctx.emit({
        type: 'notice',
        t: Date.now(),
        level: 'info',
        message: `waiting for host ${other.host}'s baseline (#${other.number}) of this study`,
      });
    told = true;
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, 500);
      function done() {
        clearTimeout(t);
        ctx.signal.removeEventListener('abort', done);
        resolve();
      }
      ctx.signal.addEventListener('abort', done, { once: true });
    });
  }
}
