/**
 * Runs the agent's tool calls: parses the model's raw JSON arguments, validates them against the
 * tool's schema, dispatches to the file tools / history query / finish.
 *
 * Contract: `run` never throws for anything the model sent (unknown tool, bad JSON, wrong
 * arguments, a refused write): it returns error text for the model. `finish` is accepted only
 * when an editable file differs from its content when the toolbox was made (so a proposal always
 * changes something) and the description is a non-empty line.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Experiment } from '../../ledger/types.js';
import {
  editFileTool,
  listFilesTool,
  readFileTool,
  writeFileTool,
  type FileScope,
  type ToolOutput,
} from './file-tools.js';
import { type BuildOnSource, buildOnTool } from './build-on.js';
import { JournalDraft, type Journal, type JournalOp } from '../journal.js';
import { queryResults, type Objective } from './history-summary.js';
import type { ToolCall } from './provider.js';
import { TOOL_NAMES, toolArgs, type ToolName } from './tool-specs.js';

export interface ToolRun extends ToolOutput {
  /** Set when the call was an accepted `finish`. */
  finished?: { description: string };
}

export interface ToolBoxOptions extends FileScope {
  history: readonly Experiment[];
  objective: Objective;
  /** The research journal; with a bound > 0 the agent gets the `note` tool. */
  journal?: Journal;
  /**
   * Other contributors' results (a workspace joined to a hub): with a `fetchChange` and at least
   * one listed commit the agent gets the `build_on` tool (./build-on.ts).
   */
  others?: BuildOnSource;
}

export class ToolBox {
  private readonly opts: ToolBoxOptions;
  private readonly start: Map<string, string | null>;
  private readonly journal: JournalDraft | null;

  constructor(opts: ToolBoxOptions) {
    this.opts = opts;
    this.start = new Map(opts.editable.map((f) => [f, this.read(f)]));
    this.journal = opts.journal && opts.journal.maxChars > 0 ? new JournalDraft(opts.journal) : null;
  }

  /** The tools this toolbox offers (`note` only with a journal, `build_on` only with others' results). */
  toolNames(): ToolName[] {
    const buildOn = (this.opts.others?.tried ?? []).some((t) => t.commit);
    return TOOL_NAMES.filter((n) => (n !== 'note' || this.journal !== null) && (n !== 'build_on' || buildOn));
  }

  /**
   * `run`, plus the tools that wait on the hub and git (`build_on`); what the agent loop calls.
   * Same contract as `run`: never throws for anything the model sent.
   */
  async runAsync(call: ToolCall): Promise<ToolRun> {
    if (call.name !== 'build_on' || !this.toolNames().includes('build_on')) return this.run(call);
    const parsed = this.parse('build_on', call.arguments);
    if ('content' in parsed) return parsed;
    try {
      return await buildOnTool(this.opts, this.opts.others!, (parsed.args as { commit: string }).commit);
    } catch (e) {
      return { content: `build_on failed: ${(e as Error).message}`, isError: true };
    }
  }

  /** Net changes the agent made to the journal (empty without one). */
  journalOps(): JournalOp[] {
    return this.journal?.ops() ?? [];
  }

  /** Editable files whose content differs from the start. */
  changedFiles(): string[] {
    return [...this.start].filter(([f, before]) => this.read(f) !== before).map(([f]) => f);
  }

  run(call: ToolCall): ToolRun {
    if (!this.toolNames().includes(call.name as ToolName)) {
      return { content: `unknown tool "${call.name}"; available tools: ${this.toolNames().join(', ')}`, isError: true };
    }
    const name = call.name as ToolName;
    const parsed = this.parse(name, call.arguments);
    if ('content' in parsed) return parsed;
    try {
      return this.dispatch(name, parsed.args);
    } catch (e) {
      // File system errors (permissions, a directory where a file was expected): tell the model.
      return { content: `${name} failed: ${(e as Error).message}`, isError: true };
    }
  }

  private parse(name: ToolName, args: string): { args: Record<string, unknown> } | ToolRun {
    let raw: unknown;
    try {
      raw = args.trim() === '' ? {} : JSON.parse(args);
    } catch (e) {
      return {
        content: `the arguments of ${name} are not valid JSON (${(e as Error).message}); send one JSON object`,
        isError: true,
      };
    }
    const parsed = toolArgs[name].safeParse(raw);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(arguments)'}: ${i.message}`).join('; ');
      return { content: `invalid arguments for ${name}: ${issues}`, isError: true };
    }
    return { args: parsed.data as Record<string, unknown> };
  }

  private dispatch(name: ToolName, a: Record<string, unknown>): ToolRun {
    const scope: FileScope = this.opts;
    switch (name) {
      case 'read_file':
        return readFileTool(scope, a as Parameters<typeof readFileTool>[1]);
      case 'edit_file':
        return editFileTool(scope, a as Parameters<typeof editFileTool>[1]);
      case 'write_file':
        return writeFileTool(scope, a as Parameters<typeof writeFileTool>[1]);
      case 'list_files':
        return listFilesTool(scope, a as Parameters<typeof listFilesTool>[1]);
      case 'query_results':
        return {
          content: queryResults(this.opts.history, this.opts.objective, a as Parameters<typeof queryResults>[2]),
          isError: false,
        };
      case 'note':
        return this.note(a as { action: 'add' | 'replace' | 'delete'; text?: string; id?: string });
      case 'build_on':
        return { content: 'build_on waits on the hub: call it through runAsync', isError: true };
      case 'finish':
        return this.finish(String(a.description));
    }
  }

  private note(a: { action: 'add' | 'replace' | 'delete'; text?: string; id?: string }): ToolRun {
    const j = this.journal;
    if (!j) return { content: 'the journal is off in this study', isError: true };
    if (a.action !== 'add' && !a.id) return { content: `${a.action} needs the id of a note, e.g. "a3"`, isError: true };
    if (a.action !== 'delete' && a.text === undefined) return { content: `${a.action} needs text`, isError: true };
    const r =
      a.action === 'add' ? j.add(a.text!) : a.action === 'replace' ? j.replace(a.id!, a.text!) : j.delete(a.id!);
    return { content: r.message, isError: !r.ok };
  }

  private finish(description: string): ToolRun {
    const line = description.replace(/\s+/g, ' ').trim();
    if (!line) return { content: 'description must be one non-empty line saying what you changed', isError: true };
    if (/^give up\b/i.test(line)) return { content: 'ok', isError: false, finished: { description: line } };
    if (this.changedFiles().length === 0) {
      return {
        content: `no editable file (${this.opts.editable.join(', ')}) has changed yet; make your change with edit_file or write_file, then call finish`,
        isError: true,
      };
    }
    return { content: 'ok', isError: false, finished: { description: line } };
  }

  private read(rel: string): string | null {
    const abs = join(this.opts.worktree, rel);
    return existsSync(abs) ? readFileSync(abs, 'utf8') : null;
  }
}
