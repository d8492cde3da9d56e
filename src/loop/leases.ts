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
import type { Experiment } from '../ledger/types.js';
import type { LoopContext } from './context.js';

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
    const got = await ctx.ledger.claimExperiment(e.id, ctx.host.id, ctx.host.leaseMs);
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
 * Renews this host's leases every `leaseMs / 3`, and takes over other hosts' expired
 * experiments (not baselines: see `awaitBaseline`), handing each to `takeOver`. A no-op without
 * ctx.host.
 */
export function startHeartbeat(ctx: LoopContext, studyId: number, takeOver: (e: Experiment) => void): Heartbeat {
  const host = ctx.host;
  if (!host) return { stop: async () => {} };
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> = Promise.resolve();
  let failing = false;
  const beat = async () => {
    try {
      await ctx.ledger.renewLeases(studyId, host.id, host.leaseMs);
      const all = await ctx.ledger.listExperiments(studyId);
      const now = Date.now();
      for (const e of all) {
        if (stopped) return;
        if (e.status !== 'running' || e.baseline || e.host === null || e.host === host.id) continue;
        if (e.leaseUntil === null || e.leaseUntil >= now) continue; // the ledger's claim decides; skip live ones
        const got = await ctx.ledger.claimExperiment(e.id, host.id, host.leaseMs);
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
    const got = await ctx.ledger.claimExperiment(other.id, ctx.host.id, ctx.host.leaseMs);
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
