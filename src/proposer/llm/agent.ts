/**
 * The tool-using agent loop, written once for every provider: send the conversation, run the
 * tool calls, send the results back, until the model calls `finish` or the turn limit is hit.
 *
 * Contract: never throws for anything the model or the API does. A malformed or empty answer
 * (no tool call, bad JSON arguments, unknown tool, a refused write) goes back to the model as
 * error text and costs a turn. API errors are retried per the retry policy (429/5xx/timeouts/
 * connection errors); when they are spent on such a transient error the result is
 * `{kind: 'unavailable'}` (an outage: the loop waits and asks again); any other API error ends as
 * `{kind: 'failed', reason}`; aborts as reason 'aborted'.
 * Tokens and cost of every call are summed into `usage`, failures included.
 */
import { scrub, type Secret } from '../../runner/secrets.js';
import type { ProposalResult, ProposalUsage } from '../types.js';
import { LlmError } from './errors.js';
import { costUsd, type Price } from './prices.js';
import type { ChatMessage, LlmProvider, ToolResult } from './provider.js';
import { withRetries, type RetryDeps, type RetryPolicy } from './retry.js';
import { scrubSecrets } from './scrub.js';
import { TranscriptRecorder } from './transcript.js';
import type { ToolBox } from './toolbox.js';
import { toolSpecs } from './tool-specs.js';

export interface AgentSettings {
  maxTurns: number;
  maxTokens: number;
  temperature?: number;
  retry: RetryPolicy;
  retryDeps: RetryDeps;
  prices?: Readonly<Record<string, Price>>;
  /** Values scrubbed from any reason returned (API keys). */
  secrets?: readonly string[];
}

export interface AgentTask {
  system: string;
  task: string;
  toolbox: ToolBox;
  /** Scrubbed from every tool result before the model sees it (runner/secrets.ts). */
  secrets?: readonly Secret[];
}

export async function runAgent(
  provider: LlmProvider,
  settings: AgentSettings,
  job: AgentTask,
  signal?: AbortSignal,
): Promise<ProposalResult> {
  const tokens = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
  const usage = (): ProposalUsage => ({
    inputTokens: tokens.inputTokens,
    outputTokens: tokens.outputTokens,
    costUsd: costUsd(provider.model, tokens, settings.prices),
  });
  const failed = (reason: string): ProposalResult => ({
    kind: 'failed',
    reason: scrubSecrets(reason, settings.secrets ?? []),
    usage: usage(),
  });
  const messages: ChatMessage[] = [{ role: 'user', content: job.task }];
  const tools = toolSpecs(job.toolbox.toolNames());
  let calls = 0;
  const transcript = new TranscriptRecorder((t) => scrubSecrets(scrub(t, job.secrets), settings.secrets ?? []));

  for (let turn = 1; turn <= settings.maxTurns; turn++) {
    if (signal?.aborted) return failed('aborted');
    let res: Awaited<ReturnType<LlmProvider['complete']>>;
    try {
      res = await withRetries(
        () =>
          provider.complete(
            {
              system: job.system,
              messages,
              tools,
              maxTokens: settings.maxTokens,
              ...(settings.temperature !== undefined ? { temperature: settings.temperature } : {}),
            },
            signal,
          ),
        settings.retry,
        settings.retryDeps,
        signal,
      );
    } catch (err) {
      if (!(err instanceof LlmError)) throw err;
      if (err.kind === 'aborted' || signal?.aborted) return failed('aborted');
      // Retries spent on an outage (network, 5xx, 429, timeouts): not this proposal's fault.
      if (err.retryable)
        return {
          kind: 'unavailable',
          reason: scrubSecrets(`${provider.provider} API unavailable: ${err.message}`, settings.secrets ?? []),
          usage: usage(),
        };
      return failed(`${provider.provider} API error: ${err.message}`);
    }
    tokens.inputTokens += res.usage.inputTokens;
    tokens.outputTokens += res.usage.outputTokens;
    tokens.cacheReadTokens += res.usage.cacheReadTokens ?? 0;
    tokens.cacheWriteTokens += res.usage.cacheWriteTokens ?? 0;
    messages.push({ role: 'assistant', text: res.text, toolCalls: res.toolCalls });
    const last = turn === settings.maxTurns - 1 ? ' This is your last turn: call finish now.' : '';

    if (res.toolCalls.length === 0) {
      transcript.record(turn, res.text, []);
      const why = /length|max_tokens/.test(res.stopReason)
        ? 'Your answer was cut off at the token limit and had no complete tool call.'
        : 'You did not call any tool.';
      messages.push({
        role: 'user',
        content: `${why} Make your change with edit_file or write_file, then call finish({description}).${last}`,
      });
      continue;
    }

    const results: ToolResult[] = [];
    let finished: { description: string } | undefined;
    for (const call of res.toolCalls) {
      calls++;
      if (finished) {
        results.push({
          callId: call.id,
          name: call.name,
          content: 'ignored: finish was already called',
          isError: true,
        });
        continue;
      }
      const out = await job.toolbox.runAsync(call);
      results.push({
        callId: call.id,
        name: call.name,
        content: scrub(out.content, job.secrets),
        isError: out.isError,
      });
      finished = out.finished;
    }
    transcript.record(turn, res.text, res.toolCalls, new Set(results.filter((r) => r.isError).map((r) => r.callId)));
    if (finished) {
      if (/^give up\b/i.test(finished.description))
        return failed(`the agent gave up: ${finished.description.replace(/^give up:?\s*/i, '')}`);
      return {
        kind: 'ok',
        description: finished.description,
        change: {
          agent: provider.provider,
          model: provider.model,
          turns: turn,
          toolCalls: calls,
          files: job.toolbox.changedFiles(),
          transcript: transcript.summary(),
        },
        usage: usage(),
      };
    }
    messages.push({ role: 'tool', results, ...(last ? { note: last.trim() } : {}) });
  }
  const changed = job.toolbox.changedFiles();
  return failed(
    `no finish after ${settings.maxTurns} turns${changed.length ? ` (changed ${changed.join(', ')} without finishing)` : ''}`,
  );
}
