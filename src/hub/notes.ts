/** The notes board of a study: short hypotheses and observations agents post (idempotent on `key`). */
import type pg from 'pg';

export interface Note {
  id: number;
  contributor: string;
  commit: string | null;
  text: string;
  createdAt: number;
}

export async function postNote(
  pool: pg.Pool,
  studyId: string,
  contributorId: number,
  note: { key?: string; commit?: string; text: string },
  now: number,
): Promise<{ id: number; duplicate: boolean }> {
  const r = await pool.query(
    `INSERT INTO hub_notes (study_id, contributor_id, client_key, commit, text, created_at) VALUES ($1,$2,$3,$4,$5,$6)
     ON CONFLICT (contributor_id, client_key) DO NOTHING RETURNING id`,
    [studyId, contributorId, note.key ?? null, note.commit ?? null, note.text, now],
  );
  if (r.rows[0]) return { id: Number(r.rows[0].id), duplicate: false };
  const old = await pool.query('SELECT id FROM hub_notes WHERE contributor_id = $1 AND client_key = $2', [
    contributorId,
    note.key,
  ]);
  return { id: Number(old.rows[0].id), duplicate: true };
}

export async function listNotes(
  pool: pg.Pool,
  studyId: string,
  opts: { commit?: string; limit: number },
): Promise<Note[]> {
  const r = await pool.query(
    `SELECT n.id, c.name, n.commit, n.text, n.created_at FROM hub_notes n JOIN hub_contributors c ON c.id = n.contributor_id
     WHERE n.study_id = $1 AND ($2::text IS NULL OR n.commit = $2) ORDER BY n.id DESC LIMIT $3`,
    [studyId, opts.commit ?? null, opts.limit],
  );
  return r.rows.map((x) => ({
    id: Number(x.id),
    contributor: x.name,
    commit: x.commit,
    text: x.text,
    createdAt: Number(x.created_at),
  }));
}
