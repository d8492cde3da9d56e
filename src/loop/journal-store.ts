/**
 * The research journal in the ledger (../proposer/journal.ts says what it is): one study record
 * of kind 'note' per note, key = the note's id ("a<n>" for an agent's, "p<time><rand>" for a
 * person's, so that a person adding a note while the study runs never takes an agent's key).
 *
 * Contract: every write re-checks what the proposer's draft already checked, against the ledger
 * as it is now (another proposal or a person may have written meanwhile): texts cleaned and
 * capped, agents' notes within `maxChars`, a person's note never replaced or deleted by an
 * agent. Refused operations are reported, never thrown. Records of another shape (a damaged or
 * foreign ledger) are skipped on read.
 */
import { randomBytes } from 'node:crypto';
import type { Ledger } from '../ledger/types.js';
import {
  agentChars,
  cleanNoteText,
  NOTE_MAX_CHARS,
  PERSON_NOTE_MAX_CHARS,
  type JournalNote,
  type JournalOp,
} from '../proposer/journal.js';

export const NOTE_KIND = 'note';

/** The study's notes, oldest first. */
export async function readJournal(ledger: Ledger, studyId: number): Promise<JournalNote[]> {
  const records = await ledger.listRecords(studyId, NOTE_KIND);
  const out: JournalNote[] = [];
  for (const r of records) {
    const v = r.value as Partial<JournalNote> | null;
    if (!v || typeof v.text !== 'string' || (v.author !== 'agent' && v.author !== 'person')) continue;
    const person = v.author === 'person';
    out.push({
      id: r.key,
      author: v.author,
      text: cleanNoteText(v.text, person ? PERSON_NOTE_MAX_CHARS : NOTE_MAX_CHARS),
      t: typeof v.t === 'number' ? v.t : 0,
      experiment: typeof v.experiment === 'number' ? v.experiment : null,
    });
  }
  return out.sort((a, b) => a.t - b.t || a.id.localeCompare(b.id));
}

/** Adds a person's note (`autoresearch note`); returns it, or a message when the text is empty. */
export async function addPersonNote(
  ledger: Ledger,
  studyId: number,
  raw: string,
  now = Date.now(),
): Promise<{ ok: true; note: JournalNote } | { ok: false; message: string }> {
  const text = cleanNoteText(raw, PERSON_NOTE_MAX_CHARS);
  if (!text) return { ok: false, message: 'the note is empty; give its text, e.g. autoresearch note "try a lower LR"' };
  const id = `p${now.toString(36)}${randomBytes(2).toString('hex')}`;
  const note: JournalNote = { id, author: 'person', text, t: now, experiment: null };
  await ledger.putRecord(studyId, NOTE_KIND, id, { author: note.author, text, t: now, experiment: null });
  return { ok: true, note };
}

/** Deletes a note by id (a person may delete any note); false when there is none. */
export function deleteNote(ledger: Ledger, studyId: number, id: string): Promise<boolean> {
  return ledger.deleteRecord(studyId, NOTE_KIND, id);
}

/**
 * Stores an agent's journal operations (from proposal `experiment`), in order, each re-checked.
 * Call it from one place at a time per study (the pipeline's record lock): agent ids are
 * numbered from the notes present. Returns the reasons of refused operations.
 */
export async function applyJournalOps(
  ledger: Ledger,
  studyId: number,
  ops: readonly JournalOp[],
  opts: { maxChars: number; experiment: number; now?: number },
): Promise<{ applied: number; refused: string[] }> {
  const notes = await readJournal(ledger, studyId);
  const refused: string[] = [];
  let applied = 0;
  const now = opts.now ?? Date.now();
  let next = 1 + Math.max(0, ...notes.map((n) => (/^a(\d+)$/.exec(n.id) ? Number(n.id.slice(1)) : 0)));
  const put = (n: JournalNote) =>
    ledger.putRecord(studyId, NOTE_KIND, n.id, { author: n.author, text: n.text, t: n.t, experiment: n.experiment });
  for (const op of ops.slice(0, 50)) {
    if (op.op === 'delete' || op.op === 'replace') {
      const i = notes.findIndex((n) => n.id === op.id);
      const target = notes[i];
      if (!target) {
        refused.push(`${op.op} [${op.id}]: no such note (deleted meanwhile?)`);
        continue;
      }
      if (target.author !== 'agent') {
        refused.push(`${op.op} [${op.id}]: a person's note; agents may not change it`);
        continue;
      }
      if (op.op === 'delete') {
        await ledger.deleteRecord(studyId, NOTE_KIND, op.id);
        notes.splice(i, 1);
        applied++;
        continue;
      }
    }
    const text = cleanNoteText(op.text);
    if (!text) {
      refused.push(`${op.op}: empty note`);
      continue;
    }
    const old = op.op === 'replace' ? (notes.find((n) => n.id === op.id)?.text.length ?? 0) : 0;
    if (agentChars(notes) - old + text.length > opts.maxChars) {
      refused.push(`${op.op}: over the journal's bound of ${opts.maxChars} characters of agent notes`);
      continue;
    }
    if (op.op === 'replace') {
      const n = notes.find((x) => x.id === op.id)!;
      Object.assign(n, { text, t: now, experiment: opts.experiment });
      await put(n);
    } else {
      const n: JournalNote = { id: `a${next++}`, author: 'agent', text, t: now, experiment: opts.experiment };
      notes.push(n);
      await put(n);
    }
    applied++;
  }
  if (ops.length > 50) refused.push(`${ops.length - 50} operation(s) past the first 50 ignored`);
  return { applied, refused };
}
