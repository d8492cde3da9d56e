/** `autoresearch status [dir] [--json]`: where a study stands. */
import type { Command } from 'commander';
import { type HeldoutSummary, renderHeldout } from '../../analysis/heldout.js';
import { listHeldoutChecks, renderHeldoutChecks } from '../../loop/heldout-check.js';
import { join } from 'node:path';
import { describeNoise } from '../../judge/pooled-noise.js';
import type { Experiment, FinalStatus, NoiseFloor, Study } from '../../ledger/types.js';
import { readJournal } from '../../loop/journal-store.js';
import { liveLockHolder, studyLockPath } from '../../loop/lock.js';
import type { JournalNote } from '../../proposer/journal.js';
import { isQueued } from '../../loop/queued.js';
import { STATE_DIR } from '../../workspace/workspace.js';
import { mustGetStudy, mustLoadConfig, mustOpenLedger } from '../common.js';
import { fmtDuration, fmtValue } from '../terminal-view.js';
import { hubStatus } from './status-hub.js';

export interface StudyStatus {
  tag: string;
  branch: string;
  metric: string;
  direction: string;
  live: { pid: number; since: number } | null;
  baseline: { value: number | null; commit: string } | null;
  best: { number: number; commit: string; value: number; description: string } | null;
  improvement: number | null;
  /** The noise estimate the judge uses (pooled over every commit measured more than once), when measured. */
  noise: NoiseFloor | null;
  /** `running` = started and not finished (interrupted when the study is not live); `queued` = proposed, never started. */
  counts: Record<FinalStatus | 'running' | 'queued', number>;
  finished: number;
  runHours: number;
  /**
   * Several hosts (a shared ledger): the experiments on a slot now, with the host that holds
   * them and whether its lease is live (an expired one is taken over by another host).
   */
  hosts: Array<{
    host: string;
    slot: number | null;
    number: number;
    description: string;
    elapsedMs: number;
    leaseLive: boolean;
  }>;
  /** Per slot: experiments run there and the fraction of its active span spent running. */
  slots: Array<{ slot: number; experiments: number; busy: number }>;
  recent: Array<
    Omit<Pick<Experiment, 'number' | 'status' | 'value' | 'description' | 'commit' | 'reason'>, 'status'> & {
      status: Experiment['status'] | 'queued';
    }
  >;
  /** The research journal (agents' and people's notes), oldest first. */
  journal: JournalNote[];
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show a study: best so far, counts per status, recent experiments, whether it is running')
    .argument('[dir]', 'workspace (with --hub: a joined workspace or a study URL)', '.')
    .option('--tag <tag>', 'study tag (default: [study].tag)')
    .option('--json', 'print JSON')
    .option('--recent <n>', 'how many recent experiments to list', (v) => Number(v), 10)
    .option(
      '--hub',
      'the hub study across contributors: verified best per platform, recent results, contributors (token: AUTORESEARCH_HUB_TOKEN)',
    )
    .addHelpText(
      'after',
      `
Examples:
  autoresearch status myproj                 # the local study
  autoresearch status --hub myproj           # the hub study a joined workspace contributes to
  autoresearch status --hub http://127.0.0.1:8787/studies/<id> --json`,
    )
    .action(async (dir: string, flags: { tag?: string; json?: boolean; recent: number; hub?: boolean }) => {
      if (flags.hub) return hubStatus(dir, flags);
      const config = mustLoadConfig(dir, { tag: flags.tag });
      const ledger = await mustOpenLedger(config);
      try {
        const study = await mustGetStudy(ledger, config.study.tag);
        const status = summarise(
          study,
          await ledger.listExperiments(study.id),
          liveHolder(config.root, study.tag),
          flags.recent,
          await readJournal(ledger, study.id),
        );
        // the last held-out check (`autoresearch heldout`): validation vs held-out gap per kept change
        const held = (await ledger.getRecord(study.id, 'heldout', 'summary'))?.value as HeldoutSummary | undefined;
        // the loop's periodic checks ([heldout] every): one run of the best per check
        const checks = await listHeldoutChecks(ledger, study.id);
        const periodic = renderHeldoutChecks(checks, fmtValue);
        process.stdout.write(
          flags.json
            ? JSON.stringify({ ...status, heldout: held ?? null, heldoutChecks: checks }, null, 2) + '\n'
            : render(status) + (held ? `\n${renderHeldout(held)}` : '') + (periodic ? `\n${periodic}` : ''),
        );
      } finally {
        await ledger.close();
      }
    });
}

