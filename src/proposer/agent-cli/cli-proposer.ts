/**
 * A coding-agent CLI as a Proposer: runs it in the worktree with a prompt built from program.md
 * and the history (../llm/prompt.ts), under a timeout, killed as a process group on timeout or
 * abort. The CLI only edits files; the harness validates, commits, runs and judges.
 *
 * Contract (see ../types.ts): never throws for anything the CLI does. The description is the
 * CLI's last `DESCRIPTION: ...` line, else a summary of its diff ("edit train.py (+3 -1)").
 * Failures (not installed, non-zero exit, timeout, no editable file changed) are `failed` values;
 * new files the CLI left outside the editable ones (caches, notes) are removed; edits to existing
 * non-editable files are left for the harness to reject and record.
 */
import { scrub, secretValues, withoutSecrets } from '../../runner/secrets.js';
import { cliPrompt } from '../llm/prompt.js';
import { scrubSecrets } from '../llm/scrub.js';
import type { CrashReport, ProposalContext, ProposalResult, Proposer } from '../types.js';
import type { AgentCliAdapter } from './adapters.js';
import { runCli } from './spawn.js';
import { removeFiles, snapshotTree, strayFiles, summariseChanges } from './tree-snapshot.js';
import { findExecutable } from '../../runner/which.js';

export interface AgentCliOptions {
  adapter: AgentCliAdapter;
  /** argv prefix: the executable (found on PATH or [proposer].command) and any fixed arguments. */
  command: string[];
  model?: string;
  timeoutMs: number;
  /**
   * The harness's environment. The child gets it without any secret-named variable except the
   * adapter's own `keys` (runner/secrets.ts), plus the adapter's variables.
   */
  env: Readonly<Record<string, string | undefined>>;
  /** Names that are secret besides the rule ([proposer].api_key_env). */
  secretNames?: readonly string[];
  killGraceMs?: number;
}

export function extractDescription(text: string): string | null {
  const lines = text.split('\n').map((l) => /^[\s>*_#`-]*DESCRIPTION[*_`]*\s*:\s*(.+)$/i.exec(l)?.[1]);
  const last = lines.filter((l): l is string => !!l).at(-1);
  const clean = last?.replace(/[*`]+/g, '').replace(/\s+/g, ' ').trim();
  return clean ? clean : null;
}

const lastLines = (s: string, n = 3) => s.trim().split('\n').slice(-n).join(' | ').slice(-400);

export class AgentCliProposer implements Proposer {
  readonly name: string;
  private readonly o: AgentCliOptions;

  constructor(o: AgentCliOptions) {
    this.o = o;
    this.name = o.model ? `${o.adapter.kind}:${o.model}` : o.adapter.kind;
  }

  propose(ctx: ProposalContext, signal?: AbortSignal): Promise<ProposalResult> {
    return this.run(ctx, undefined, signal);
  }

  repair(ctx: ProposalContext, crash: CrashReport, signal?: AbortSignal): Promise<ProposalResult> {
    return this.run(ctx, crash, signal);
  }

  async preflight(): Promise<string | null> {
    if (findExecutable(this.o.command[0]!, this.o.env.PATH)) return null;
    const { kind, install } = this.o.adapter;
    return `install ${kind}: ${install} (or set [proposer].command)`;
  }

  /** Scrubs every secret of the harness (named) and anything that looks like a key. */
  private scrub(text: string): string {
    return scrubSecrets(scrub(text, secretValues(this.o.env, this.o.secretNames)));
  }

  /** The CLI's environment: no secret except the keys of its own kind. */
  childEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
    const keep = this.o.adapter.keys;
    return {
      ...withoutSecrets(this.o.env, { keep, ...(this.o.secretNames ? { extraNames: this.o.secretNames } : {}) }),
      ...extra,
    };
  }

  private async run(
    ctx: ProposalContext,
    crash: CrashReport | undefined,
    signal?: AbortSignal,
  ): Promise<ProposalResult> {
    const { adapter } = this.o;
    if (signal?.aborted) return { kind: 'failed', reason: 'aborted' };
    const exe = findExecutable(this.o.command[0]!, this.o.env.PATH);
    if (!exe)
      return {
        kind: 'failed',
        reason: `${this.o.command[0]} not found: install ${adapter.kind}: ${adapter.install} (or set [proposer].command)`,
      };
    const before = snapshotTree(ctx.worktree, ctx.editable);
    const inv = adapter.invocation({
      prompt: cliPrompt(ctx, crash),
      ...(this.o.model ? { model: this.o.model } : {}),
      editable: ctx.editable,
      protected: ctx.protected,
    });
    const res = await runCli(
      {
        argv: [exe, ...this.o.command.slice(1), ...inv.args],
        cwd: ctx.worktree,
        env: this.childEnv(inv.env),
        ...(inv.stdin !== undefined ? { stdin: inv.stdin } : {}),
        timeoutMs: this.o.timeoutMs,
        ...(this.o.killGraceMs !== undefined ? { killGraceMs: this.o.killGraceMs } : {}),
      },
      signal,
    );
    const after = snapshotTree(ctx.worktree, ctx.editable);
    const stray = strayFiles(before, after, ctx.editable);
    removeFiles(ctx.worktree, stray);
    const parsed = adapter.parseOutput?.(res.stdout) ?? { text: res.stdout };
    const usage = parsed.usage;
    const failed = (reason: string): ProposalResult => ({
      kind: 'failed',
      reason: this.scrub(reason),
      ...(usage ? { usage } : {}),
    });

    if (res.aborted || signal?.aborted) return failed('aborted');
    if (res.spawnError) return failed(`cannot run ${exe}: ${res.spawnError}`);
    if (res.timedOut)
      return failed(`${adapter.kind} timed out after ${Math.round(this.o.timeoutMs / 1000)} s ([proposer].timeout_s)`);
    if (res.exitCode !== 0) {
      return failed(
        `${adapter.kind} exited with ${res.exitCode ?? res.signal}: ${lastLines(res.stderr || parsed.text) || '(no output)'}`,
      );
    }
    if (parsed.error) return failed(parsed.error);
    const { changed, summary } = summariseChanges(ctx.worktree, before);
    if (changed.length === 0)
      return failed(
        `${adapter.kind} changed no editable file (${ctx.editable.join(', ')}): ${lastLines(parsed.text) || '(no output)'}`,
      );
    const description = extractDescription(parsed.text) ?? summary;
    if (/^give up\b/i.test(description))
      return failed(`the agent gave up: ${description.replace(/^give up:?\s*/i, '')}`);
    return {
      kind: 'ok',
      description,
      change: {
        agent: adapter.kind,
        ...(this.o.model ? { model: this.o.model } : {}),
        files: changed,
        diffSummary: summary,
        removedStrayFiles: stray,
        durationMs: res.durationMs,
      },
      ...(usage ? { usage } : {}),
    };
  }
}
