/**
 * What the agent sees: the system prompt (role, rules, program.md's research guidance) and the task
 * message (best so far, budget left, editable files in full, protected files read-only and maybe
 * truncated, the history summary; in a workspace joined to a hub, what other contributors tried
 * from this best and their notes, marked as contributor-written: ./others-section.ts). The coding-agent CLIs get one combined prompt built from the
 * same parts (they read the files themselves).
 *
 * Contract: pure apart from reading the files named in the context from `ctx.worktree`;
 * deterministic for the same context; every prompt is scrubbed of `ctx.secrets`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { scrub } from '../../runner/secrets.js';
import type { CrashReport, ProposalContext } from '../types.js';
import { journalSection } from '../journal.js';
import { summarizeHistory } from './history-summary.js';
import { othersSections } from './others-section.js';
import { plateauSection } from './plateau-section.js';
import { HARNESS_PREFACE, researchGuidance } from './program-guidance.js';

export const EDITABLE_CAP_CHARS = 60_000;
export const PROTECTED_CAP_CHARS = 8_000;

const lowerOrHigher = (ctx: ProposalContext) => (ctx.objective.direction === 'minimize' ? 'lower' : 'higher');

function rules(ctx: ProposalContext, how: 'tools' | 'cli'): string {
  const finish =
    how === 'tools'
      ? 'Use the tools (read_file, edit_file with an exact unique old_string, write_file, list_files, query_results) and end with finish({description}): one line saying what you changed and why.'
      : 'When done, end your final message with one line `DESCRIPTION: <what you changed and why, one line>`.';
  return [
    `You are an autonomous ML research agent. Each experiment you make ONE focused change to the training code; the harness then commits it, runs it under a fixed budget, measures ${ctx.objective.metric} (${lowerOrHigher(ctx)} is better), keeps the change only if it beats the best so far, and reverts it otherwise.`,
    '',
    'Rules:',
    `- Change only the editable file(s): ${ctx.editable.join(', ')}. Everything else is read-only${ctx.protected.length ? `; the protected files (${ctx.protected.join(', ')}) hold the fixed evaluation and can't be changed` : ''}. A change to any other file is rejected.`,
    '- Do not run git, do not commit, do not run the training yourself: the harness does that.',
    '- Keep the code runnable: a crash wastes an experiment. Keep the time budget logic as it is.',
    "- Learn from the history: don't repeat a discarded idea unchanged; build on what was kept; near-misses may deserve a smaller or combined step.",
    ...((ctx.inFlight ?? []).length
      ? [
          '- Other changes are in flight at the same time (listed under History): do not repeat them, and do not edit the lines they change.',
        ]
      : []),
    `- ${finish}`,
  ].join('\n');
}

/**
 * program.md as the research strategy. A program written for an agent that runs the loop itself
 * (the original's) comes as guidance only, under a preface saying the harness does the loop
 * (./program-guidance.ts); any other program comes as written.
 */
function programSection(ctx: ProposalContext): string {
  if (!ctx.program?.trim()) return '';
  const g = researchGuidance(ctx.program);
  return `\n\n# Research program (program.md)\n\n${g.mechanics ? `${HARNESS_PREFACE}\n\n---\n\n` : ''}${g.text}`;
}

export function systemPrompt(ctx: ProposalContext): string {
  return scrub(rules(ctx, 'tools') + programSection(ctx), ctx.secrets);
}

function budgetLine(ctx: ProposalContext): string {
  const parts: string[] = [];
  if (ctx.budget.experimentsLeft !== null) parts.push(`${ctx.budget.experimentsLeft} experiment(s) left`);
  if (ctx.budget.secondsLeft !== null) parts.push(`${(ctx.budget.secondsLeft / 3600).toFixed(1)} h left`);
  return parts.length ? `Budget: ${parts.join(', ')}.` : 'Budget: open-ended (the study runs until stopped).';
}

