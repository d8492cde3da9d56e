/**
 * `autoresearch results --hub [dir|STUDY_URL] [--json] [--platform KEY] [--limit N]`: the hub's
 * results table, newest first: every contributor's experiments and verification runs. A value is
 * hidden while its claim waits for verification (the hub does not send it).
 */
import type { HubResultRow } from '../../hub/recent.js';
import { UserError } from '../common.js';
import { mustHubValue, resolveHubTarget } from '../hub-target.js';
import { shownValue } from './status-hub.js';

export const HUB_RESULTS_COLUMNS = [
  'time',
  'contributor',
  'platform',
  'kind',
  'status',
  'verification',
  'value',
  'verified_value',
  'commit',
  'parent',
  'description',
] as const;

export async function hubResults(
  arg: string,
  flags: { json?: boolean; platform?: string; limit?: number },
): Promise<void> {
  const target = resolveHubTarget(arg);
  let platformKey: string | undefined;
  if (flags.platform !== undefined) {
    if (/^[0-9a-f]{16}$/.test(flags.platform)) platformKey = flags.platform;
    else {
      // A few words of the label ("H200", "EPYC") name a platform too, when they name exactly one.
      const s = mustHubValue(await target.client.summary(target.studyId, 1), target);
      const want = flags.platform.toLowerCase();
      const hits = s.platforms.filter((p) => p.label.toLowerCase().includes(want));
      if (hits.length !== 1)
        throw new UserError(
          `--platform ${JSON.stringify(flags.platform)} ${hits.length ? 'names several platforms' : 'names no platform with a verified best'}; use a key: ${s.platforms.map((p) => `${p.platformKey} (${p.label})`).join(', ') || 'none yet'}`,
        );
      platformKey = hits[0]!.platformKey;
    }
  }
  const r = mustHubValue(await target.client.results(target.studyId, { limit: flags.limit, platformKey }), target);
  process.stdout.write(flags.json ? `${JSON.stringify(r.results, null, 2)}\n` : formatHubResults(r.results));
}

/** Tab-separated, one row per result, header first (tabs and newlines in text become spaces). */
export function formatHubResults(rows: HubResultRow[]): string {
  // Contributors' text, on one row and without control characters (no terminal escapes).
  const text = (s: string) => s.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ');
  const out = [HUB_RESULTS_COLUMNS.join('\t')];
  for (const r of rows)
    out.push(
      [
        new Date(r.createdAt).toISOString(),
        text(r.contributor),
        r.platformKey,
        r.kind,
        r.status,
        r.verification ?? '',
        shownValue(r),
        r.verifiedValue === null ? '' : String(r.verifiedValue),
        r.commit.slice(0, 12),
        r.parent.slice(0, 12),
        text(r.description),
      ].join('\t'),
    );
  return `${out.join('\n')}\n`;
}
