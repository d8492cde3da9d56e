/**
 * Builds the proposer named by `[proposer].kind`. Returns a message (never throws) for an
 * unknown kind, so the CLI can say what to set before the baseline runs.
 */
import type { Config } from '../config/load.js';
import { SearchProposer } from './search/index.js';
import type { Proposer } from './types.js';

export const PROPOSER_KINDS = ['search'] as const;

export function createProposer(config: Config): { ok: true; proposer: Proposer; note?: string } | { ok: false; message: string } {
  const kind = config.proposer.kind;
  switch (kind) {
    case 'search':
      return {
        ok: true,
        proposer: new SearchProposer({ seed: config.study.seed, exclude: [...config.proposer.exclude] }),
        note: 'proposer: offline search over the UPPER_CASE constants (no LLM configured)',
      };
    default:
      return {
        ok: false,
        message: `unknown proposer kind "${kind}" in [proposer].kind / --proposer; available now: ${PROPOSER_KINDS.join(', ')}`,
      };
  }
}
