/**
 * Several hosts, one study: who this `run` is in the shared ledger, and whether the ledger is
 * shared at all.
 *
 * Contract: pure functions of their inputs (the environment is passed in).
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config } from '../config/load.js';

/**
 * The host id written on the experiments this `run` holds: `AUTORESEARCH_HOST_ID` when set
 * (tests, or to name machines), else the hostname and a hash of the workspace path (two clones
 * on one machine are two hosts).
 */
export function hostId(root: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  const given = env.AUTORESEARCH_HOST_ID?.trim();
  if (given) return given;
  return `${hostname()}-${createHash('sha256').update(root).digest('hex').slice(0, 8)}`;
}

/** True when the ledger is PostgreSQL: then hosts lease their experiments and keeps are compare-and-set. */
export function isSharedLedger(config: Pick<Config, 'ledger'>): boolean {
  return /^postgres(ql)?:/i.test(config.ledger.url.trim());
}

/** The identity and date every study commit is written with when the ledger is shared. */
export function pinnedIdentity(studyCreatedAt: number): { name: string; email: string; date: string } {
  return { name: 'autoresearch', email: 'autoresearch@localhost', date: `@${Math.floor(studyCreatedAt / 1000)} +0000` };
}
