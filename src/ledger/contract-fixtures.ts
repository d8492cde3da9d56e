/**
 * Fixtures shared by the ledger contract suites (ledger.contract.ts, ledger-hosts.contract.ts).
 */
import type { Ledger, StudySpec } from './types.js';
import { LedgerError } from './types.js';

export interface LedgerHarness {
  /** A fresh, empty ledger. */
  ledger: Ledger;
  /** Opens a second, independent connection to the same store (without closing `ledger`). */
  reopen?: () => Promise<Ledger>;
  /** Closes `ledger` and removes the store. */
  cleanup: () => Promise<void>;
}

export function studySpec(tag: string, over: Partial<StudySpec> = {}): StudySpec {
  return {
    tag,
    branch: `autoresearch/${tag}`,
    metric: 'val_bpb',
    direction: 'minimize',
    baseCommit: 'b'.repeat(40),
    protectedHashes: { 'prepare.py': 'a'.repeat(64) },
    config: { objective: { metric: 'val_bpb' }, slots: [0, 1], budget: 300 },
    ...over,
  };
}

export const sha = (c: string): string => c.repeat(40);
export const isLedgerError = (err: unknown): boolean => err instanceof LedgerError;
