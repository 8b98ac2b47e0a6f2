/** Expression checks: what may reach a pod as a condition, watch or logpoint part, and why the rest may not. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkExpression, GATE_GLOBAL, hitConditionMet, parseHitCondition, parseLogTemplate } from '../../src/common/debugExpressions';

function refused(expression: string): string {
  const checked = checkExpression(expression);
  if (checked.ok) throw new assert.AssertionError({ message: `${expression} should be refused` });
  return checked.reason;
}

function compiled(expression: string): string {
  const checked = checkExpression(expression);
  assert.ok(checked.ok, `${expression} should be accepted: ${checked.ok ? '' : checked.reason}`);
  return checked.compiled;
}

describe('debug expression checks', () => {
  it('accepts reads, comparisons, logic, templates, optional chaining and literals', () => {
    for (const expression of ['tenant.id === "acme"', 'req.headers["x-tenant"]', 'order?.lines[0]?.qty > 3 && !done', '`${a}-${b}`', 'typeof x === "string" ? 1 : 2', '[a, b]', '({ a, b: c })', 'x in map', 'n % 100 == 0']) {
      assert.equal(checkExpression(expression).ok, true, expression);
    }
  });

  it('refuses writes and says which', () => {
    assert.match(refused('x = 1'), /assigns to x: conditions and watches may only read/);
    assert.match(refused('a.b += 2'), /assigns to a\.b/);
    assert.match(refused('count++'), /changes count with \+\+/);
    assert.match(refused('delete cache[key]'), /deletes cache\[key\]/);
  });

  it('refuses what runs user code or could run without end', () => {
    assert.match(refused('new Date()'), /creates an object with new/);
    assert.match(refused('await ready'), /uses await: a snapshot is taken synchronously/);
    assert.match(refused('items.map((i) => i.id)'), /defines a function|calls items\.map/);
    assert.match(refused('(() => { while (true) {} })()'), /defines a function/);
    assert.match(refused('/(a+)+$/.test(s)'), /regular expression/);
    assert.match(refused('[...items]'), /spreads items, which runs its iterator/);
    assert.match(refused('tag`x`'), /tag function/);
    assert.match(refused('class {}'), /defines a class/);
    assert.match(refused('import("fs")'), /imports a module/);
  });

  it('refuses calls outside the allowlist with a message that says why, and allows pure built-ins', () => {
    const reason = refused('audit.record(user)');
    assert.match(reason, /calls audit\.record\(\), a function with possible side effects or unbounded cost/);
    assert.match(refused('JSON.stringify(req)'), /calls JSON\.stringify\(\)/);
    assert.match(refused('process.exit(1)'), /calls process\.exit\(\)/);
    assert.equal(checkExpression('url.startsWith("/v1/") && Math.max(a, b) > 3 && ids.includes(id)').ok, true);
  });

  it('compiles allowed calls through the gate, so a look-alike method on an app object never runs', () => {
    const out = compiled('name.toLowerCase().startsWith("ac") && Math.max(a, 1) > 0 && m?.has(k)');
    assert.ok(out.includes(`${GATE_GLOBAL}.m(${GATE_GLOBAL}.m(name, "toLowerCase", false), "startsWith", false, "ac")`), out);
    assert.ok(out.includes(`${GATE_GLOBAL}.f("Math.max", a, 1)`), out);
    assert.ok(out.includes(`${GATE_GLOBAL}.m(m, "has", true, k)`), out);
    assert.equal(compiled('({ a, b })'), '({ a, b })', 'shorthand properties stay as written');
  });

  it('refuses the debugger\'s own names, several statements, junk and overlong input', () => {
    assert.match(refused(`${GATE_GLOBAL}.t(1)`), /the debugger's own names/);
    assert.match(refused('a; b'), /not a single expression/);
    assert.match(refused('a ==='), /does not parse/);
    assert.match(refused(''), /is empty/);
    assert.match(refused(`a + ${'1 + '.repeat(400)}1`), /characters long/);
  });
});

describe('logpoint templates and hit conditions', () => {
  it('splits templates into text and expressions, with {{ }} as literal braces', () => {
    const parsed = parseLogTemplate('user {user.id} took {ms}ms {{not}}');
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.parts, [{ text: 'user ' }, { expression: 'user.id' }, { text: ' took ' }, { expression: 'ms' }, { text: 'ms {not}' }]);
    assert.deepEqual(parseLogTemplate('obj {({ a: 1 }).a}').ok && parseLogTemplate('obj {({ a: 1 }).a}'), { ok: true, parts: [{ text: 'obj ' }, { expression: '({ a: 1 }).a' }] });
    const bad = parseLogTemplate('open {user.id');
    assert.equal(bad.ok, false);
  });

  it('parses hit conditions and evaluates them', () => {
    const every100 = parseHitCondition('% 100 == 0');
    assert.ok(every100.ok);
    assert.deepEqual([99, 100, 200].map((n) => hitConditionMet(every100.value, n)), [false, true, true]);
    const atLeast10 = parseHitCondition('>= 10');
    assert.ok(atLeast10.ok);
    assert.deepEqual([9, 10].map((n) => hitConditionMet(atLeast10.value, n)), [false, true]);
    const bare = parseHitCondition('5');
    assert.ok(bare.ok && bare.value.op === '>=' && bare.value.n === 5);
    const bad = parseHitCondition('often');
    if (bad.ok) throw new assert.AssertionError({ message: 'often is not a hit condition' });
    assert.match(bad.reason, /not a hit condition/);
  });
});
