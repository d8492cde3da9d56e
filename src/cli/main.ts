#!/usr/bin/env node
/**
 * The `autoresearch` command line: argv -> command. No logic here beyond wiring and turning
 * `UserError`s into one clear line on stderr (stack traces only with AUTORESEARCH_DEBUG=1).
 */
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { registerAblate } from './commands/ablate.js';
import { registerDashboard } from './commands/dashboard.js';
import { registerDemo } from './commands/demo.js';
import { registerHeldout } from './commands/heldout.js';
import { registerHub } from './commands/hub.js';
import { registerInit } from './commands/init.js';
import { registerJoin } from './commands/join.js';
import { registerNote } from './commands/note.js';
import { registerPlot } from './commands/plot.js';
import { registerPublish } from './commands/publish.js';
import { registerReport } from './commands/report.js';
import { registerResults } from './commands/results.js';
import { registerRun } from './commands/run.js';
import { registerStatus } from './commands/status.js';
import { registerTransfer } from './commands/transfer.js';
import { UserError } from './common.js';
import { explainSystemError } from './system-errors.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command()
  .name('autoresearch')
  .description(
    'AI agents doing ML research on their own: a proposer edits the training script, the harness\n' +
      'runs it under a fixed budget, keeps what improves the metric, resets the rest, and records everything.',
  )
  .version(pkg.version)
  .showHelpAfterError('(run with --help for usage)')
  .addHelpText(
    'after',
    `
Quick start:
  autoresearch demo                    # a tiny GPT on the CPU, improved by the loop (~4.5 min)
  autoresearch init myproj --template custom --command "python3 train.py" --editable train.py
  autoresearch run myproj --max-experiments 20
  autoresearch results myproj          # results.tsv: commit, metric, memory_gb, status, description
  autoresearch status myproj
  autoresearch dashboard myproj        # a live web page on the study (http://127.0.0.1:8686/)
  autoresearch report myproj           # report.html: settings, chart, kept chain, cost

Concepts: a study lives on branch autoresearch/<tag>; every experiment is recorded in
.autoresearch/ledger.db (kept, discarded, crashed and rejected ones, with diffs and logs).`,
  );

registerInit(program);
registerRun(program);
registerStatus(program);
registerNote(program);
registerResults(program);
registerPlot(program);
registerDashboard(program);
registerReport(program);
registerDemo(program);
registerHub(program);
registerPublish(program);
registerJoin(program);
registerAblate(program);
registerTransfer(program);
registerHeldout(program);

program.exitOverride();
try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = report(err);
}

function report(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode; // commander printed the message already
  if (err instanceof UserError) {
    process.stderr.write(`autoresearch: ${err.message}\n`);
    return err.exitCode;
  }
  const known = explainSystemError(err); // a full disk, a missing git: not a bug
  if (known) {
    process.stderr.write(`autoresearch: ${known.message}\n`);
    if (process.env.AUTORESEARCH_DEBUG) process.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
    return known.exitCode;
  }
  const e = err as Error;
  process.stderr.write(`autoresearch: internal error: ${e?.message ?? String(err)}\n`);
  if (process.env.AUTORESEARCH_DEBUG) process.stderr.write(`${e?.stack ?? ''}\n`);
  else process.stderr.write('(set AUTORESEARCH_DEBUG=1 for the stack trace, and please report it)\n');
  return 70;
}
