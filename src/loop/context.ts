/**
 * What every part of a running study shares (built once by `runStudy`, passed down).
 */
import type { Config } from '../config/load.js';
import type { Judge } from '../judge/types.js';
import type { Ledger } from '../ledger/types.js';
import type { Proposer } from '../proposer/types.js';
import type { Sandbox } from '../runner/sandbox.js';
import type { Secret } from '../runner/secrets.js';
import type { Runner } from '../runner/types.js';
import type { Gate } from '../scheduler/async-queue.js';
import type { Workspace } from '../workspace/workspace.js';
import type { EmitEvent } from './events.js';
import type { Frontier } from './frontier.js';
import type { LeaseKeeper } from './lease-keeper.js';
import type { PairedSeeds } from './paired-seeds.js';
import type { ResultsFiles } from './results-files.js';
import type { SlotLease } from './slot-pool.js';

export interface LoopContext {
  config: Config;
  workspace: Workspace;
  ledger: Ledger;
  proposer: Proposer;
  /** At most `[proposer] concurrency` proposer calls at once (proposals and crash repairs). */
  proposerLock: Gate;
  runner: Runner;
  /** Wraps every run (bubblewrap, or nothing: [run].sandbox). */
  sandbox: Sandbox;
  /**
   * Secret values of the harness and of `[run].env` (loop/run-env.ts `runSecrets`): scrubbed
   * from run logs and log tails (RunSpec.secrets) and from prompts (ProposalContext.secrets).
   */
  secrets: readonly Secret[];
  judge: Judge;
  emit: EmitEvent;
  frontier: Frontier;
  /**
   * Paired seeds (`[judge] paired`, sequential judge, drawn seeds): each best's seed list and its
   * values on them (./paired-seeds.ts). Absent or null: unpaired decisions.
   */
  paired?: PairedSeeds | null;
  /**
   * Several hosts (a shared PostgreSQL ledger): this host's id and the lease it takes on each
   * experiment it creates or takes over (renewed by the heartbeat, ./leases.ts). Null with a
   * one-host ledger (SQLite): no leases.
   */
  host: { id: string; leaseMs: number } | null;
  /**
   * Several hosts: stops the runs of experiments whose lease this host could not renew in time
   * (./lease-keeper.ts; runs hold their experiment through it, ./run-once.ts). Absent with one host.
   */
  leases?: LeaseKeeper;
  /** Absolute directory for this study's logs. */
  logDir: string;
  /** Facts about the machine, recorded with every experiment (per-slot GPU facts are added). */
  machine: Record<string, unknown>;
  /** Aborts every run and proposal (Ctrl-C, or a bug in one slot). */
  signal: AbortSignal;
  /** The human-written research strategy (program.md), when present. */
  program: string | null;
  /** Where finished experiments' rows are written (results.tsv and the per-study copy). */
  results: Pick<ResultsFiles, 'write'>;
  /**
   * The pause of a proposer outage (./outage.ts): resolves true after `ms`, false on abort.
   * Default: a real timer; tests inject an instant one.
   */
  pause?: (ms: number, signal: AbortSignal) => Promise<boolean>;
  /**
   * Work a slot does between two experiments, on its own lease (the hub's verification runs:
   * ../hub/verifier.ts). Must not throw. Absent: nothing.
   */
  between?: (ctx: LoopContext, lease: SlotLease) => Promise<void>;
}
