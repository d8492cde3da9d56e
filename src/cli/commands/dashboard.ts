/**
 * `autoresearch dashboard [dir] [--port 8686] [--host 127.0.0.1] [--open]`: a local, read-only web
 * page on a study (running in another terminal, stopped or finished), live through Server-Sent
 * Events fed by polling the ledger. `--hub [dir|STUDY_URL]`: the page shows the hub study too (a
 * joined workspace: a "hub" tab next to the local study) or only (a study URL); this process
 * polls the hub with the token, the page never sees it.
 */
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { DashboardError, isLoopback, startDashboard } from '../../dashboard/serve.js';
import type { Ledger } from '../../ledger/types.js';
import { parseStudyUrl } from '../../hub/client.js';
import { mustLoadConfig, mustOpenLedger, numberFlag, UserError } from '../common.js';
import { explainHubFailure, mustHubValue, resolveHubTarget } from '../hub-target.js';

export const DEFAULT_DASHBOARD_PORT = 8686;

interface DashboardFlags {
  port: number;
  host: string;
  open?: boolean;
  tag?: string;
  pollMs: number;
  hub?: boolean;
}

export function registerDashboard(program: Command): void {
  program
    .command('dashboard')
    .description('a live web page on a study: progress chart, slots, experiments, diffs, cost (read-only)')
    .argument('[dir]', 'workspace (with --hub: a joined workspace or a study URL)', '.')
    .option('-p, --port <port>', 'port (0 picks a free one)', numberFlag('--port', true), DEFAULT_DASHBOARD_PORT)
    .option(
      '--host <host>',
      'address to listen on; anything but loopback exposes the study to the network',
      '127.0.0.1',
    )
    .option('--open', 'open the page in the default browser')
    .option('--tag <tag>', 'study tag (default: [study].tag)')
    .option(
      '--poll-ms <ms>',
      'how often the ledger (and the hub) is read for changes',
      numberFlag('--poll-ms', true),
      1000,
    )
    .option(
      '--hub',
      'show the hub study across contributors: per-platform frontier chart, recent results, contributors (token: AUTORESEARCH_HUB_TOKEN)',
    )
    .addHelpText(
      'after',
      `
Examples:
  autoresearch run myproj            # in one terminal
  autoresearch dashboard myproj      # in another: open http://127.0.0.1:8686/
  autoresearch dashboard --port 0    # any free port (printed)
  autoresearch run --dashboard       # or serve the page from the run itself
  autoresearch dashboard --hub mywork                              # a joined workspace: its study + a hub tab
  autoresearch dashboard --hub http://127.0.0.1:8787/studies/<id>  # a hub study only

The page reads the ledger only; it works on a running, stopped or finished study. It binds to
127.0.0.1 unless --host says otherwise: descriptions, diffs and logs are visible to whoever can
reach the port.`,
    )
    .action(async (dir: string, flags: DashboardFlags) => {
      const hubOnly = !!flags.hub && parseStudyUrl(dir) !== null;
      const config = hubOnly ? null : mustLoadConfig(dir, { tag: flags.tag });
      const pollMs = Math.max(100, flags.pollMs);
      let hub: Parameters<typeof startDashboard>[0]['hub'];
      if (flags.hub) {
        // One poll now, so a hub that is down or refuses the token is one line, not a blank page.
        const target = resolveHubTarget(dir, { attempts: 1 });
        mustHubValue(await target.client.summary(target.studyId, 1), target);
        hub = {
          client: target.client,
          studyId: target.studyId,
          studyUrl: target.studyUrl,
          pollMs: Math.max(pollMs, 200),
          describe: (failure) => explainHubFailure(failure, target),
        };
      }
      const ledger: Ledger | null = config ? await mustOpenLedger(config) : null;
      if (!isLoopback(flags.host))
        process.stderr.write(
          `warning: listening on ${flags.host}: anyone who can reach this port sees the study (diffs, logs, cost)\n`,
        );
      let dash: Awaited<ReturnType<typeof startDashboard>>;
      try {
        dash = await startDashboard({
          ledger,
          tag: config?.study.tag ?? '',
          root: config?.root ?? '',
          host: flags.host,
          port: flags.port,
          pollMs,
          hub,
        });
      } catch (err) {
        await ledger?.close();
        if (err instanceof DashboardError) throw new UserError(err.message);
        throw err;
      }
      const what = config
        ? `study ${config.study.tag}${hub ? ` and hub study ${hub.studyUrl}` : ''}`
        : `hub study ${hub!.studyUrl}`;
      process.stdout.write(`dashboard on ${dash.url} (${what}; Ctrl-C to stop)\n`);
      if (flags.open) openBrowser(dash.url);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await dash.close();
      await ledger?.close();
    });
}

/** Opens the URL with the platform's opener; failing to is a warning, not an error. */
export function openBrowser(url: string): void {
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    const child = spawn(cmd, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => process.stderr.write(`warning: could not start ${cmd}; open ${url} yourself\n`));
    child.unref();
  } catch {
    process.stderr.write(`warning: could not start ${cmd}; open ${url} yourself\n`);
  }
}
