/**
 * Which hub study a `--hub` command reads: a study URL (http://HUB/studies/<id>) as it is, or a
 * workspace joined with `autoresearch join` (its `[hub]` section). The token always comes from
 * AUTORESEARCH_HUB_TOKEN. Every failure is a `UserError`: one line saying what to do.
 */
import { existsSync } from 'node:fs';
import { HubClient, type HubReply, parseStudyUrl } from '../hub/client.js';
import { mustLoadConfig, UserError } from './common.js';
import { hubToken } from './commands/publish.js';

export interface HubTarget {
  client: HubClient;
  /** The hub's base URL and the study id. */
  base: string;
  studyId: string;
  studyUrl: string;
}

/** `arg` is a study URL or a workspace directory whose autoresearch.toml has a [hub] section. */
export function resolveHubTarget(arg: string, opts: { attempts?: number } = {}): HubTarget {
  let where = parseStudyUrl(arg);
  if (!where) {
    if (/^https?:\/\//i.test(arg))
      throw new UserError(`"${arg}" is not a study URL (expected http://HUB/studies/<id>, as publish printed it)`);
    if (!existsSync(arg)) throw new UserError(`${arg}: no such workspace directory (or pass a study URL)`);
    const config = mustLoadConfig(arg);
    if (!config.hub)
      throw new UserError(
        `${config.root} is not joined to a hub (no [hub] section in autoresearch.toml): pass the study URL (--hub http://HUB/studies/<id>), or make a workspace with \`autoresearch join\``,
      );
    where = { base: config.hub.url.replace(/\/+$/, ''), studyId: config.hub.study };
  }
  const client = new HubClient({ url: where.base, token: hubToken(), attempts: opts.attempts ?? 2, backoffMs: 200 });
  return { client, ...where, studyUrl: `${where.base}/studies/${where.studyId}` };
}

/** The value of a hub reply, or a UserError saying what went wrong and what to do. */
export function mustHubValue<T>(reply: HubReply<T>, target: Pick<HubTarget, 'base' | 'studyId'>): T {
  if (reply.kind === 'ok') return reply.value;
  throw new UserError(explainHubFailure(reply, target));
}

export function explainHubFailure(
  reply: Exclude<HubReply<unknown>, { kind: 'ok' }>,
  target: Pick<HubTarget, 'base' | 'studyId'>,
): string {
  if (reply.kind === 'unreachable')
    return `cannot reach the hub at ${target.base} (${reply.message}); is it running? (check the URL, or [hub].url in autoresearch.toml)`;
  if (reply.status === 401)
    return `the hub at ${target.base} refused the token: ${reply.message}; set AUTORESEARCH_HUB_TOKEN to a valid token (autoresearch hub token create NAME)`;
  if (reply.status === 404 && /unknown study/.test(reply.message))
    return `the hub at ${target.base} has no study ${target.studyId}: check the study URL (autoresearch publish printed it)`;
  if (reply.status === 404)
    return `the hub at ${target.base} does not serve this (${reply.message}): it may be an older hub; upgrade it`;
  return `the hub at ${target.base} refused: ${reply.message}`;
}
