/**
 * Migration 3: leases. A running experiment names the host driving it (`host`: a host id, see
 * loop/host-id.ts) and until when that host holds it (`lease_until`, epoch ms on the ledger's
 * clock: PostgreSQL's for a shared ledger). Another host takes it over only after the lease
 * expired. Rows written before this migration have neither (NULL: free to take).
 */
import type { Migration } from './types.js';

export const migration003Leases: Migration = {
  version: 3,
  name: 'leases',
  up: `
ALTER TABLE experiments ADD COLUMN host TEXT;
ALTER TABLE experiments ADD COLUMN lease_until BIGINT;
`,
};
