/**
 * `autoresearch dashboard [dir] [--port 8686] [--host 127.0.0.1] [--open]`: a local, read-only web
 * page on a study (running in another terminal, stopped or finished), live through Server-Sent
 * Events fed by polling the ledger.
 */
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { DashboardError, isLoopback, startDashboard } from '../../dashboard/serve.js';
import { mustLoadConfig, mustOpenLedger, numberFlag, UserError } from '../common.js';

export const DEFAULT_DASHBOARD_PORT = 8686;

interface DashboardFlags {
  port: number;
  host: string;
  open?: boolean;
  tag?: string;
  pollMs: number;
}

export function registerDashboard(program: Command): void {
  program
    .command('dashboard')
    .description('a live web page on a study: progress chart, slots, experiments, diffs, cost (read-only)')
    .argument('[dir]', 'workspace', '.')
    .option('-p, --port <port>', 'port (0 picks a free one)', numberFlag('--port', true), DEFAULT_DASHBOARD_PORT)
    .option(
      '--host <host>',
      'address to listen on; anything but loopback exposes the study to the network',
      '127.0.0.1',
    )
    .option('--open', 'open the page in the default browser')
    .option('--tag <tag>', 'study tag (default: [study].tag)')
    .option('--poll-ms <ms>', 'how often the ledger is read for changes', numberFlag('--poll-ms', true), 1000)
    .addHelpText(
      'after',
      `
Examples:
  autoresearch run myproj            # in one terminal
  autoresearch dashboard myproj      # in another: open http://127.0.0.1:8686/
  autoresearch dashboard --port 0    # any free port (printed)
  autoresearch run --dashboard       # or serve the page from the run itself

The page reads the ledger only; it works on a running, stopped or finished study. It binds to
127.0.0.1 unless --host says otherwise: descriptions, diffs and logs are visible to whoever can
reach the port.`,
    )
    .action(async (dir: string, flags: DashboardFlags) => {
      const config = mustLoadConfig(dir, { tag: flags.tag });
      const ledger = await mustOpenLedger(config);
      if (!isLoopback(flags.host))
        process.stderr.write(
          `warning: listening on ${flags.host}: anyone who can reach this port sees the study (diffs, logs, cost)\n`,
        );
      let dash: Awaited<ReturnType<typeof startDashboard>>;
      try {
        dash = await startDashboard({
          ledger,
          tag: config.study.tag,
          root: config.root,
          host: flags.host,
          port: flags.port,
          pollMs: Math.max(100, flags.pollMs),
        });
      } catch (err) {
        await ledger.close();
        if (err instanceof DashboardError) throw new UserError(err.message);
        throw err;
      }
      process.stdout.write(`dashboard on ${dash.url} (study ${config.study.tag}; Ctrl-C to stop)\n`);
      if (flags.open) openBrowser(dash.url);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await dash.close();
      await ledger.close();
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
