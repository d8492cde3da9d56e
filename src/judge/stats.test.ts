import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chiSquareQuantile, normalQuantile, tCdf, tQuantile } from './stats.js';

const close = (a: number, b: number, tol = 1e-3) => assert.ok(Math.abs(a - b) < tol, `${a} vs ${b}`);

describe('distribution quantiles against printed tables', () => {
  it("Student's t", () => {
    close(tQuantile(0.975, 1), 12.706);
    close(tQuantile(0.975, 2), 4.303);
    close(tQuantile(0.95, 5), 2.015);
    close(tQuantile(0.99, 10), 2.764);
    close(tQuantile(0.995, 30), 2.75);
    close(tQuantile(0.025, 4), -2.776);
    close(tQuantile(0.5, 3), 0);
    close(tCdf(2.228, 10), 0.975, 1e-4);
  });

  it('the normal as t with infinite degrees of freedom', () => {
    close(normalQuantile(0.975), 1.95996);
    close(normalQuantile(0.99), 2.32635);
    close(tQuantile(0.975, 1e6), 1.95996);
  });

  it('chi-square', () => {
    close(chiSquareQuantile(0.025, 2), 0.0506);
    close(chiSquareQuantile(0.975, 2), 7.378);
    close(chiSquareQuantile(0.025, 10), 3.247);
    close(chiSquareQuantile(0.975, 10), 20.483);
    close(chiSquareQuantile(0.5, 1), 0.455);
    close(chiSquareQuantile(0.975, 100), 129.561, 1e-2);
  });
});
