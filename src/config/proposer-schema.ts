/**
 * `[proposer]` of autoresearch.toml (see ./schema.ts): which proposer makes the changes and how.
 * Key names are a public contract.
 */
import { z } from 'zod';

const priceSchema = z.strictObject({
  input: z.number().min(0).describe('$ per million input tokens'),
  output: z.number().min(0).describe('$ per million output tokens'),
});

export const proposerSchema = z
  .strictObject({
    kind: z
      .string()
      .default('search')
      .describe(
        'search (offline, default) | anthropic | openai (any OpenAI-compatible server) | claude | codex | pi | gemini | opencode | aider',
      ),
    model: z
      .string()
      .min(1)
      .optional()
      .describe('Model name; default per kind (anthropic: claude-sonnet-5-5, openai: gpt-5.4-mini; CLIs: their own).'),
    exclude: z.array(z.string()).default([]).describe('search: constants never to touch.'),
    base_url: z
      .string()
      .url('a URL like http://127.0.0.1:11434/v1')
      .optional()
      .describe('anthropic/openai: API base URL (default ANTHROPIC_BASE_URL / OPENAI_BASE_URL, else the public API).'),
    api_key_env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name')
      .optional()
      .describe(
        'Environment variable holding the API key (default ANTHROPIC_API_KEY / OPENAI_API_KEY). Keys never go in this file.',
      ),
    max_turns: z.number().int().min(1).max(500).default(30).describe('anthropic/openai: model turns per proposal.'),
    max_tokens: z.number().int().min(256).default(8192).describe('anthropic/openai: output tokens per model turn.'),
    temperature: z
      .number()
      .min(0)
      .max(2)
      .optional()
      .describe("anthropic/openai: sampling temperature (default: the server's)."),
    max_retries: z
      .number()
      .int()
      .min(0)
      .max(20)
      .default(5)
      .describe('Retries of one API call on 429/5xx/timeouts, with backoff.'),
    request_timeout_s: z.number().positive().default(300).describe('Timeout of one API call.'),
    repair_attempts: z
      .number()
      .int()
      .min(0)
      .max(10)
      .default(2)
      .describe('Fix attempts for a crashed run of a sound idea (0 = off).'),
    concurrency: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe(
        'Proposer calls at once (proposals and crash repairs), each in its own worktree; default: the number of slots.',
      ),
    max_rejections: z
      .number()
      .int()
      .min(0)
      .default(10)
      .describe(
        'Stop the study after this many proposals in a row ended without running (rejected, failed, duplicates); 0 = never. They do not count against --max-experiments.',
      ),
    strategy: z
      .enum(['hill', 'coordinate'])
      .default('hill')
      .describe(
        'search: hill (score the moves of every constant; the default) or coordinate (one constant at a time, step sizes that shrink where it fails, restarts).',
      ),
    plateau_after: z
      .number()
      .int()
      .min(0)
      .default(10)
      .describe(
        'A plateau: no keep in the last N experiments that ran (0 = never). Then search widens its steps and tries untouched constants; LLM agents get a plateau section.',
      ),
    notes_max_chars: z
      .number()
      .int()
      .min(0)
      .default(2000)
      .describe(
        "anthropic/openai: the research journal's bound on the agent's notes, in characters (0 = no note tool); past it the agent must rewrite or delete notes.",
      ),
    command: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .optional()
      .describe('CLI kinds: the executable (path) or argv prefix to run instead of the one found on PATH.'),
    timeout_s: z
      .number()
      .positive()
      .default(1800)
      .describe('CLI kinds: wall-clock limit of one proposal; the process group is killed.'),
    prices: z
      .record(z.string(), priceSchema)
      .default({})
      .describe(
        'Per-model prices ($/Mtok) overriding or extending the built-in table, e.g. { "my-model" = { input = 1, output = 2 } }.',
      ),
  })
  .default({
    kind: 'search',
    exclude: [],
    max_turns: 30,
    max_tokens: 8192,
    max_retries: 5,
    request_timeout_s: 300,
    repair_attempts: 2,
    max_rejections: 10,
    strategy: 'hill',
    plateau_after: 10,
    notes_max_chars: 2000,
    timeout_s: 1800,
    prices: {},
  });
