/**
 * The `anthropic` and `openai` proposers: a tool-using agent (agent.ts) over an LlmProvider, with
 * the prompt of prompt.ts. Implements propose, repair (fix a crashed run of the same idea) and
 * preflight (key, base URL, model). See ../types.ts for the Proposer contract.
 *
 * Determinism: the prompt is a pure function of the context; the model's sampling is not under
 * our control (set [proposer].temperature = 0 for the most repeatable answers).
 */
import type { CrashReport, ProposalContext, ProposalResult, Proposer } from '../types.js';
import { runAgent, type AgentSettings } from './agent.js';
import type { LlmProvider } from './provider.js';
import { systemPrompt, taskPrompt } from './prompt.js';
import { scrubSecrets } from './scrub.js';
import { ToolBox } from './toolbox.js';

export class LlmProposer implements Proposer {
  readonly name: string;
  private readonly provider: LlmProvider;
  private readonly settings: AgentSettings;

  constructor(provider: LlmProvider, settings: AgentSettings) {
    this.provider = provider;
    this.settings = settings;
    this.name = `${provider.provider}:${provider.model}`;
  }

  propose(ctx: ProposalContext, signal?: AbortSignal): Promise<ProposalResult> {
    return this.run(ctx, undefined, signal);
  }

  repair(ctx: ProposalContext, crash: CrashReport, signal?: AbortSignal): Promise<ProposalResult> {
    return this.run(ctx, crash, signal);
  }

  async preflight(signal?: AbortSignal): Promise<string | null> {
    try {
      return await this.provider.preflight(signal);
    } catch (err) {
      return scrubSecrets(`${this.name}: preflight failed: ${(err as Error).message}`, this.settings.secrets ?? []);
    }
  }

  private async run(
    ctx: ProposalContext,
    crash: CrashReport | undefined,
    signal?: AbortSignal,
  ): Promise<ProposalResult> {
    if (signal?.aborted) return { kind: 'failed', reason: 'aborted' };
    let system: string;
    let task: string;
    try {
      system = systemPrompt(ctx);
      task = taskPrompt(ctx, crash);
    } catch (err) {
      return { kind: 'failed', reason: `cannot build the prompt: ${(err as Error).message}` };
    }
    const toolbox = new ToolBox({
      worktree: ctx.worktree,
      editable: ctx.editable,
      protected: ctx.protected,
      history: ctx.history,
      objective: ctx.objective,
      ...(ctx.journal && !crash ? { journal: ctx.journal } : {}),
      ...(ctx.others?.fetchChange && !crash
        ? { others: { tried: ctx.others.tried, fetchChange: ctx.others.fetchChange } }
        : {}),
    });
    const result = await runAgent(
      this.provider,
      this.settings,
      { system, task, toolbox, ...(ctx.secrets ? { secrets: ctx.secrets } : {}) },
      signal,
    );
    const journal = toolbox.journalOps();
    return journal.length && (result.kind === 'ok' || result.kind === 'failed') ? { ...result, journal } : result;
  }
}
