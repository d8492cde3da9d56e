/**
 * Renders the study's event stream for a person: on a TTY a live status line (experiment n,
 * elapsed/timeout, best so far, last status) under the finished experiments; when piped, one
 * plain line per event worth reading. `--json` bypasses this (one JSON event per line).
 */
import { createLogUpdate } from 'log-update';
import type { StudyEvent } from '../loop/events.js';
import { describeNoise } from '../judge/pooled-noise.js';

export interface TerminalView {
  onEvent(e: StudyEvent): void;
  close(): void;
}

const STATUS_MARK: Record<string, string> = {
  keep: '✓',
  discard: '·',
  crash: '✗',
  timeout: '⏱',
  rejected: '⊘',
  conflict: '≠',
};

export function fmtValue(v: number | null | undefined): string {
  return v === null || v === undefined
    ? '-'
    : Math.abs(v) >= 1e5 || (v !== 0 && Math.abs(v) < 1e-4)
      ? v.toExponential(4)
      : v.toFixed(6);
}

export function fmtDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export function createTerminalView(out: NodeJS.WriteStream, live: boolean): TerminalView {
  let metric = 'metric';
  let timeoutS = 0;
  let slotLabels: string[] = [];
  const active = new Map<number, { slot: number; phase: string; since: number; description: string }>();
  let best = '-';
  let last = '';
  let timer: NodeJS.Timeout | null = null;
  const update = live ? createLogUpdate(out) : null;

  const print = (line: string) => {
    if (update) {
      update.clear();
      out.write(line + '\n');
      render();
    } else out.write(line + '\n');
  };
  const render = () => {
    if (!update) return;
    const lines = [...active.entries()].map(([n, a]) => {
      const limit = a.phase.startsWith('run') && timeoutS ? `/${fmtDuration(timeoutS * 1000)}` : '';
      const slot = slotLabels.length > 1 ? `[${slotLabels[a.slot] ?? a.slot}] ` : '';
      return `  ${slot}#${n} ${a.phase} ${fmtDuration(Date.now() - a.since)}${limit}  ${a.description}`;
    });
    lines.push(`  best ${metric} ${best}${last ? `  ·  last: ${last}` : ''}`);
    update(lines.join('\n'));
  };

  return {
    onEvent(e) {
      switch (e.type) {
        case 'study-started':
          metric = e.metric;
          timeoutS = e.timeoutS;
          slotLabels = e.slots.map((s) => s.label);
          best = e.best ? `${fmtValue(e.best.value)} (#${e.best.number})` : '-';
          print(
            `${e.resumed ? 'resuming' : 'starting'} study ${e.tag} on branch ${e.branch} — ${e.metric} (${e.direction}), proposer ${e.proposer}, judge ${e.judge}, ` +
              `${e.slots.length} slot${e.slots.length > 1 ? 's' : ''} (${e.slots.map((s) => (s.gpu ? `${s.label} ${s.gpu}` : s.label)).join(', ')})` +
              `${e.maxExperiments !== null ? `; ${e.finished}/${e.maxExperiments} experiments done` : ''}`,
          );
          if (!timer && update) timer = setInterval(render, 1000).unref();
          break;
        case 'notice':
          print(`${e.level === 'warn' ? 'warning: ' : ''}${e.message}`);
          break;
        case 'noise-floor':
          print(
            e.commits !== undefined && e.commits > 1
              ? `noise estimate: ${describeNoise(e, fmtValue)}`
              : `noise floor: sigma ${fmtValue(e.sigma)} over ${e.runs.length} baseline runs (${e.runs.map((v) => fmtValue(v)).join(', ')})`,
          );
          break;
        case 'experiment-started':
          active.set(e.number, {
            slot: e.slot,
            phase: e.baseline ? 'baseline' : 'starting',
            since: e.t,
            description: e.resumed ? `${e.description} (resumed)` : e.description,
          });
          render();
          break;
        case 'run-started': {
          const a = active.get(e.number);
          if (a) Object.assign(a, { phase: e.run > 0 ? `run ${e.run + 1}` : 'running', since: e.t });
          if (!update)
            out.write(
              `#${e.number} ${e.run > 0 ? `run ${e.run + 1} of ` : 'running '}${a?.description ?? ''}${slotLabels.length > 1 ? ` on ${slotLabels[e.slot]}` : ''} (log: ${e.logPath})\n`,
            );
          render();
          break;
        }
        case 'confirm':
          print(`  #${e.number} near the line (${e.reason}); running it again`);
          break;
        case 'early-stop':
          print(`  #${e.number} ${e.dryRun ? 'would be stopped (dry run)' : 'stopped'}: ${e.reason}`);
          break;
        case 'rebase':
          print(
            `  #${e.number} started from an older best and beat it; re-applying onto ${e.onto.slice(0, 7)} and re-running`,
          );
          break;
        case 'heldout-check':
          print(
            e.gap !== null
              ? `held-out check of ${e.keeps ? `the best #${e.number} (${e.keeps} keeps)` : 'the baseline'}: validation ${fmtValue(e.validation!)}, held-out ${fmtValue(e.heldout!)} (gap ${e.gap >= 0 ? '+' : ''}${fmtValue(e.gap)})`
              : `held-out check of #${e.number}: not scored (${e.reason ?? 'no value'})`,
          );
          break;
        case 'repair':
          print(`  #${e.number} crashed; repair attempt ${e.attempt}: ${e.description}`);
          break;
        case 'experiment-finished': {
          active.delete(e.number);
          if (e.best) best = `${fmtValue(e.best.value)} (#${e.best.number})`;
          last = `${e.status} ${e.description}`;
          const dur = e.runMs !== null ? ` ${fmtDuration(e.runMs)}` : '';
          const why = e.status === 'keep' || e.status === 'discard' ? e.reason : e.reason.slice(0, 160);
          print(
            `${STATUS_MARK[e.status] ?? ' '} #${e.number} ${e.status.padEnd(8)} ${metric}=${fmtValue(e.value)}${dur}  ${e.description}  (${why})`,
          );
          break;
        }
        case 'study-stopped': {
          active.clear();
          if (update) update.clear();
          const busy =
            e.busy.length > 1 || (e.busy[0] && e.finished > 0)
              ? `; busy ${e.busy.map((b) => `${(b.fraction * 100).toFixed(0)}%`).join(' ')}`
              : '';
          out.write(
            `study stopped (${e.reason}): ${e.message}\n  ${e.finished} experiments${e.notRun ? ` (+${e.notRun} never run: rejected)` : ''}, ${e.kept} kept; best ${metric} ${e.best ? `${fmtValue(e.best.value)} at ${e.best.commit.slice(0, 7)} (#${e.best.number})` : '-'}${busy}\n`,
          );
          break;
        }
        case 'proposal':
          break;
      }
    },
    close() {
      if (timer) clearInterval(timer);
      update?.done();
    },
  };
}
