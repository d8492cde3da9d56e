/**
 * Runs a study for a command (`run`, `demo`): checks what must be ready before the baseline
 * (proposer, command on PATH), wires Ctrl-C to a clean stop, and renders the event stream as
 * the live view or as JSON lines. Returns the outcome and the exit code.
 */
import type { Config } from '../config/load.js';
import { createJudge } from '../judge/create.js';
import type { StudyEvent } from '../loop/events.js';
import { runEnv, runSecrets } from '../loop/run-env.js';
import { runStudy, type StudyLimits, type StudyOutcome } from '../loop/study.js';
import { createProposer } from '../proposer/create.js';
import { ProcessRunner } from '../runner/index.js';
import { createSandbox } from '../runner/sandbox.js';
import { checkCommand, mustOpenLedger, mustOpenWorkspace, UserError } from './common.js';
import { explainSystemError } from './system-errors.js';
import { createTerminalView } from './terminal-view.js';

export async function executeStudy(
  config: Config,
  limits: StudyLimits,
  opts: { json?: boolean } = {},
): Promise<{ outcome: StudyOutcome; exitCode: number }> {
  const workspace = await mustOpenWorkspace(config.root);
  const made = createProposer(config);
  if (!made.ok) throw new UserError(made.message);
  const ready = made.proposer.preflight ? await made.proposer.preflight() : null;
  if (ready) throw new UserError(ready);
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
      process.stderr.write(
        `\n${sig}: stopping — killing the running experiments (they are re-run on resume); press Ctrl-C again to force\n`,
      );
      controller.abort();
    } else process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const view = opts.json ? null : createTerminalView(process.stdout, process.stdout.isTTY === true);
  const emit = (e: StudyEvent) => (view ? view.onEvent(e) : process.stdout.write(JSON.stringify(e) + '\n'));
  if ('note' in made && made.note) emit({ type: 'notice', t: Date.now(), level: 'info', message: made.note });
  if (sandbox.notice) emit({ type: 'notice', t: Date.now(), level: 'warn', message: sandbox.notice });
  try {
    const outcome = await runStudy(
      {
        config,
        workspace,
        ledger,
        proposer: made.proposer,
        runner: new ProcessRunner(),
        sandbox: sandbox.sandbox,
        secrets: runSecrets(config),
        judge: createJudge(config),
        emit,
      },
      limits,
      controller.signal,
    );
    const exitCode =
      outcome.reason === 'error' ||
      outcome.reason === 'baseline-failed' ||
      outcome.reason === 'rejections' ||
      outcome.reason === 'failures'
        ? 1
        : outcome.reason === 'interrupted'
          ? 130
          : 0;
    return { outcome, exitCode };
  } catch (err) {
    // The loop stopped every slot before throwing; a full disk or a vanished git is one line.
    const known = explainSystemError(err, [config.root, workspace.stateDir]);
    if (known) throw new UserError(known.message, known.exitCode);
    throw err;
  } finally {
    view?.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await ledger.close();
  }
}
