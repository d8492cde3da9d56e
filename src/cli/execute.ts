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
import { recordRunLimits } from '../dashboard/run-limits.js';
import { DashboardError, startDashboard, type RunningDashboard } from '../dashboard/serve.js';
import { type HubContribution, startHubContribution } from '../hub/contribute.js';
import { createNotifier } from '../notify/create.js';
import { createProposer } from '../proposer/create.js';
import { ProcessRunner } from '../runner/index.js';
import { createSandbox } from '../runner/sandbox.js';
import { hubToken } from './commands/publish.js';
import { checkCommand, mustOpenLedger, mustOpenWorkspace, UserError } from './common.js';
import { explainSystemError } from './system-errors.js';
import { createTerminalView } from './terminal-view.js';

export async function executeStudy(
  config: Config,
  limits: StudyLimits,
  opts: {
    json?: boolean;
    /** Serve the dashboard from this process on this loopback port (0 = any free port). */
    dashboardPort?: number | null;
  } = {},
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
  const token = config.hub ? hubToken() : '';
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
  let dashboard: RunningDashboard | null = null;
  const show = (e: StudyEvent) => (view ? view.onEvent(e) : process.stdout.write(JSON.stringify(e) + '\n'));
  const warn = (message: string) => emit({ type: 'notice', t: Date.now(), level: 'warn', message });
  const { notifier, problem } = createNotifier(config, process.env, warn);
  // One stream, several readers: the terminal (or --json), the dashboard, the notifier.
  const pending: Array<Promise<unknown>> = [];
  let hub: HubContribution | null = null;
  const emit = (e: StudyEvent) => {
    // The run's limits, for a dashboard in another process ("time left").
    if (e.type === 'study-started') pending.push(recordRunLimits(ledger, e, process.pid).then((m) => m && warn(m)));
    show(e);
    dashboard?.publish(e);
    notifier?.onEvent(e);
    hub?.poster.onEvent(e);
  };
  hub = startHubContribution(config, {
    ledger,
    stateDir: workspace.stateDir,
    token,
    warn,
    notice: (level, message) => emit({ type: 'notice', t: Date.now(), level, message }),
  });
  if (hub) emit({ type: 'notice', t: Date.now(), level: 'info', message: `hub: ${hub.summary}` });
  if (problem) warn(problem);
  if (opts.dashboardPort !== undefined && opts.dashboardPort !== null) {
    try {
      dashboard = await startDashboard({
        ledger,
        tag: config.study.tag,
        root: config.root,
        host: '127.0.0.1',
        port: opts.dashboardPort,
      });
      emit({ type: 'notice', t: Date.now(), level: 'info', message: `dashboard on ${dashboard.url}` });
    } catch (err) {
      if (!(err instanceof DashboardError)) throw err;
      warn(`no dashboard: ${err.message}`);
    }
  }
  if ('note' in made && made.note) emit({ type: 'notice', t: Date.now(), level: 'info', message: made.note });
  if (sandbox.notice) emit({ type: 'notice', t: Date.now(), level: 'warn', message: sandbox.notice });
  try {
    const outcome = await runStudy(
      {
        config,
        workspace,
        ledger,
        proposer: hub ? hub.wrap(made.proposer) : made.proposer,
        runner: new ProcessRunner(),
        sandbox: sandbox.sandbox,
        secrets: runSecrets(config),
        judge: createJudge(config),
        emit,
        ...(hub?.between ? { between: hub.between } : {}),
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
    if (notifier) {
      notifier.close();
      await notifier.flush();
    }
    await dashboard?.close();
    await hub?.drain();
    await Promise.all(pending);
    view?.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await ledger.close();
  }
}
