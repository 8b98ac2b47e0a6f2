/** A breakpoint's CPU budget: a leaky bucket of CPU milliseconds, and the share it reports when it runs over. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CpuBudget } from '../../src/agent/debugger/gate';

/** Charges `msPerSecond` in four charges a second (as the gate's settle timer does) from t=0 until `untilMs` or the budget runs out; when it ran out. */
function run(budget: CpuBudget, msPerSecond: number, untilMs: number): number | undefined {
  for (let t = 250; t <= untilMs; t += 250) if (!budget.charge(msPerSecond / 4, t)) return t;
  return undefined;
}

describe('CpuBudget', () => {
  it('keeps a breakpoint that stays under its share, indefinitely', () => {
    const budget = new CpuBudget(1, 10_000, 0);
    assert.equal(run(budget, 9, 600_000), undefined, '0.9 % of a core for ten minutes is within 1 %');
    assert.ok(Math.abs(budget.usedPercent(600_000) - 0.9) < 0.01, `${budget.usedPercent(600_000)}`);
  });

  it('runs out for a breakpoint over its share, and reports what it really used over the window', () => {
    const budget = new CpuBudget(1, 10_000, 0);
    // 3 % of a core: the bucket of 100 ms fills at 20 ms a second above the drain, so it runs over after ~5 s.
    const over = run(budget, 30, 600_000);
    assert.ok(over !== undefined && over > 4000 && over < 6000, `ran out at ${over} ms`);
    assert.ok(Math.abs(budget.usedPercent(over) - 3) < 0.1, `reported ${budget.usedPercent(over)} %`);
  });

  it('counts a burst against the window it happened in, then forgets it', () => {
    const budget = new CpuBudget(1, 10_000, 0);
    assert.equal(budget.charge(60, 2000), true, 'a 60 ms burst fits the 100 ms bucket');
    assert.ok(Math.abs(budget.usedPercent(2000) - 3) < 0.01, 'over the 2 s since it was set: 3 %');
    assert.ok(Math.abs(budget.usedPercent(10_000) - 0.6) < 0.01, 'over the full window: 0.6 %');
    assert.equal(budget.usedPercent(12_001), 0, 'a window later it is forgotten');
    assert.equal(budget.charge(50, 12_001), true, 'and the bucket has drained');
    assert.equal(budget.charge(60, 12_002), false, 'but not twice in a row');
  });
});
