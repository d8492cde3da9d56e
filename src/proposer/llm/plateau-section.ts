/**
 * The plateau section of an agent's prompt (ctx.plateau, ../plateau.ts): the study has stalled,
 * so the agent is told what kinds of change were tried (per UPPER_CASE constant, and other code
 * changes), which constants of the editable files were never touched, and the near-misses
 * (discards closest to the best they were compared with, with their diffs) that could be
 * combined into one change.
 *
 * Contract: pure apart from reading the editable files from `ctx.worktree`; bounded in size
 * whatever the history's length; '' when the study is not on a plateau.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Experiment } from '../../ledger/types.js';
import { findConstants, langOf } from '../search/constants.js';
import type { ProposalContext } from '../types.js';

const MAX_NEAR_MISSES = 4;
const NEAR_MISS_DIFF_CHARS = 1200;
const MAX_LISTED = 30;

const ASSIGNED = /^[+-](?![+-])\s*(?:export\s+)?(?:(?:const|let|var)\s+)?(_*[A-Z][A-Z0-9_]*)\s*(?::[^=]*)?=(?!=)/;

/** UPPER_CASE names assigned on the changed lines of a unified diff. */
export function constantsInDiff(diff: string): string[] {
  const out = new Set<string>();
  for (const line of diff.split('\n')) {
    if (line.startsWith('+++') || line.startsWith('---')) continue;
    const m = ASSIGNED.exec(line);
    if (m?.[1]) out.add(m[1]);
  }
  return [...out];
}

/** How much better than the best it was compared with (positive = better), or null. */
function gainOf(e: Experiment, minimize: boolean): number | null {
  if (e.value === null || e.evidence?.bestMean === undefined) return null;
  return minimize ? e.evidence.bestMean - e.value : e.value - e.evidence.bestMean;
}

const fmt = (v: number) => Number(v.toPrecision(3)).toString();

export function plateauSection(ctx: ProposalContext): string {
  const p = ctx.plateau;
  if (!p) return '';
  const minimize = ctx.objective.direction === 'minimize';
  const tried = ctx.history.filter((e) => !e.baseline && e.diff && e.status !== 'running');
  const perName = new Map<string, { n: number; kept: number }>();
  let other = 0;
  let otherKept = 0;
  for (const e of tried) {
    const names = constantsInDiff(e.diff);
    if (names.length === 0) {
      other++;
      if (e.status === 'keep') otherKept++;
    }
    for (const n of names) {
      const s = perName.get(n) ?? { n: 0, kept: 0 };
      s.n++;
      if (e.status === 'keep') s.kept++;
      perName.set(n, s);
    }
  }
  const present: string[] = [];
  for (const f of ctx.editable) {
    const lang = langOf(f);
    const abs = join(ctx.worktree, f);
    if (!lang || !existsSync(abs)) continue;
    for (const c of findConstants(readFileSync(abs, 'utf8'), lang)) present.push(c.name);
  }
  const never = [...new Set(present)].filter((n) => !perName.has(n));
  const triedList = [...perName]
    .sort((a, b) => b[1].n - a[1].n)
    .slice(0, MAX_LISTED)
    .map(([n, s]) => `${n} x${s.n}${s.kept ? ` (${s.kept} kept)` : ''}`);

  const near = ctx.history
    .filter((e) => e.status === 'discard')
    .map((e) => ({ e, gain: gainOf(e, minimize) }))
    .filter((x): x is { e: Experiment; gain: number } => x.gain !== null)
    .sort((a, b) => b.gain - a.gain)
    .slice(0, MAX_NEAR_MISSES);

  const lines = [
    `# Plateau: no keep in the last ${p.since} experiments that ran (the last keep is #${p.lastKeep})`,
    '',
    'Small variations of what was tried are not paying off. Change tack: try a kind of change not tried yet, a bolder step, or combine two near-misses below.',
    '',
    `Kinds of change tried so far: ${triedList.length ? `constants ${triedList.join(', ')}` : 'no constant changes'}; other code changes x${other}${otherKept ? ` (${otherKept} kept)` : ''}.`,
    `Constants of the editable files never changed: ${never.length ? never.slice(0, MAX_LISTED).join(', ') : '(none)'}.`,
  ];
  if (near.length) {
    lines.push(
      '',
      `Near-misses (discarded, closest to the best they were compared with; gain > 0 means better but not by enough). You may combine two of them in ONE change: apply both (adapted to the current code) and start the description with "combine #a + #b:".`,
    );
    for (const { e, gain } of near) {
      const th = e.evidence?.threshold !== undefined ? `, needed ${fmt(e.evidence.threshold)}` : '';
      const diff =
        e.diff.length > NEAR_MISS_DIFF_CHARS ? `${e.diff.slice(0, NEAR_MISS_DIFF_CHARS)}\n[diff truncated]` : e.diff;
      lines.push('', `## #${e.number} gain ${fmt(gain)}${th}: ${e.description.replace(/\s+/g, ' ').slice(0, 200)}`);
      const fence = '`'.repeat(Math.max(3, ...[...diff.matchAll(/`+/g)].map((m) => m[0].length + 1)));
      lines.push(`${fence}diff`, diff.trimEnd(), fence);
    }
  }
  return lines.join('\n');
}
