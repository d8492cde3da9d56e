/**
 * Coding-agent CLIs (claude, codex, pi, gemini, opencode, aider) as proposers.
 * `createAgentCliProposer` never throws; the CLI's presence is checked by `preflight`.
 */
import type { Config } from '../../config/load.js';
import type { Proposer } from '../types.js';
import { ADAPTERS, type AgentCliKind } from './adapters.js';
import { AgentCliProposer } from './cli-proposer.js';

export { ADAPTERS, AGENT_CLI_KINDS, isAgentCliKind } from './adapters.js';
export type { AgentCliAdapter, AgentCliKind, CliInvocation } from './adapters.js';
export { AgentCliProposer, extractDescription } from './cli-proposer.js';
export { runCli } from './spawn.js';
export { findExecutable } from '../../runner/which.js';

export interface AgentCliDeps {
  killGraceMs?: number;
}

export function createAgentCliProposer(
  kind: AgentCliKind,
  p: Config['proposer'],
  env: Readonly<Record<string, string | undefined>>,
  deps: AgentCliDeps = {},
): { ok: true; proposer: Proposer; note?: string } | { ok: false; message: string } {
  const adapter = ADAPTERS[kind];
  const command =
    p.command === undefined ? [adapter.binary] : typeof p.command === 'string' ? [p.command] : [...p.command];
  const proposer = new AgentCliProposer({
    adapter,
    command,
    ...(p.model ? { model: p.model } : {}),
    timeoutMs: p.timeout_s * 1000,
    env,
    ...(p.api_key_env ? { secretNames: [p.api_key_env] } : {}),
    ...(deps.killGraceMs !== undefined ? { killGraceMs: deps.killGraceMs } : {}),
  });
  return {
    ok: true,
    proposer,
    note: `proposer: ${kind} CLI (${command.join(' ')})${p.model ? `, model ${p.model}` : ''}, up to ${p.timeout_s} s per proposal`,
  };
}
