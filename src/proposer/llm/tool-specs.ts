/**
 * The agent's tools: names, parameters (zod, sent as JSON Schema) and descriptions. Names and
 * parameter names are a public contract: models, prompts and scripts rely on them.
 */
import { z } from 'zod';
import type { ToolSpec } from './provider.js';

export const toolArgs = {
  read_file: z.object({
    path: z.string().describe('File path relative to the worktree, e.g. "train.py".'),
    start_line: z.number().int().min(1).optional().describe('First line to show (1-based); default 1.'),
    end_line: z.number().int().min(1).optional().describe('Last line to show; default the end.'),
  }),
  edit_file: z.object({
    path: z.string().describe('An editable file, relative to the worktree.'),
    old_string: z
      .string()
      .describe('Exact text to replace, including whitespace; must occur exactly once (unless replace_all).'),
    new_string: z.string().describe('Replacement text.'),
    replace_all: z.boolean().optional().describe('Replace every occurrence instead of requiring a unique match.'),
  }),
  write_file: z.object({
    path: z.string().describe('An editable file, relative to the worktree.'),
    content: z.string().describe('The complete new content of the file.'),
  }),
  list_files: z.object({
    path: z.string().optional().describe('Directory relative to the worktree; default the root.'),
  }),
  query_results: z.object({
    status: z
      .enum(['keep', 'discard', 'crash', 'timeout', 'rejected'])
      .optional()
      .describe('Only experiments with this status.'),
    sort: z.enum(['recent', 'best']).optional().describe('recent (default): newest first; best: best metric first.'),
    limit: z.number().int().min(1).max(200).optional().describe('How many rows (default 20).'),
  }),
  note: z.object({
    action: z
      .enum(['add', 'replace', 'delete'])
      .describe('add a note; replace (rewrite) or delete one of your notes by its id.'),
    text: z.string().optional().describe('add / replace: the note, one short line (a hypothesis or a lesson).'),
    id: z.string().optional().describe('replace / delete: the note id shown in the journal, e.g. "a3".'),
  }),
  build_on: z.object({
    commit: z
      .string()
      .describe(
        'The commit of a result listed under "Tried by other contributors from this best" (its 12 digits as shown, or all).',
      ),
  }),
  finish: z.object({
    description: z
      .string()
      .describe(
        'One line saying what you changed and why, e.g. "raise LR 0.01 -> 0.04 (loss still falling at the end)".',
      ),
  }),
} as const;

export type ToolName = keyof typeof toolArgs;
export const TOOL_NAMES = Object.keys(toolArgs) as ToolName[];

const DESCRIPTIONS: Record<ToolName, string> = {
  read_file: 'Read a file of the worktree (any file; protected ones are read-only). Returns its text.',
  edit_file:
    'Replace an exact, unique occurrence of old_string with new_string in an editable file. Fails (with the reason) when old_string is not found or found several times.',
  write_file: 'Replace the whole content of an editable file.',
  list_files: 'List the files of the worktree (or of one directory), marking editable and protected ones.',
  query_results: 'Query the results of earlier experiments of this study (status, metric, description).',
  note: 'Keep the research journal: add a short hypothesis or lesson that later experiments should know; rewrite or delete your stale notes. Bounded in size: past the bound, rewrite or delete before adding.',
  build_on:
    'Build on another contributor\'s result listed under "Tried by other contributors" (a near miss, say): applies its change onto your working copy (on top of your edits; all or nothing, a conflict changes nothing). Then read it, edit further if you like, and call finish; it is judged against the current best like any proposal.',
  finish: 'Call once your change is complete: ends the proposal. The harness then commits, runs and judges it.',
};

export function toolSpecs(names: readonly ToolName[] = TOOL_NAMES): ToolSpec[] {
  return names.map((name) => {
    const schema = z.toJSONSchema(toolArgs[name], { target: 'draft-7' }) as Record<string, unknown>;
    delete schema.$schema;
    return { name, description: DESCRIPTIONS[name], inputSchema: schema };
  });
}
