/**
 * `autoresearch results [dir]`: results.tsv (the original 5 columns) on stdout, in
 * `.autoresearch/results/<tag>.tsv`, and at the root unless another running study owns that file.
 */
import type { Command } from 'commander';
import { formatResultsTsv } from '../../ledger/results-tsv.js';
import { refreshResultsFiles } from '../../loop/results-files.js';
import { mustGetStudy, mustLoadConfig, mustOpenLedger, numberFlag, UserError } from '../common.js';
import { hubResults } from './results-hub.js';

export function registerResults(program: Command): void {
  program
    .command('results')
    .description(
      'print results.tsv (commit, metric, memory_gb, status, description) and refresh the copies (the root one unless another running study owns it)',
    )
    .argument('[dir]', 'workspace (with --hub: a joined workspace or a study URL)', '.')
    .option('--tag <tag>', 'study tag (default: [study].tag)')
    .option(
      '--hub',
      "the hub's results table: every contributor's results, newest first (token: AUTORESEARCH_HUB_TOKEN)",
    )
    .option('--json', 'with --hub: print JSON')
    .option('--platform <key>', 'with --hub: one platform (its key, or words of its label such as H200)')
    .option(
      '--limit <n>',
      'with --hub: how many results, newest first (1-1000; default 100)',
      numberFlag('--limit', true),
    )
    .addHelpText(
      'after',
      `
Examples:
  autoresearch results myproj > results.tsv
  autoresearch results --hub myproj --limit 20            # a joined workspace's hub study
  autoresearch results --hub http://127.0.0.1:8787/studies/<id> --platform H200 --json`,
    )
    .action(
      async (
        dir: string,
        flags: { tag?: string; hub?: boolean; json?: boolean; platform?: string; limit?: number },
      ) => {
        if (flags.hub) return hubResults(dir, flags);
        if (flags.json || flags.platform !== undefined || flags.limit !== undefined)
          throw new UserError('--json, --platform and --limit go with --hub (the local results are results.tsv)');
        const config = mustLoadConfig(dir, { tag: flags.tag });
        const ledger = await mustOpenLedger(config);
        try {
          const study = await mustGetStudy(ledger, config.study.tag);
          const all = await ledger.listExperiments(study.id);
          const note = refreshResultsFiles(config, all);
          if (note) process.stderr.write(`${note}\n`);
          process.stdout.write(
            formatResultsTsv(all, {
              metric: study.metric,
              memoryMetric: config.results.memory_metric,
              memoryScale: config.results.memory_scale,
            }),
          );
        } finally {
          await ledger.close();
        }
      },
    );
}
