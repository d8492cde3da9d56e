/**
 * Renders the study's event stream for a person: on a TTY a live status line (experiment n,
 * elapsed/timeout, best so far, last status) under the finished experiments; when piped, one
 * plain line per event worth reading. `--json` bypasses this (one JSON event per line).
 */
import { createLogUpdate } from 'log-update';
import type { StudyEvent } from '../loop/events.js';

export interface TerminalView {
  onEvent(e: StudyEvent): void;
  close(): void;
}

const STATUS_MARK: Record<string, string> = { keep: '✓', discard: '·', crash: '✗', timeout: '⏱', rejected: '⊘' };

export function fmtValue(v: number | null | undefined): string {
  return v === null || v === undefined ? '-' : Math.abs(v) >= 1e5 || (v !== 0 && Math.abs(v) < 1e-4) ? v.toExponential(4) : v.toFixed(6);
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
  let current: { number: number; phase: string; since: number; description: string } | null = null;
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
    if (!update || !current) return;
    const elapsed = fmtDuration(Date.now() - current.since);
    const limit = current.phase === 'running' && timeoutS ? `/${fmtDuration(timeoutS * 1000)}` : '';
    update(`  #${current.number} ${current.phase} ${elapsed}${limit}  ${current.description}\n  best ${metric} ${best}${last ? `  ·  last: ${last}` : ''}`);
  };

  return {
    onEvent(e) {
      switch (e.type) {
        case 'study-started':
          metric = e.metric;
          timeoutS = e.timeoutS;
          best = e.best ? `${fmtValue(e.best.value)} (#${e.best.number})` : '-';
          print(
            `${e.resumed ? 'resuming' : 'starting'} study ${e.tag} on branch ${e.branch} — ${e.metric} (${e.direction}), proposer ${e.proposer}, judge ${e.judge}` +
              `${e.maxExperiments !== null ? `, ${e.finished}/${e.maxExperiments} experiments done` : ''}`,
          );
          if (!timer && update) timer = setInterval(render, 1000).unref();
          break;
        case 'notice':
          print(`${e.level === 'warn' ? 'warning: ' : ''}${e.message}`);
          break;
        case 'experiment-started':
          current = { number: e.number, phase: e.baseline ? 'baseline' : 'proposing', since: e.t, description: e.resumed ? '(resumed)' : '' };
          render();
          break;
        case 'proposal':
          if (current) current.description = e.description;
          render();
          break;
        case 'run-started':
          if (current) Object.assign(current, { phase: 'running', since: e.t });
          if (!update) out.write(`#${e.number} running ${current?.description ?? ''} (log: ${e.logPath})\n`);
          render();
          break;
        case 'experiment-finished': {
          if (e.best) best = `${fmtValue(e.best.value)} (#${e.best.number})`;
          last = `${e.status} ${e.description}`;
          const dur = e.runMs !== null ? ` ${fmtDuration(e.runMs)}` : '';
          const why = e.status === 'keep' || e.status === 'discard' ? e.reason : e.reason.slice(0, 160);
          print(`${STATUS_MARK[e.status] ?? ' '} #${e.number} ${e.status.padEnd(8)} ${metric}=${fmtValue(e.value)}${dur}  ${e.description}  (${why})`);
          current = null;
          break;
        }
        case 'study-stopped':
          current = null;
          if (update) update.clear();
          out.write(
            `study stopped (${e.reason}): ${e.message}\n  ${e.finished} experiments, ${e.kept} kept; best ${metric} ${e.best ? `${fmtValue(e.best.value)} at ${e.best.commit.slice(0, 7)} (#${e.best.number})` : '-'}\n`,
          );
          break;
      }
    },
    close() {
      if (timer) clearInterval(timer);
      update?.done();
    },
  };
}
