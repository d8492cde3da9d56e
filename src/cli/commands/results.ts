/**
 * `autoresearch results [dir]`: results.tsv (the original 5 columns) on stdout, in
 * `.autoresearch/results/<tag>.tsv`, and at the root unless another running study owns that file.
 */
import type { Command } from 'commander';
import { formatResultsTsv } from '../../ledger/results-tsv.js';
import { refreshResultsFiles } from '../../loop/results-files.js';
import { mustGetStudy, mustLoadConfig, mustOpenLedger } from '../common.js';

export function registerResults(program: Command): void {
  program
    .command('results')
    .description(
      'print results.tsv (commit, metric, memory_gb, status, description) and refresh the copies (the root one unless another running study owns it)',
    )
    .argument('[dir]', 'workspace', '.')
    .option('--tag <tag>', 'study tag (default: [study].tag)')
    .action(async (dir: string, flags: { tag?: string }) => {
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
    });
}
