/**
 * Several hosts: while the shared ledger (PostgreSQL) can't be reached, `run` waits for it instead
 * of failing (../ledger/waiting.ts retries every call), and says so: one notice when the outage
 * starts (with the reason and what happens to the runs meanwhile), one when the ledger answers
 * again. The runs of experiments whose leases can't be renewed in time are stopped by the lease
 * keeper (./lease-keeper.ts), so that other hosts can take them over.
 *
 * Contract: never throws; the returned ledger behaves as `ledger` except that unreachable-server
 * failures wait (until `signal` aborts).
 */
import type { Config } from '../config/load.js';
import type { Ledger } from '../ledger/types.js';
import { RETRY_MAX_MS, WaitingLedger } from '../ledger/waiting.js';
import type { EmitEvent } from './events.js';
import { stopAfterMs } from './lease-keeper.js';

export function waitForLedger(
  ledger: Ledger,
  config: Pick<Config, 'ledger'>,
  emit: EmitEvent,
  signal: AbortSignal,
): Ledger {
  const leaseS = config.ledger.lease_s;
  const stopS = stopAfterMs(leaseS * 1000) / 1000;
  return new WaitingLedger(ledger, {
    signal,
    onDown: (reason) =>
      emit({
        type: 'notice',
        t: Date.now(),
        level: 'warn',
        message: `the ledger is unreachable (${reason}); waiting for it (trying again every ${RETRY_MAX_MS / 1000} s at most). Runs whose lease can't be renewed are stopped ${stopS} s after its last renewal, before other hosts may take them over (lease_s = ${leaseS}); Ctrl-C stops`,
      }),
    onUp: (ms) =>
      emit({
        type: 'notice',
        t: Date.now(),
        level: 'info',
        message: `the ledger answers again after ${(ms / 1000).toFixed(1)} s; resuming (experiments another host took over meanwhile are that host's)`,
      }),
  });
}
