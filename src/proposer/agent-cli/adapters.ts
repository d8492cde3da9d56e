/**
 * Coding-agent CLIs as proposers: one small adapter each (argv, env, how the prompt is passed,
 * which tools are allowed, how to read its output). The CLI only edits files in the worktree;
 * the harness validates, commits, runs and judges.
 *
 * Contract of an adapter: `invocation` is pure (no I/O); `parseOutput` never throws and returns
 * the agent's final text (searched for the DESCRIPTION line) plus usage when the CLI reports it.
 */
import type { ProposalUsage } from '../types.js';

export interface AdapterInput {
  prompt: string;
  model?: string;
  editable: readonly string[];
  protected: readonly string[];
}

export interface CliInvocation {
  args: string[];
  /** Prompt on standard input (else it is in args). */
  stdin?: string;
  env?: Record<string, string>;
}

export interface ParsedOutput {
  text: string;
  usage?: ProposalUsage;
  /** The CLI reported a failure in its output (e.g. claude's is_error). */
  error?: string;
}

export interface AgentCliAdapter {
  readonly kind: string;
  /**
   * The secret-named variables (runner/secrets.ts) this CLI may receive: its own provider keys.
   * Every other secret of the harness (HF_TOKEN, GITHUB_TOKEN, AWS_*, other providers' keys,
   * [proposer].api_key_env) is removed from the CLI's environment.
   */
  readonly keys: readonly string[];
  /** Executable looked up on PATH when [proposer].command is not set. */
  readonly binary: string;
  /** How to install it, for the preflight message. */
  readonly install: string;
  invocation(input: AdapterInput): CliInvocation;
  parseOutput?(stdout: string): ParsedOutput;
}

const model = (m: string | undefined, flag: string) => (m ? [flag, m] : []);

/** Keys of the providers a multi-provider CLI (pi, opencode, aider) can be pointed at with a model name. */
const PROVIDER_KEYS = [
  'ANTHROPIC_API_KEY',
  'OPENAI_API_KEY',
  'GEMINI_API_KEY',
  'GOOGLE_API_KEY',
  'OPENROUTER_API_KEY',
  'GROQ_API_KEY',
  'MISTRAL_API_KEY',
  'DEEPSEEK_API_KEY',
  'XAI_API_KEY',
  'CEREBRAS_API_KEY',
  'TOGETHER_API_KEY',
  'FIREWORKS_API_KEY',
];

/** Claude Code headless: prompt on stdin, JSON result (text, cost, tokens), file tools only. */
const claude: AgentCliAdapter = {
  kind: 'claude',
  binary: 'claude',
  keys: ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'CLAUDE_CODE_OAUTH_TOKEN'],
  install: 'npm i -g @anthropic-ai/claude-code',
  invocation: (i) => ({
    args: [
      '-p',
      '--output-format',
      'json',
      '--tools',
      'Read,Edit,Write',
      '--allowedTools',
      'Read,Edit,Write',
      '--permission-mode',
      'acceptEdits',
      ...model(i.model, '--model'),
    ],
    stdin: i.prompt,
    env: { CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' },
  }),
  parseOutput(stdout) {
    const line = stdout
      .trim()
      .split('\n')
      .reverse()
      .find((l) => l.trim().startsWith('{'));
    try {
      const r = JSON.parse(line ?? '') as {
        result?: string;
        is_error?: boolean;
        subtype?: string;
        total_cost_usd?: number;
        usage?: {
          input_tokens?: number;
          output_tokens?: number;
          cache_creation_input_tokens?: number;
          cache_read_input_tokens?: number;
        };
      };
      const u = r.usage ?? {};
      return {
        text: r.result ?? '',
        usage: {
          inputTokens: (u.input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0),
          outputTokens: u.output_tokens ?? 0,
          ...(typeof r.total_cost_usd === 'number' ? { costUsd: r.total_cost_usd } : {}),
        },
        ...(r.is_error ? { error: `claude: ${r.subtype ?? 'error'}: ${(r.result ?? '').slice(0, 300)}` } : {}),
      };
    } catch {
      return { text: stdout };
    }
  },
};

/** OpenAI Codex CLI: `codex exec` with workspace-write sandbox (edits, no network). */
const codex: AgentCliAdapter = {
  kind: 'codex',
  binary: 'codex',
  keys: ['OPENAI_API_KEY', 'CODEX_API_KEY'],
  install: 'npm i -g @openai/codex',
  invocation: (i) => ({
    args: [
      'exec',
      '--sandbox',
      'workspace-write',
      '--skip-git-repo-check',
      '--color',
      'never',
      ...model(i.model, '-m'),
      i.prompt,
    ],
  }),
};

/**
 * pi coding agent: print mode, file tools only. A model "provider/model" selects the provider too
 * (custom servers are declared in ~/.pi/agent/models.json).
 */
const pi: AgentCliAdapter = {
  kind: 'pi',
  binary: 'pi',
  keys: PROVIDER_KEYS,
  install: 'npm i -g @mariozechner/pi-coding-agent',
  invocation: (i) => {
    const slash = i.model?.indexOf('/') ?? -1;
    const which =
      i.model && slash > 0
        ? ['--provider', i.model.slice(0, slash), '--model', i.model.slice(slash + 1)]
        : model(i.model, '--model');
    return { args: ['-p', '--tools', 'read,edit,write', ...which, i.prompt] };
  },
};

/** Gemini CLI headless: edits auto-approved, shell commands not. */
const gemini: AgentCliAdapter = {
  kind: 'gemini',
  binary: 'gemini',
  keys: ['GEMINI_API_KEY', 'GOOGLE_API_KEY'],
  install: 'npm i -g @google/gemini-cli',
  invocation: (i) => ({ args: ['--approval-mode', 'auto_edit', ...model(i.model, '-m'), '-p', i.prompt] }),
};

/** opencode: `opencode run`; the model as provider/model. */
const opencode: AgentCliAdapter = {
  kind: 'opencode',
  binary: 'opencode',
  keys: PROVIDER_KEYS,
  install: 'npm i -g opencode-ai',
  invocation: (i) => ({ args: ['run', ...model(i.model, '-m'), i.prompt] }),
};

/** aider: one message, the editable files in the chat, protected ones read-only; never commits. */
const aider: AgentCliAdapter = {
  kind: 'aider',
  binary: 'aider',
  keys: PROVIDER_KEYS,
  install: 'pipx install aider-chat',
  invocation: (i) => ({
    args: [
      '--yes-always',
      '--no-auto-commits',
      '--no-dirty-commits',
      '--no-gitignore',
      '--no-check-update',
      '--no-show-release-notes',
      '--analytics-disable',
      '--no-pretty',
      '--no-stream',
      '--map-tokens',
      '0',
      '--chat-history-file',
      '/dev/null',
      '--input-history-file',
      '/dev/null',
      ...model(i.model, '--model'),
      ...i.protected.flatMap((p) => ['--read', p]),
      '--message',
      i.prompt,
      ...i.editable,
    ],
  }),
};

export const ADAPTERS = { claude, codex, pi, gemini, opencode, aider } as const;
export type AgentCliKind = keyof typeof ADAPTERS;
export const AGENT_CLI_KINDS = Object.keys(ADAPTERS) as AgentCliKind[];

export function isAgentCliKind(kind: string): kind is AgentCliKind {
  return Object.hasOwn(ADAPTERS, kind);
}
