/**
 * What `autoresearch run` adds in a workspace joined to a hub study (`[hub]` in autoresearch.toml):
 * the poster of decided experiments (an event-stream consumer, ./poster.ts); with `[hub]
 * verify = true` (the default), the work asked for between experiments (./verifier.ts):
 * verification runs, and experiments the owner queued (./work-desk.ts, proposed next); and the
 * proposer's wrapper (./hub-proposer.ts: queued experiments, what others tried, the notes
 * board). The offline queue lives in the workspace's state directory.
 */
import { join } from 'node:path';
import type { Config } from '../config/load.js';
import type { Ledger } from '../ledger/types.js';
import type { LoopContext } from '../loop/context.js';
import { hostId } from '../loop/host-id.js';
import { HubClient } from './client.js';
import { detectPlatform } from './platform.js';
import type { Proposer } from '../proposer/types.js';
import { type HubProposer, hubProposer } from './hub-proposer.js';
import { HubPoster, resultIdFor } from './poster.js';
import { hubVerifier, recipeFromHub } from './verifier.js';
import { WorkDesk } from './work-desk.js';
import { platformKey } from './wire.js';

export interface HubContribution {
  poster: HubPoster;
  between: LoopContext['between'];
  /** The configured proposer with the hub's additions (./hub-proposer.ts). */
  wrap: (proposer: Proposer) => Proposer;
  /** At the end of the run: waits for posts and notes, stops heartbeats. */
  drain: () => Promise<void>;
  /** One line for the start of the run. */
  summary: string;
}

export function startHubContribution(
  config: Config,
  deps: {
    ledger: Ledger;
    stateDir: string;
    token: string;
    warn: (message: string) => void;
    /** Notices of the hub's own steps (default: `warn`). */
    notice?: (level: 'info' | 'warn', message: string) => void;
  },
): HubContribution | null {
  const hub = config.hub;
  if (!hub) return null;
  const client = new HubClient({ url: hub.url, token: deps.token, queueFile: join(deps.stateDir, 'hub-queue.json') });
  const platform = detectPlatform(
    config.root,
    undefined,
    config.run.env.CUDA_VISIBLE_DEVICES ?? process.env.CUDA_VISIBLE_DEVICES,
  );
  const host = hostId(config.root);
  const notice = deps.notice ?? ((_level: 'info' | 'warn', message: string) => deps.warn(message));
  const desk = new WorkDesk({ client, studyId: hub.study, notice });
  const poster = new HubPoster({
    client,
    studyId: hub.study,
    ledger: deps.ledger,
    tag: config.study.tag,
    host,
    platform,
    warn: deps.warn,
    workDone: (id) => desk.release(id),
    workResumed: (id) => desk.hold(id),
  });
  const between = hubVerifier({ client, studyId: hub.study, host, platform, verify: hub.verify, desk });
  // Reads before each proposal: one attempt, a short timeout (a slow hub never holds a proposal up).
  const quick = new HubClient({ url: hub.url, token: deps.token, attempts: 1, timeoutMs: 5000 });
  const wrapped: HubProposer[] = [];
  const wrap = (inner: Proposer) => {
    const p = hubProposer(inner, {
      client: quick,
      studyId: hub.study,
      desk,
      recipeOf: (sha) => recipeFromHub(client, hub.study, sha),
      ownIds: (ctx) => new Set(ctx.history.map((e) => resultIdFor(hub.study, config.study.tag, e.number, host))),
      host,
      notice,
    });
    wrapped.push(p);
    return p;
  };
  const drain = async () => {
    await Promise.all(wrapped.map((p) => p.drain()));
    await poster.drain();
    desk.stop();
  };
  const what = platform.gpu ? `${platform.gpu.count} x ${platform.gpu.model}` : platform.cpu!.model;
  return {
    poster,
    between,
    wrap,
    drain,
    summary: `contributing to ${hub.url}/studies/${hub.study} as platform ${platformKey(platform)} (${what}); between experiments: the hub's verified best as the base${hub.verify ? ", verification runs of others' claims" : ''}`,
  };
}
