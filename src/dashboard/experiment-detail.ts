/**
 * One experiment's page data: the diff, the decision and its evidence, the head and tail of its
 * log, what the proposer did (description, change record, repairs, time), tokens and cost.
 * Read-only; a log file that is gone or unreadable gives an empty head (the ledger's tail stays).
 */
import { closeSync, openSync, readSync, realpathSync } from 'node:fs';
import { sep } from 'node:path';
import type { Evidence, Experiment, RepairAttempt } from '../ledger/types.js';
import { isQueued } from '../loop/queued.js';

export interface ExperimentDetail {
  number: number;
  baseline: boolean;
  status: Experiment['status'] | 'queued';
  value: number | null;
  metrics: Record<string, number>;
  description: string;
  reason: string;
  diff: string;
  commit: string | null;
  parentCommit: string;
  evidence: Evidence | null;
  logPath: string | null;
  logHead: string;
  logTail: string;
  proposer: string;
  proposeMs: number | null;
  runMs: number | null;
  startedAt: number;
  endedAt: number | null;
  slot: number | null;
  attempts: number;
  usage: Experiment['usage'];
  change: unknown;
  repairs: RepairAttempt[];
  env: Record<string, unknown>;
}

/** Bytes of the log's head shown. */
export const LOG_HEAD_BYTES = 8 * 1024;
/** Lines of the ledger's log tail shown. */
export const LOG_TAIL_LINES = 80;

/**
 * The head of a log file, read only when the file (symlinks resolved) lies under `logRoot`: a
 * ledger row is data, and a shared ledger's row could name any file on this machine.
 */
function readHead(path: string, bytes: number, logRoot: string): string {
  let fd: number | null = null;
  try {
    const real = realpathSync(path);
    const root = realpathSync(logRoot);
    if (!real.startsWith(root + sep)) return '';
    fd = openSync(real, 'r');
    const buf = Buffer.alloc(bytes);
    const n = readSync(fd, buf, 0, bytes, 0);
    return buf.subarray(0, n).toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/** `logRoot`: the folder run logs live in (`<workspace>/.autoresearch/logs`); others are not read. */
export function experimentDetail(e: Experiment, logRoot: string): ExperimentDetail {
  return {
    number: e.number,
    baseline: e.baseline,
    status: isQueued(e) ? 'queued' : e.status,
    value: e.value,
    metrics: e.metrics,
    description: e.description,
    reason: e.reason,
    diff: e.diff,
    commit: e.commit,
    parentCommit: e.parentCommit,
    evidence: e.evidence,
    logPath: e.logPath,
    logHead: e.logPath ? readHead(e.logPath, LOG_HEAD_BYTES, logRoot) : '',
    logTail: e.logTail.split('\n').slice(-LOG_TAIL_LINES).join('\n'),
    proposer: e.proposer,
    proposeMs: e.proposeMs,
    runMs: e.runMs,
    startedAt: e.startedAt,
    endedAt: e.endedAt,
    slot: e.slot,
    attempts: e.attempts,
    usage: e.usage,
    change: e.change,
    repairs: e.repairs,
    env: e.env,
  };
}
