import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Experiment } from '../ledger/types.js';
import { HUB_PROPOSER } from './import-best.js';
import { hubParentOf } from './poster.js';

const sha = (c: string) => c.repeat(40);
const exp = (over: Partial<Experiment>): Experiment => ({ ...({} as Experiment), ...over });

describe('hubParentOf', () => {
  const imported = exp({ number: 3, commit: sha('b'), proposer: HUB_PROPOSER, change: { hubCommit: sha('c') } });
  const local = exp({ number: 4, commit: sha('d'), proposer: 'search', change: null });

  it("posts an imported best's hub commit as the parent (the hub has no node for the local rebuild)", () => {
    assert.equal(hubParentOf({ parentCommit: sha('b') }, [imported, local]), sha('c'));
  });

  it('leaves any other parent as it is', () => {
    assert.equal(hubParentOf({ parentCommit: sha('d') }, [imported, local]), sha('d'));
    assert.equal(hubParentOf({ parentCommit: sha('e') }, [imported, local]), sha('e'));
  });

  it('ignores a hubCommit that is not a commit hash, or one on an experiment the hub did not import', () => {
    const bad = exp({ commit: sha('f'), proposer: HUB_PROPOSER, change: { hubCommit: '../../etc' } });
    const forged = exp({ commit: sha('a'), proposer: 'llm', change: { hubCommit: sha('c') } });
    assert.equal(hubParentOf({ parentCommit: sha('f') }, [bad]), sha('f'));
    assert.equal(hubParentOf({ parentCommit: sha('a') }, [forged]), sha('a'));
  });
});
