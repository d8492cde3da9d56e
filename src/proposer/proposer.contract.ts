/**
 * The shared Proposer contract suite (see types.ts): every implementation runs it
 * (proposer-contract.test.ts: search, anthropic and openai against the fake servers).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { makeProposalDir, proposalContext } from '../test-support/proposal-fixtures.js';
import type { ProposalResult, Proposer } from './types.js';

export interface ProposerHarness {
  proposer: Proposer;
  cleanup: () => Promise<void>;
  /**
   * What the proposer asked its model so far (the bodies of the model calls), for proposers
   * driven by a scripted model: the same context must give the same questions.
   */
  modelCalls?: () => unknown[];
}

export interface ProposerSubject {
  /**
   * A proposer that will make a good proposal on the landscape files, and the same one again
   * when asked again with the same context (a scripted model answers every proposal alike).
   */
  good: () => Promise<ProposerHarness>;
  /** One that will fail for an expected reason (garbage answers, server errors, nothing to change). */
  broken: () => Promise<ProposerHarness>;
  /** One that never answers until aborted (omit when the proposer can't hang). */
  hanging?: () => Promise<ProposerHarness>;
}

function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((f) => [f, readFileSync(join(dir, f), 'utf8')]),
  );
}

async function using<T>(make: () => Promise<ProposerHarness>, fn: (p: Proposer) => Promise<T>): Promise<T> {
  const h = await make();
  try {
    return await fn(h.proposer);
  } finally {
    await h.cleanup();
  }
}

const plain = (r: ProposalResult) => ({
  kind: r.kind,
  ...(r.kind === 'ok' ? { description: r.description } : { reason: r.reason }),
});

export function proposerContract(name: string, subject: ProposerSubject): void {
  describe(`Proposer contract: ${name}`, () => {
    it('edits only the editable files and returns a one-line description', () =>
      using(subject.good, async (p) => {
        const dir = makeProposalDir();
        const before = snapshot(dir);
        const r = await p.propose(proposalContext(dir));
        assert.equal(r.kind, 'ok', JSON.stringify(r));
        assert.ok(r.kind === 'ok');
        assert.ok(r.description.trim().length > 0 && !r.description.includes('\n'), r.description);
        const after = snapshot(dir);
        assert.deepEqual(Object.keys(after), Object.keys(before), 'no file created or removed');
        assert.equal(after['prepare.mjs'], before['prepare.mjs'], 'the protected file is untouched');
        assert.notEqual(after['train.mjs'], before['train.mjs'], 'the editable file changed');
        assert.equal(typeof p.name, 'string');
      }));

    it('is deterministic: two instances asked the same contexts in the same order make the same changes', async () => {
      // The files are compared, not only the description; a scripted model must be asked the
      // same questions. Two calls per instance: a proposer may keep state between calls (the
      // search claims a move so that concurrent calls differ, until the history shows it), but
      // that state must follow from the calls alone, never from time or chance.
      const run = async () => {
        const h = await subject.good();
        try {
          const dir = makeProposalDir();
          const start = snapshot(dir);
          const ctx = proposalContext(dir);
          const once = async () => {
            for (const [f, text] of Object.entries(start)) writeFileSync(join(dir, f), text);
            const callsBefore = h.modelCalls?.().length ?? 0;
            const r = await h.proposer.propose(ctx);
            return { result: plain(r), files: snapshot(dir), calls: h.modelCalls?.().slice(callsBefore) ?? [] };
          };
          const first = await once();
          assert.equal(first.result.kind, 'ok', JSON.stringify(first.result));
          assert.notEqual(first.files['train.mjs'], start['train.mjs'], 'the proposal changed the editable file');
          if (h.modelCalls) assert.ok(first.calls.length > 0, 'the model was asked');
          return [first, await once()];
        } finally {
          await h.cleanup();
        }
      };
      assert.deepEqual(await run(), await run());
    });

    it('expected failures are values, never throws, and leave protected files alone', () =>
      using(subject.broken, async (p) => {
        const dir = makeProposalDir();
        const r = await p.propose(proposalContext(dir));
        assert.notEqual(r.kind, 'ok');
        assert.ok(r.kind !== 'ok' && typeof r.reason === 'string' && r.reason.length > 0);
        assert.equal(snapshot(dir)['prepare.mjs'], snapshot(makeProposalDir())['prepare.mjs']);
      }));

    it('an aborted signal gives {kind: failed, reason: aborted} and changes nothing', () =>
      using(subject.good, async (p) => {
        const dir = makeProposalDir();
        const before = snapshot(dir);
        const ac = new AbortController();
        ac.abort();
        assert.deepEqual(plain(await p.propose(proposalContext(dir), ac.signal)), {
          kind: 'failed',
          reason: 'aborted',
        });
        assert.deepEqual(snapshot(dir), before);
      }));

    if (subject.hanging) {
      it('returns promptly when the signal aborts mid-proposal', () =>
        using(subject.hanging!, async (p) => {
          const ac = new AbortController();
          const t0 = Date.now();
          setTimeout(() => ac.abort(), 150);
          const r = await p.propose(proposalContext(makeProposalDir()), ac.signal);
          assert.deepEqual(plain(r), { kind: 'failed', reason: 'aborted' });
          assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
        }));
    }

    it('preflight, when present, answers a line or null and never throws', async () => {
      const h = await subject.good();
      try {
        if (!h.proposer.preflight) return;
        const m = await h.proposer.preflight();
        assert.ok(m === null || (typeof m === 'string' && !m.includes('\n')), String(m));
      } finally {
        await h.cleanup();
      }
    });
  });
}