export function summarise(
  study: Study,
  all: Experiment[],
  live: StudyStatus['live'],
  recentN = 10,
  journal: JournalNote[] = [],
  now = Date.now(),
): StudyStatus {
  const counts: StudyStatus['counts'] = {
    keep: 0,
    discard: 0,
    crash: 0,
    timeout: 0,
    rejected: 0,
    conflict: 0,
    running: 0,
    queued: 0,
  };
  for (const e of all) if (!e.baseline || e.status === 'running') counts[isQueued(e) ? 'queued' : e.status]++;
  const base = all.find((e) => e.baseline && e.status === 'keep');
  const bestExp = study.bestNumber !== null ? all.find((e) => e.number === study.bestNumber) : undefined;
  const runMs = all.reduce((s, e) => s + (e.runMs ?? 0), 0);
  return {
    tag: study.tag,
    branch: study.branch,
    metric: study.metric,
    direction: study.direction,
    live,
    baseline: base ? { value: base.value, commit: base.parentCommit } : null,
    best:
      study.bestCommit && study.bestValue !== null && study.bestNumber !== null
        ? {
            number: study.bestNumber,
            commit: study.bestCommit,
            value: study.bestValue,
            description: bestExp?.description ?? '',
          }
        : null,
    improvement: base?.value != null && study.bestValue !== null ? study.bestValue - base.value : null,
    noise: study.noise,
    counts,
    finished: all.filter((e) => !e.baseline && e.status !== 'running').length,
    runHours: runMs / 3600_000,
    slots: slotBusy(all),
    hosts: all
      .filter((e) => e.status === 'running' && e.host !== null && !isQueued(e))
      .map((e) => ({
        host: e.host!,
        slot: e.slot,
        number: e.number,
        description: e.description,
        elapsedMs: Math.max(0, now - e.startedAt),
        leaseLive: e.leaseUntil !== null && e.leaseUntil >= now,
      }))
      .sort((a, b) => a.host.localeCompare(b.host) || (a.slot ?? -1) - (b.slot ?? -1)),
    recent: all.slice(-recentN).map((e) => ({
      number: e.number,
      status: isQueued(e) ? 'queued' : e.status,
      value: e.value,
      description: e.description,
      commit: e.commit,
      reason: e.reason,
    })),
    journal,
  };
}

/** Busy fraction per slot from the ledger: run time over the span from first run start to last end. */
export function slotBusy(all: Experiment[]): StudyStatus['slots'] {
  const bySlot = new Map<number, Experiment[]>();
  for (const e of all)
    if (e.slot !== null && e.runMs !== null && e.endedAt !== null)
      bySlot.set(e.slot, [...(bySlot.get(e.slot) ?? []), e]);
  return [...bySlot.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([slot, es]) => {
      const start = Math.min(...es.map((e) => e.endedAt! - e.runMs!));
      const end = Math.max(...es.map((e) => e.endedAt!));
      const run = es.reduce((t, e) => t + e.runMs!, 0);
      return { slot, experiments: es.length, busy: end > start ? Math.min(1, run / (end - start)) : 0 };
    });
}

function render(s: StudyStatus): string {
  const lines = [
    `study ${s.tag} (branch ${s.branch}) — ${s.metric}, ${s.direction}${s.live ? ` — RUNNING (pid ${s.live.pid}, for ${fmtDuration(Date.now() - s.live.since)})` : ''}`,
    `baseline: ${s.baseline ? fmtValue(s.baseline.value) : '-'}   best: ${s.best ? `${fmtValue(s.best.value)} (#${s.best.number} ${s.best.commit.slice(0, 7)} ${s.best.description})` : '-'}` +
      (s.improvement !== null ? `   change: ${s.improvement >= 0 ? '+' : ''}${s.improvement.toFixed(6)}` : ''),
    `experiments: ${s.finished} finished — ${s.counts.keep} keep, ${s.counts.discard} discard, ${s.counts.crash} crash, ${s.counts.timeout} timeout, ${s.counts.rejected} rejected${s.counts.conflict ? `, ${s.counts.conflict} conflict` : ''}${s.counts.running ? `, ${s.counts.running} ${s.live || s.hosts.some((h) => h.leaseLive) ? 'running' : 'interrupted (re-run on resume)'}` : ''}${s.counts.queued ? `, ${s.counts.queued} queued (not started yet)` : ''}; ${s.runHours.toFixed(2)} h of runs`,
    ...(s.noise ? [`noise: ${describeNoise(s.noise, fmtValue)}`] : []),
    ...(s.slots.length > 1 || (s.slots[0] && s.slots[0].experiments > 1)
      ? [
          `slots: ${s.slots.map((x) => `#${x.slot} ${x.experiments} runs, busy ${(x.busy * 100).toFixed(0)}%`).join('; ')} (busy = run time over the span of its runs, across sessions)`,
        ]
      : []),
    ...(s.hosts.length
      ? [
          `running on ${new Set(s.hosts.map((h) => h.host)).size} host(s):`,
          ...s.hosts.map(
            (h) =>
              `  ${h.host}  slot ${h.slot ?? '-'}  #${h.number}  ${fmtDuration(h.elapsedMs)}  ${h.description}${h.leaseLive ? '' : '  (lease expired: another host takes it over)'}`,
          ),
        ]
      : []),
    '',
    ...s.recent.map(
      (e) =>
        `  #${String(e.number).padStart(3)} ${e.status.padEnd(8)} ${fmtValue(e.value).padStart(10)}  ${e.description}${e.status === 'crash' || e.status === 'rejected' || e.status === 'timeout' || (e.status === 'discard' && e.value === null) ? `  (${e.reason.slice(0, 100)})` : ''}`,
    ),
  ];
  if (s.journal.length)
    lines.push(
      '',
      'journal:',
      // notes are one line of printable text (cleaned when stored and read): safe to print
      ...s.journal.map((n) => `  [${n.id}] ${n.author === 'person' ? '(person) ' : ''}${n.text}`),
    );
  if (s.best)
    lines.push(
      '',
      `best code: git show ${s.best.commit.slice(0, 7)}   ·   all kept changes: git log --oneline ${s.branch}`,
    );
  return lines.join('\n') + '\n';
}

function liveHolder(root: string, tag: string): StudyStatus['live'] {
  const h = liveLockHolder(studyLockPath(join(root, STATE_DIR), tag));
  return h ? { pid: h.pid, since: h.startedAt } : null;
}