function bestLine(ctx: ProposalContext): string {
  const e = ctx.history.find((h) => h.number === ctx.best.number);
  const what = !e || e.baseline ? 'the baseline' : `#${e.number}: ${e.description}`;
  return `Current best: ${ctx.objective.metric} = ${ctx.best.value} (${what}, commit ${ctx.best.commit.slice(0, 7)}).`;
}

function fileBlock(ctx: ProposalContext, rel: string, cap: number): string {
  const abs = join(ctx.worktree, rel);
  if (!existsSync(abs)) return `## ${rel}\n(does not exist)`;
  const text = readFileSync(abs, 'utf8');
  const cut = text.length > cap;
  const body = cut ? text.slice(0, cap) : text;
  const note = cut ? `\n[truncated at ${cap} of ${text.length} characters; read_file shows the rest]` : '';
  return `## ${rel}\n\`\`\`\n${body}${body.endsWith('\n') ? '' : '\n'}\`\`\`${note}`;
}

function header(ctx: ProposalContext): string {
  return [`Experiment #${ctx.number}.`, bestLine(ctx), budgetLine(ctx)].join('\n');
}

function historySection(ctx: ProposalContext): string {
  return `# History\n\n${summarizeHistory(ctx.history, ctx.objective, {}, ctx.inFlight)}`;
}

function crashSection(crash: CrashReport): string {
  return [
    `# Your change crashed (repair attempt ${crash.attempt})`,
    '',
    `Change: ${crash.description}`,
    `Reason: ${crash.reason}`,
    'Log tail:',
    '```',
    crash.logTail.trimEnd().slice(-4000),
    '```',
    '',
    'The worktree holds your crashed change. Fix the bug so that the same idea runs; do not switch to another idea.',
    'If the idea cannot work at all, finish with a description starting with "give up:" and the reason.',
  ].join('\n');
}

/** The task message for the tool-using agent. */
export function taskPrompt(ctx: ProposalContext, crash?: CrashReport): string {
  const parts = [
    header(ctx),
    '',
    '# Editable files',
    '',
    ...ctx.editable.map((f) => fileBlock(ctx, f, EDITABLE_CAP_CHARS)),
  ];
  if (ctx.protected.length)
    parts.push(
      '',
      '# Protected files (read-only)',
      '',
      ...ctx.protected.map((f) => fileBlock(ctx, f, PROTECTED_CAP_CHARS)),
    );
  parts.push('', historySection(ctx), '');
  const plateau = crash ? '' : plateauSection(ctx);
  if (plateau) parts.push(plateau, '');
  const journal = journalSection(ctx.journal, !crash && (ctx.journal?.maxChars ?? 0) > 0);
  if (journal) parts.push(journal, '');
  if (!crash) parts.push(...othersSections(ctx, { buildOn: true }));
  if (crash) parts.push(crashSection(crash), '', 'Fix it now with the tools, then call finish.');
  else parts.push('Make one change now: edit the editable file(s) with the tools, then call finish({description}).');
  return scrub(parts.join('\n'), ctx.secrets);
}

/** One prompt for a coding-agent CLI (it reads the files itself with its own tools). */
export function cliPrompt(ctx: ProposalContext, crash?: CrashReport): string {
  const parts = [
    rules(ctx, 'cli') + programSection(ctx),
    '',
    '# Task',
    '',
    header(ctx),
    `Editable: ${ctx.editable.join(', ')}. Read them first.`,
    '',
    historySection(ctx),
    '',
  ];
  // CLIs read the journal; they have no note tool (a notes file would be an edit outside the
  // editable files, rejected by the guard), so theirs is read-only.
  const plateau = crash ? '' : plateauSection(ctx);
  if (plateau) parts.push(plateau, '');
  const journal = journalSection(ctx.journal, false);
  if (journal) parts.push(journal, '');
  if (!crash) parts.push(...othersSections(ctx));
  if (crash) parts.push(crashSection(crash), '', 'Fix it now, then end with the DESCRIPTION line.');
  else parts.push('Make one change now, then end with the DESCRIPTION line.');
  return scrub(parts.join('\n'), ctx.secrets);
}
