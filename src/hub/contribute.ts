/**
 * What `autoresearch run` adds in a workspace joined to a hub study (`[hub]` in autoresearch.toml):
 * the poster of decided experiments (an event-stream consumer, ./poster.ts) and, with `[hub]
 * verify = true` (the default), the verification runs between experiments (./verifier.ts). The
 * offline queue lives in the workspace's state directory.
 */
import { join } from 'node:path';
import type { Config } from '../config/load.js';
import type { Ledger } from '../ledger/types.js';
import type { LoopContext } from '../loop/context.js';
import { hostId } from '../loop/host-id.js';
import { HubClient } from './client.js';
import { detectPlatform } from './platform.js';
import { HubPoster } from './poster.js';
import { hubVerifier } from './verifier.js';
import { platformKey } from './wire.js';

export interface HubContribution {
  poster: HubPoster;
  between: LoopContext['between'];
  /** One line for the start of the run. */
  summary: string;
}

export function startHubContribution(
  config: Config,
  deps: { ledger: Ledger; stateDir: string; token: string; warn: (message: string) => void },
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
  const poster = new HubPoster({
    client,
    studyId: hub.study,
    ledger: deps.ledger,
    tag: config.study.tag,
    host,
    platform,
    warn: deps.warn,
  });
  const between = hubVerifier({ client, studyId: hub.study, host, platform, verify: hub.verify });
  const what = platform.gpu ? `${platform.gpu.count} x ${platform.gpu.model}` : platform.cpu!.model;
  return {
    poster,
    between,
    summary: `contributing to ${hub.url}/studies/${hub.study} as platform ${platformKey(platform)} (${what}); between experiments: the hub's verified best as the base${hub.verify ? ", verification runs of others' claims" : ''}`,
  };
}
