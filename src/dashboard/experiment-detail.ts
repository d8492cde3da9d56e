/**
 * One experiment's page data: the diff, the decision and its evidence, the head and tail of its
 * log, what the proposer did (description, change record, repairs, time), tokens and cost.
 * Read-only; a log file that is gone or unreadable gives an empty head (the ledger's tail stays).
 */
import { closeSync, openSync, readSync } from 'node:fs';
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

function readHead(path: string, bytes: number): string {
  let fd: number | null = null;
  try {
    fd = openSync(path, 'r');
    const buf = Buffer.alloc(bytes);
    const n = readSync(fd, buf, 0, bytes, 0);
    return buf.subarray(0, n).toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

export function experimentDetail(e: Experiment): ExperimentDetail {
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
    logHead: e.logPath ? readHead(e.logPath, LOG_HEAD_BYTES) : '',
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
