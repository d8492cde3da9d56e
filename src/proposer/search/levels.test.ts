import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findConstants } from './constants.ts';
import { levelMoves } from './levels.ts';

describe('levelMoves', () => {
  it('every move records the level it was asked at, booleans and strings included', () => {
    const src = "const LR = 0.01;\nconst USE_BIAS = true;\nconst ACTIVATION = 'relu';\nconst DEPTH = 4;\n";
    const constants = findConstants(src, 'typescript');
    assert.deepEqual(
      constants.map((c) => c.name),
      ['LR', 'USE_BIAS', 'ACTIVATION', 'DEPTH'],
    );
    for (const level of [1, 0, -1, -2]) {
      for (const c of constants) {
        const moves = levelMoves(c, level);
        if (c.name !== 'ACTIVATION') assert.ok(moves.length > 0, `${c.name} has moves at level ${level}`);
        for (const m of moves) assert.equal(m.level, level, `${c.name} at level ${level}`);
      }
    }
  });
});
