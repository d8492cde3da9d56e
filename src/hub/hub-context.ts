/**
 * What a proposer in a joined workspace is told about the others (ProposalContext.others): the
 * results other contributors posted from the current best, the work queued or running from it,
 * and the study's notes board (GET /studies/:id/tried?from=<best> and /notes).
 *
 * Hub text is written by untrusted contributors: each text becomes one line of printable
 * characters (../proposer/journal.ts `cleanNoteText`: no control characters, no ANSI escapes, no
 * line breaks that could fake a prompt section), cut to a bound, scrubbed of this machine's
 * secrets (../runner/secrets.ts), and the lists are bounded in count; the prompt marks it as
 * contributor-written (../proposer/llm/others-section.ts).
 *
 * "The current best" on the hub: the local best's own commit, or for a best imported from the
 * hub (./import-best.ts) the hub commit it was imported from.
 *
 * Contract: never throws; a hub that does not answer gives `{ ok: false, reason }` (the proposal
 * goes on without it).
 */
import { cleanNoteText } from '../proposer/journal.js';
import type { OthersContext, ProposalContext } from '../proposer/types.js';
import { scrub } from '../runner/secrets.js';
import type { HubClient } from './client.js';
import type { NodeView } from './reads.js';

const FULL_SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

export const OTHERS_LIMITS = { tried: 30, notes: 20, descriptionChars: 200, noteChars: 300, nameChars: 40 };

/** The hub commit of the local best (an imported best carries the hub's commit in its `change`). */
export function hubCommitOfBest(ctx: Pick<ProposalContext, 'history' | 'best'>): string {
  const e = ctx.history.find((h) => h.number === ctx.best.number);
  const c = e?.change as { hubCommit?: unknown } | null | undefined;
  return typeof c?.hubCommit === 'string' && FULL_SHA.test(c.hubCommit) ? c.hubCommit : ctx.best.commit;
}

export async function fetchOthers(
  deps: {
    client: Pick<HubClient, 'tried' | 'notes'>;
    studyId: string;
    /** Result ids this contributor posted (its own results are in its history already). */
    ownIds: (ctx: ProposalContext) => Set<string>;
  },
  ctx: ProposalContext,
): Promise<{ ok: true; others: OthersContext } | { ok: false; reason: string }> {
  const from = hubCommitOfBest(ctx);
  const [tried, notes] = await Promise.all([deps.client.tried(deps.studyId, from), deps.client.notes(deps.studyId)]);
  if (tried.kind !== 'ok') return { ok: false, reason: tried.message };
  if (notes.kind !== 'ok') return { ok: false, reason: notes.message };
  const own = deps.ownIds(ctx);
  const line = (s: unknown, max: number) => scrub(cleanNoteText(typeof s === 'string' ? s : '', max), ctx.secrets);
  const results = (Array.isArray(tried.value.results) ? tried.value.results : []) as Partial<NodeView>[];
  const pending = (Array.isArray(tried.value.pending) ? tried.value.pending : []) as Array<Record<string, unknown>>;
  const out: OthersContext = { tried: [], notes: [] };
  for (const r of results) {
    if (out.tried.length >= OTHERS_LIMITS.tried) break;
    if (typeof r.id === 'string' && own.has(r.id)) continue;
    const description = line(r.description, OTHERS_LIMITS.descriptionChars);
    if (!description) continue;
    out.tried.push({
      contributor: line(r.contributor, OTHERS_LIMITS.nameChars) || '?',
      description,
      status: line(r.status, 20) || '?',
      value: typeof r.value === 'number' && Number.isFinite(r.value) ? r.value : null,
      ...(typeof r.commit === 'string' && FULL_SHA.test(r.commit) ? { commit: r.commit } : {}),
    });
  }
  for (const w of pending) {
    if (out.tried.length >= OTHERS_LIMITS.tried) break;
    if (w.kind !== 'experiment') continue; // a pending verification re-runs a result listed above
    const description = line(w.description, OTHERS_LIMITS.descriptionChars);
    if (description)
      out.tried.push({ contributor: 'queued by the owner', description, status: line(w.state, 20), value: null });
  }
  const board = Array.isArray(notes.value.notes) ? notes.value.notes : [];
  const mine = new Set((ctx.journal?.notes ?? []).map((n) => line(n.text, OTHERS_LIMITS.noteChars)));
  for (const n of board) {
    if (out.notes.length >= OTHERS_LIMITS.notes) break;
    const text = line(n?.text, OTHERS_LIMITS.noteChars);
    if (text && !mine.has(text))
      out.notes.push({ contributor: line(n?.contributor, OTHERS_LIMITS.nameChars) || '?', text });
  }
  return { ok: true, others: out };
}
