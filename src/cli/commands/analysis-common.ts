/**
 * What `ablate`, `transfer` and `heldout` share: open the workspace, ledger, sandbox and runner
 * once, wire Ctrl-C to a clean stop (runs killed; the runs done are kept and reused on the next
 * invocation), print progress on stderr (stdout carries the table or the JSON), and run the
 * analysis in its session (src/analysis/session.ts).
 */
import type { Config } from '../../config/load.js';
import { type Chain, keptChain } from '../../analysis/chain.js';
import { type AnalysisSession, withAnalysis } from '../../analysis/session.js';
import type { AnalysisKind, StudyEvent } from '../../loop/events.js';
import { runEnv, runSecrets } from '../../loop/run-env.js';
import { ProcessRunner } from '../../runner/index.js';
import { createSandbox } from '../../runner/sandbox.js';
import { checkCommand, mustOpenLedger, mustOpenWorkspace, numberFlag, UserError } from '../common.js';
import { fmtValue } from '../terminal-view.js';
import { noStudyMessage } from './results.js';

export const EXIT_INTERRUPTED = 130;

/** `--runs`: a whole number >= 1. */
export function runsFlag(v: string): number {
  const n = numberFlag('--runs', true)(v);
  if (n < 1) throw new UserError('--runs expects a whole number >= 1');
  return n;
}

/** `--slots <n|auto>` as `run` takes it. */
export function slotsFlag(v: string): number | 'auto' {
  return v === 'auto' ? 'auto' : numberFlag('--slots', true)(v);
}

/**
 * Runs `fn` in an analysis session of the study named by `config`, with its kept chain (at least
 * one keep). Returns what `fn` returned, or throws UserError for what the user must fix.
 */
export async function runAnalysis<T>(
  config: Config,
  kind: AnalysisKind,
  fn: (s: AnalysisSession, chain: Chain, signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const workspace = await mustOpenWorkspace(config.root);
  const notFound = checkCommand(
    config.run.command,
    config.root,
    runEnv(config, { number: 0, worktree: config.root }).PATH ?? '',
  );
  if (notFound) throw new UserError(notFound);
  const sandbox = createSandbox(config.run.sandbox);
  if (!sandbox.ok) throw new UserError(sandbox.message);
  const ledger = await mustOpenLedger(config);
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write(`\n${sig}: stopping — the runs done are kept; run the same command again to continue\n`);
      controller.abort();
    } else process.exit(EXIT_INTERRUPTED);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const study = await ledger.getStudy(config.study.tag);
    if (!study)
      throw new UserError(
        noStudyMessage(
          config.study.tag,
          (await ledger.listStudies()).map((s) => s.tag),
        ),
      );
    const chain = await keptChain(ledger, study);
    if (!chain.changes.length)
      throw new UserError(
        `study "${study.tag}" has no kept change yet: nothing to ${kind === 'ablation' ? 'ablate' : 'measure'}. Run more experiments first (autoresearch run).`,
      );
    if (sandbox.notice) process.stderr.write(`${sandbox.notice}\n`);
    const r = await withAnalysis(
      {
        config,
        workspace,
        ledger,
        runner: new ProcessRunner(),
        sandbox: sandbox.sandbox,
        secrets: runSecrets(config),
        emit: progress,
        signal: controller.signal,
      },
      kind,
      (s) => fn(s, chain, controller.signal),
    );
    if (!r.ok) throw new UserError(r.message);
    return r.value;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await ledger.close();
  }
}

/** One line per finished analysis run, on stderr. */
function progress(e: StudyEvent): void {
  if (e.type !== 'analysis-run') return;
  const held = e.heldout !== null ? `  held-out ${fmtValue(e.heldout)}` : '';
  const why = e.status !== 'ok' && e.status !== 'reused' ? `  (${e.reason.slice(0, 100)})` : '';
  process.stderr.write(
    `[${String(e.done).padStart(3)}/${e.total}] ${e.variant} run ${e.run}: ${e.status === 'reused' ? 'done earlier' : e.status} ${fmtValue(e.value)}${held}${why}\n`,
  );
}

export function interruptedMessage(command: string): string {
  return `stopped before the end; the runs done are recorded: run \`autoresearch ${command}\` again to continue where it stopped`;
}
