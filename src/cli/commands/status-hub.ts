/**
 * `autoresearch status --hub [dir|STUDY_URL] [--json]`: the hub study across contributors: per
 * platform its verified best and chain, which kept changes held on other platforms, the recent
 * results, the contributors, waiting work and notes (the hub's GET /studies/:id/summary).
 */
import type { HubResultRow } from '../../hub/recent.js';
import type { HubSummary } from '../../hub/summary.js';
import { mustHubValue, resolveHubTarget } from '../hub-target.js';
import { fmtDuration, fmtValue } from '../terminal-view.js';

export async function hubStatus(arg: string, flags: { json?: boolean; recent: number }): Promise<void> {
  const target = resolveHubTarget(arg);
  const recent = Math.max(1, Math.min(1000, Math.floor(flags.recent) || 10));
  const s = mustHubValue(await target.client.summary(target.studyId, recent), target);
  process.stdout.write(
    flags.json ? `${JSON.stringify({ url: target.studyUrl, ...s }, null, 2)}\n` : renderHubStatus(s, target.studyUrl),
  );
}

const short = (sha: string) => sha.slice(0, 7);
/** Text written by contributors, on one line and bounded (it is printed to a terminal). */
const clean = (text: string, max = 80) => {
  const one = text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
};

/** A result's value as people should read it: hidden while its claim waits for verification. */
export function shownValue(r: Pick<HubResultRow, 'value' | 'verification' | 'kind'>): string {
  if (r.value !== null) return fmtValue(r.value);
  return r.verification === 'provisional' ? 'hidden' : '-';
}

/** A claim's state; for a verification run whether it agreed with the claim. */
function verificationWord(r: HubResultRow): string {
  if (r.kind !== 'verification') return r.verification ?? '';
  return r.verification === 'verified' ? 'agreed' : r.verification === 'failed' ? 'disagreed' : '';
}

export function renderHubStatus(s: HubSummary, url: string): string {
  const ago = (t: number) => `${fmtDuration(Math.max(0, s.now - t))} ago`;
  const labels = new Map(s.platforms.map((p, i) => [p.platformKey, `P${i + 1}`]));
  const plat = (key: string) => labels.get(key) ?? key.slice(0, 8);
  const lines = [
    `hub study ${clean(s.study.name)} — ${s.study.metric}, ${s.study.direction}, tolerance ${s.study.tolerance} — ${url}`,
    `results: ${s.counts.results} (${s.counts.experiments} experiments, ${s.counts.verifications} verification runs); ` +
      `${s.counts.provisional} claim(s) waiting for verification; ` +
      `work: ${s.work.verificationsQueued} verification(s) queued, ${s.work.verificationsLeased} running, ` +
      `${s.work.experimentsQueued} experiment(s) queued, ${s.work.experimentsLeased} running; ${s.counts.notes} note(s)`,
    '',
  ];
  if (s.platforms.length === 0)
    lines.push('no verified best yet on any platform (a baseline needs a second contributor)');
  for (const [i, p] of s.platforms.entries()) {
    lines.push(
      `P${i + 1} ${clean(p.label, 120)} [${p.platformKey}]`,
      `   verified best ${fmtValue(p.best.value)} at ${short(p.best.commit)} — chain of ${p.chainLength}, ${p.moves} move(s), last ${ago(p.updatedAt)}`,
    );
    for (const k of p.chain) {
      if (k.status === 'baseline') continue;
      const held = k.elsewhere.map(
        (e) => `${e.held} on ${plat(e.platformKey)}${e.value !== null ? ` (${fmtValue(e.value)})` : ''}`,
      );
      lines.push(
        `   ${short(k.commit)} ${fmtValue(k.value)}  ${clean(k.contributor, 30)}: ${clean(k.description, 60)}${held.length ? `  — ${held.join(', ')}` : ''}`,
      );
    }
  }
  lines.push('', `recent results (newest first):`);
  if (s.recent.length === 0) lines.push('  none yet');
  for (const r of s.recent)
    lines.push(
      `  ${ago(r.createdAt).padStart(12)}  ${clean(r.contributor, 16).padEnd(16)} ${plat(r.platformKey).padEnd(8)} ` +
        `${(r.kind === 'verification' ? 'verify' : r.status).padEnd(8)} ${verificationWord(r).padEnd(11)} ` +
        `${shownValue(r).padStart(10)}  ${r.kind === 'verification' ? `re-run of ${short(r.commit)}` : clean(r.description, 60)}`,
    );
  lines.push('', 'contributors:', '  name              results  verified keeps  verifications  flagged');
  for (const c of s.contributors)
    lines.push(
      `  ${clean(c.name, 16).padEnd(16)} ${String(c.results).padStart(8)} ${String(c.verifiedKeeps).padStart(15)} ${String(c.verifications).padStart(14)}  ${c.flagged ? `yes: ${clean(c.flagReason ?? '', 80)}` : 'no'}`,
    );
  lines.push(
    '',
    'values of claims waiting for verification are hidden (verification is blind); all results: autoresearch results --hub',
  );
  return `${lines.join('\n')}\n`;
}
