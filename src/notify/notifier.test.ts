/**
 * Notifications against a real local HTTP server: what is posted on a new best, a failure
 * streak, a stopped study and the periodic summary; Slack/Discord fields; a hostile description
 * can't ping a channel; a failing endpoint is a warning, never an exception.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { StudyEvent } from '../loop/events.js';
import { Notifier } from './notifier.js';
import { postWebhook, webhookBody } from './webhook.js';

interface Hook {
  server: Server;
  url: string;
  bodies: Array<Record<string, unknown>>;
  status: number;
}

async function startHook(): Promise<Hook> {
  const hook = { bodies: [], status: 200 } as unknown as Hook;
  hook.server = createServer((req, res) => {
    let data = '';
    req.on('data', (d) => (data += d));
    req.on('end', () => {
      hook.bodies.push(JSON.parse(data) as Record<string, unknown>);
      res.writeHead(hook.status).end('ok');
    });
  });
  await new Promise<void>((r) => hook.server.listen(0, '127.0.0.1', r));
  hook.url = `http://127.0.0.1:${(hook.server.address() as AddressInfo).port}/hooks/secret-token`;
  return hook;
}

const started: StudyEvent = {
  type: 'study-started',
  t: 0,
  tag: 'nov27',
  branch: 'autoresearch/nov27',
  resumed: false,
  proposer: 'search',
  judge: 'noise',
  metric: 'val_bpb',
  direction: 'minimize',
  slots: [{ index: 0, label: 'cpu', gpu: null }],
  finished: 0,
  maxExperiments: null,
  maxHours: null,
  timeoutS: 30,
  best: { number: 0, commit: 'a'.repeat(40), value: 1.5 },
};

function finished(number: number, status: 'keep' | 'discard' | 'crash' | 'timeout', over: object = {}): StudyEvent {
  return {
    type: 'experiment-finished',
    t: number,
    number,
    slot: 0,
    baseline: false,
    status,
    value: status === 'keep' ? 1.4 : null,
    description: `change ${number}`,
    reason: status === 'crash' ? 'exit code 1: boom' : 'x',
    commit: null,
    runMs: 1,
    evidence: null,
    best: status === 'keep' ? { number, commit: 'b'.repeat(40), value: 1.4 } : null,
    finished: number,
    ...over,
  } as StudyEvent;
}

describe('webhook notifications', () => {
  let hook: Hook;
  before(async () => {
    hook = await startHook();
  });
  after(() => hook.server.close());

  it('posts a new best, one failure streak, a summary and the stop, in Slack and Discord fields', async () => {
    hook.bodies.length = 0;
    const warnings: string[] = [];
    const n = new Notifier({
      post: (m) => postWebhook(hook.url, m, 5000),
      warn: (w) => warnings.push(w),
      failureStreak: 3,
      summaryEveryMs: 0,
    });
    n.onEvent(started);
    n.onEvent(finished(1, 'keep'));
    for (const k of [2, 3, 4, 5]) n.onEvent(finished(k, 'crash')); // a streak of 4 posts once, at 3
    n.onEvent(finished(6, 'discard'));
    n.summary();
    n.onEvent({
      type: 'study-stopped',
      t: 9,
      reason: 'max-experiments',
      message: 'reached 6 experiments',
      finished: 6,
      notRun: 0,
      kept: 1,
      best: { number: 1, commit: 'b'.repeat(40), value: 1.4 },
      busy: [],
    });
    await n.flush();
    assert.deepEqual(warnings, []);
    const texts = hook.bodies.map((b) => b.content as string);
    assert.equal(texts.length, 4, texts.join('\n'));
    assert.match(texts[0]!, /new best val_bpb 1\.4 \(-0\.1 from #0\) at #1: change 1/);
    assert.match(texts[1]!, /3 experiments in a row failed; the last, #4 \(crash\): exit code 1: boom/);
    assert.match(texts[2]!, /6 experiments since the last summary, 1 kept, 4 crashed; best val_bpb 1\.4/);
    assert.match(texts[3]!, /study stopped \(max-experiments\): reached 6 experiments\. 6 experiments, 1 kept/);
    for (const b of hook.bodies) {
      assert.equal(typeof b.text, 'string', 'Slack reads text');
      assert.equal(typeof b.content, 'string', 'Discord reads content');
      assert.deepEqual(b.allowed_mentions, { parse: [] });
    }
  });

  it('posts the summary on its timer', async () => {
    hook.bodies.length = 0;
    const n = new Notifier({
      post: (m) => postWebhook(hook.url, m, 5000),
      warn: () => {},
      failureStreak: 3,
      summaryEveryMs: 50,
    });
    n.onEvent(started);
    await new Promise((r) => setTimeout(r, 180));
    n.close();
    await n.flush();
    assert.ok(hook.bodies.length >= 2, `summaries: ${hook.bodies.length}`);
    assert.match(hook.bodies[0]!.content as string, /since the last summary/);
  });

  it('a hostile description cannot ping a Slack channel or a Discord role', () => {
    const b = webhookBody('new best: <!channel> <https://evil.example|click> @everyone');
    assert.equal(b.text, 'new best: &lt;!channel&gt; &lt;https://evil.example|click&gt; @everyone');
    assert.deepEqual(b.allowed_mentions, { parse: [] });
    assert.ok((webhookBody('x'.repeat(5000)).content as string).length <= 1900);
  });

  it('a failing endpoint is a warning that hides the URL, and the rest goes on', async () => {
    hook.bodies.length = 0;
    hook.status = 500;
    const warnings: string[] = [];
    const n = new Notifier({
      post: (m) => postWebhook(hook.url, m, 5000),
      warn: (w) => warnings.push(w),
      failureStreak: 3,
      summaryEveryMs: 0,
    });
    n.onEvent(started);
    n.onEvent(finished(1, 'keep'));
    await n.flush();
    hook.status = 200;
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0]!,
      /notification not sent: webhook http:\/\/127\.0\.0\.1:\d+\/… answered HTTP 500 \(the study goes on\)/,
    );
    assert.ok(!warnings[0]!.includes('secret-token'), 'the URL path (the secret) is not shown');
    // nothing listening: a connection error, also a warning
    const closed = await postWebhook('http://127.0.0.1:9/x', 'hi', 2000);
    assert.equal(closed.ok, false);
  });
});
