/**
 * `autoresearch results [dir]`: results.tsv (the original 5 columns) on stdout, in
 * `.autoresearch/results/<tag>.tsv`, and at the root unless another running study owns that file.
 */
import type { Command } from 'commander';
import { formatResultsTsv } from '../../ledger/results-tsv.js';
import { refreshResultsFiles } from '../../loop/results-files.js';
import { mustLoadConfig, mustOpenLedger, UserError } from '../common.js';

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
        const study = await ledger.getStudy(config.study.tag);
        if (!study)
          throw new UserError(
            noStudyMessage(
              config.study.tag,
              (await ledger.listStudies()).map((s) => s.tag),
            ),
          );
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

export function noStudyMessage(tag: string, tags: string[]): string {
  return tags.length
    ? `no study "${tag}" in this workspace; studies: ${tags.join(', ')} (pick one with --tag)`
    : `no study "${tag}" yet; start it with \`autoresearch run\``;
}
