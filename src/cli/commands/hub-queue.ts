/**
 * `autoresearch hub queue STUDY_URL --diff FILE|- --parent SHA --description TEXT`: the study owner
 * queues an experiment (a change on a hub commit) that the next contributor asking for work runs
 * as an experiment of its study, judged and posted back like any (README "## Hub"). The token
 * comes from AUTORESEARCH_HUB_TOKEN; the hub refuses (403) anyone but the study's owner.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { parseStudyUrl, HubClient } from '../../hub/client.js';
import { detectPlatform } from '../../hub/platform.js';
import { explainZod, platformKey, platformSchema, type Platform } from '../../hub/wire.js';
import { UserError } from '../common.js';
import { hubToken } from './publish.js';

interface QueueFlags {
  diff: string;
  parent: string;
  description: string;
  platform?: string;
  json?: boolean;
}

function readDiff(from: string): string {
  try {
    return readFileSync(from === '-' ? 0 : from, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read the diff from ${from === '-' ? 'stdin' : from}: ${(err as Error).message}`);
  }
}

function parsePlatform(value: string): Platform {
  if (value === 'here') return detectPlatform(process.cwd());
  let raw: unknown;
  try {
    raw = JSON.parse(value);
  } catch {
    throw new UserError(
      `--platform expects "here" or a JSON platform like '{"cpu":{"model":"..."}}', got "${value.slice(0, 60)}"`,
    );
  }
  const r = platformSchema.safeParse(raw);
  if (!r.success) throw new UserError(`--platform: ${explainZod(r.error)}`);
  return r.data;
}

export function registerHubQueue(hub: Command): void {
  hub
    .command('queue')
    .description('queue an experiment (a diff on a hub commit) for the next contributor to run (study owner only)')
    .argument('<study-url>', 'the study, as publish printed it: http://HOST:PORT/studies/<id>')
    .requiredOption('--diff <file>', "the change: a unified diff (git diff output) of editable files; '-' reads stdin")
    .requiredOption('--parent <sha>', 'the full commit id it applies to: the baseline or any commit on the hub')
    .requiredOption('--description <text>', 'one line saying what the change is, shown to whoever runs it')
    .option('--platform <here|json>', 'only contributors on this platform take it ("here": this machine\'s)')
    .option('--json', 'print {"workId": N} as JSON')
    .addHelpText(
      'after',
      `
The contributor that takes it rebuilds the parent, applies the diff (moved three-way onto its
own best when that differs), runs it through the same checks as any proposal (a change outside
the editable files is rejected) and posts the result back for the work; a diff that does not
apply comes back as a rejected result. The token is AUTORESEARCH_HUB_TOKEN (the owner's).

Examples:
  git diff > wider.diff
  autoresearch hub queue http://127.0.0.1:8787/studies/<id> --diff wider.diff \\
    --parent $(git rev-parse HEAD) --description "DEPTH 8 -> 12"
  git diff | autoresearch hub queue <study-url> --diff - --parent <sha> --description "try AdamW" --json`,
    )
    .action(async (studyUrl: string, flags: QueueFlags) => {
      const token = hubToken();
      const where = parseStudyUrl(studyUrl);
      if (!where) throw new UserError(`"${studyUrl}" is not a study URL (http://HOST:PORT/studies/<id>)`);
      if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(flags.parent))
        throw new UserError(
          `--parent expects a full commit id (40 hex characters), got "${flags.parent.slice(0, 60)}"`,
        );
      const diff = readDiff(flags.diff);
      if (!diff.trim()) throw new UserError('the diff is empty: nothing to queue');
      const platform = flags.platform !== undefined ? parsePlatform(flags.platform) : undefined;
      const client = new HubClient({ url: where.base, token });
      const r = await client.queueExperiment(where.studyId, {
        parent: flags.parent,
        diff,
        description: flags.description,
        ...(platform ? { platform } : {}),
      });
      if (r.kind === 'unreachable') throw new UserError(`${r.message}; is the hub running at ${where.base}?`);
      if (r.kind === 'refused') throw new UserError(`the hub refused to queue it (${r.status}): ${r.message}`);
      const out = flags.json
        ? JSON.stringify({ workId: r.value.workId })
        : `queued work #${r.value.workId} on ${flags.parent.slice(0, 12)}${platform ? ` for platform ${platformKey(platform)}` : ''}: the next contributor asking for work runs it`;
      process.stdout.write(`${out}\n`);
    });
}
