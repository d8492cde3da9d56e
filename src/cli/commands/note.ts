/**
 * `autoresearch note "TEXT" [dir] [--json]`: adds a person's note to the study's research journal
 * (../../proposer/journal.ts). Safe while the study runs (another process writes the ledger): the
 * agent sees the note from its next proposal on, marked as a person's, and cannot delete it.
 */
import type { Command } from 'commander';
import { addPersonNote } from '../../loop/journal-store.js';
import { mustGetStudy, mustLoadConfig, mustOpenLedger, UserError } from '../common.js';

export function registerNote(program: Command): void {
  program
    .command('note')
    .description(
      "add a note to the study's research journal (shown to the agent from its next proposal on, and in `status`)",
    )
    .argument(
      '<text>',
      'the note: a hint, a hypothesis or a lesson, e.g. "attention is the bottleneck; try fewer heads"',
    )
    .argument('[dir]', 'workspace', '.')
    .option('--tag <tag>', 'study tag (default: [study].tag)')
    .option('--json', 'print the stored note as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  autoresearch note "the LR sweep is done; look at the architecture"\n  autoresearch note "do not touch the tokenizer" ./my-study --json\n\nNotes are one line (up to 1000 characters). Agents cannot change or delete a person\'s note.',
    )
    .action(async (text: string, dir: string, flags: { tag?: string; json?: boolean }) => {
      const config = mustLoadConfig(dir, { tag: flags.tag });
      const ledger = await mustOpenLedger(config);
      try {
        const study = await mustGetStudy(ledger, config.study.tag);
        const added = await addPersonNote(ledger, study.id, text);
        if (!added.ok) throw new UserError(added.message);
        process.stdout.write(
          flags.json
            ? `${JSON.stringify(added.note)}\n`
            : `noted [${added.note.id}] in study ${study.tag}'s journal; the agent sees it from its next proposal on\n`,
        );
      } finally {
        await ledger.close();
      }
    });
}
