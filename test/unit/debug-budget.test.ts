/** A breakpoint's CPU budget (a leaky bucket of CPU milliseconds, and the share it reports when it runs over), and the gate's conditions. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CpuBudget, DebugGate, RateLimit } from '../../src/agent/debugger/gate';
import { GATE_GLOBAL } from '../../src/common/debugExpressions';

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

describe('DebugGate conditions', () => {
  it('pause once on a breakpoint\'s first evaluation, to measure V8\'s cost at its line, then decide as before', () => {
    const gate = new DebugGate();
    gate.install();
    try {
      const slot = gate.allocate((n) => ({
        slot: n,
        active: true,
        hitCondition: undefined,
        rate: new RateLimit(10, 60_000),
        budget: new CpuBudget(1),
        evaluationCostMs: 0.05,
        onBudgetExceeded: () => {},
        onConditionError: () => {},
      }))!;
      // What V8 evaluates at the breakpoint, here as a plain function of the same text.
      const evaluate = new Function(`return ${gate.condition(slot, `${GATE_GLOBAL}.t(${slot.slot})`, 'false')}`) as () => boolean;
      assert.ok(evaluate(), 'the first evaluation pauses, whatever the condition');
      assert.deepEqual(gate.takeMeasuring(), [slot]);
      assert.deepEqual(gate.takeFired().slots, [], 'a measuring pause is not a snapshot when the condition is false');
      for (let i = 0; i < 5; i++) assert.ok(!evaluate(), 'then the false condition holds');
      assert.deepEqual(gate.takeMeasuring(), [], 'and it never pauses to measure again');
      assert.equal(slot.evaluations, 6, 'every evaluation is counted for the budget');

      // A breakpoint whose condition holds takes its snapshot in the same first pause.
      const hit = gate.allocate((n) => ({ slot: n, active: true, hitCondition: undefined, rate: new RateLimit(10, 60_000), budget: new CpuBudget(1), evaluationCostMs: 0.05, onBudgetExceeded: () => {}, onConditionError: () => {} }))!;
      const first = new Function(`return ${gate.condition(hit, `${GATE_GLOBAL}.t(${hit.slot})`, undefined)}`) as () => boolean;
      assert.ok(first());
      assert.deepEqual(gate.takeMeasuring(), [hit]);
      assert.deepEqual(gate.takeFired().slots, [hit], 'the first hit is measured and captured at once');
      const other = gate.allocate((n) => ({ slot: n, active: true, hitCondition: undefined, rate: new RateLimit(10, 60_000), budget: new CpuBudget(1), evaluationCostMs: 0.05, onBudgetExceeded: () => {}, onConditionError: () => {} }))!;
      gate.close(other);
      const closed = new Function(`return ${gate.condition(other, `${GATE_GLOBAL}.t(${other.slot})`, undefined)}`) as () => boolean;
      assert.ok(!closed(), 'a closed breakpoint never pauses to measure');
      assert.deepEqual(gate.takeMeasuring(), []);
    } finally {
      gate.uninstall();
    }
  });
});
