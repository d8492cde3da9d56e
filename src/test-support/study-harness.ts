/**
 * Test support: runs a real study in-process (real git, SQLite, child processes) on a workspace,
 * with an optional fake proposer, and collects its events.
 */
import { after } from 'node:test';
import { join } from 'node:path';
import { loadConfig, type Config, type ConfigOverrides } from '../config/load.js';
import { createJudge } from '../judge/create.js';
import { openLedger } from '../ledger/open.js';
import type { Ledger } from '../ledger/types.js';
import type { StudyEvent } from '../loop/events.js';
import { runStudy, type StudyLimits, type StudyOutcome } from '../loop/study.js';
import { createProposer } from '../proposer/create.js';
import type { Proposer, ProposalContext, ProposalResult } from '../proposer/types.js';
import { ProcessRunner } from '../runner/index.js';
import { createSandbox } from '../runner/sandbox.js';
import { runSecrets } from '../loop/run-env.js';
import type { Runner } from '../runner/types.js';
import { Workspace } from '../workspace/workspace.js';
import type { Gpu } from '../scheduler/gpus.js';

export interface StudyRun {
  outcome: StudyOutcome;
  events: StudyEvent[];
  config: Config;
  ledger: Ledger;
}

export async function runTestStudy(
  dir: string,
  limits: StudyLimits,
  opts: {
    proposer?: Proposer;
    overrides?: ConfigOverrides;
    signal?: AbortSignal;
    onEvent?: (e: StudyEvent) => void;
    listGpus?: () => Promise<Gpu[]>;
    /** Default: the real ProcessRunner. */
    runner?: Runner;
    /** The pause while the proposer is unavailable (default: a real timer). */
    pause?: (ms: number, signal: AbortSignal) => Promise<boolean>;
  } = {},
): Promise<StudyRun> {
  const loaded = loadConfig(dir, opts.overrides);
  if (!loaded.ok) throw new Error(loaded.message);
  const config = loaded.config;
  const ws = await Workspace.open(dir);
  if (!ws.ok) throw new Error(ws.message);
  const ledger = await openLedger(config.ledger.url, { root: config.root });
  const made = createProposer(config);
  if (!made.ok) throw new Error(made.message);
  const made2 = createSandbox(config.run.sandbox);
  if (!made2.ok) throw new Error(made2.message);
  const sandbox = made2.sandbox;
  const events: StudyEvent[] = [];
  const outcome = await runStudy(
    {
      config,
      workspace: ws.workspace,
      ledger,
      proposer: opts.proposer ?? made.proposer,
      runner: opts.runner ?? new ProcessRunner(),
      sandbox,
      secrets: runSecrets(config),
      judge: createJudge(config),
      listGpus: opts.listGpus ?? (async () => []),
      ...(opts.pause ? { pause: opts.pause } : {}),
      emit: (e) => {
        events.push(e);
        opts.onEvent?.(e);
      },
    },
    limits,
    opts.signal ?? new AbortController().signal,
  );
  return { outcome, events, config, ledger };
}

/** A proposer scripted by a function (for rejections, failures and protected-file attacks). */
export function scriptedProposer(
  name: string,
  fn: (ctx: ProposalContext, call: number) => Promise<ProposalResult>,
): Proposer {
  let call = 0;
  return { name, propose: (ctx) => fn(ctx, call++) };
}

export const ledgerPath = (dir: string) => join(dir, '.autoresearch', 'ledger.db');

/**
 * For a test file: a `runTestStudy` whose ledgers are all closed after the file's tests
 * (registers a node:test `after` hook). Call once at the top level of the file.
 */
export function studiesClosedAfterAll(): (...args: Parameters<typeof runTestStudy>) => Promise<StudyRun> {
  const opened: StudyRun[] = [];
  after(async () => {
    for (const r of opened) await r.ledger.close();
  });
  return async (...args) => {
    const r = await runTestStudy(...args);
    opened.push(r);
    return r;
  };
}
