/**
 * The live record of which clients of which tenants started sessions: retention needs sets of clients per half
 * of a range, exactly, however many session starts arrive, within a bound set by the number of clients.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PROTOCOL_VERSION, type EventBatch } from '../../src/protocol/nats';
import { LiveClients } from '../../src/server/live/clients';

const NOW = 1_800_000_000_000;

function batch(events: { ts: number; tenant: string; client: string; type?: string }[]): EventBatch {
  return {
    v: PROTOCOL_VERSION,
    kind: 'events',
    id: `m${Math.random()}`,
    service: 'gateway',
    pod: 'gw-1',
    ts: NOW,
    seq: 0,
    events: events.map((e, i) => ({ id: `e${i}`, ts: e.ts, type: (e.type ?? 'session.started') as 'session.started', tenant: e.tenant, attrs: { client: e.client } })),
  };
}

function random(seed: number): () => number {
  let a = seed;
  return () => ((a = (a * 16807) % 2147483647) / 2147483647);
}

describe('live clients', () => {
  it('answers retention halves exactly after a million session starts, far past the old 500k-sighting cap', () => {
    const clients = new LiveClients();
    const next = random(11);
    const all: { ts: number; tenant: string; client: string }[] = [];
    // 15 minutes, in order, 1 100 starts a second from 40 tenants × up to 200 clients, some clients only early or late.
    for (let ms = NOW - 900_000; ms < NOW; ms += 1000) {
      const second: typeof all = [];
      for (let i = 0; i < 1100; i++) {
        const tenant = `t${Math.floor(next() * 40)}`;
        const early = ms < NOW - 450_000;
        const client = `c${Math.floor(next() * 150) + (early ? 0 : 50)}`;
        second.push({ ts: ms + Math.floor(next() * 1000), tenant, client });
      }
      all.push(...second);
      clients.add(batch(second), ms + 1000);
    }
    assert.ok(all.length > 900_000);
    for (const [from, to] of [
      [NOW - 900_000, NOW],
      [NOW - 600_000, NOW - 60_000],
      [NOW - 30_000, NOW],
    ] as const) {
      const mid = from + (to - from) / 2;
      const expected = new Map<string, { first: Set<string>; second: Set<string> }>();
      for (const e of all) {
        if (e.ts < from || e.ts >= to) continue;
        let entry = expected.get(e.tenant);
        if (!entry) expected.set(e.tenant, (entry = { first: new Set(), second: new Set() }));
        (e.ts < mid ? entry.first : entry.second).add(e.client);
      }
      const got = clients.halves(from, mid, to, undefined, NOW);
      assert.deepEqual(got, expected, `halves of [${NOW - from}, ${NOW - to}) ms ago`);
    }
    assert.ok(clients.size <= 40 * 200, `${clients.size} clients kept`);
  });

  it('takes late and out-of-order starts within the window, ignores older ones and other event types', () => {
    const clients = new LiveClients();
    clients.add(batch([{ ts: NOW - 1000, tenant: 'a', client: 'late' }]), NOW);
    clients.add(batch([{ ts: NOW - 800_000, tenant: 'a', client: 'late' }, { ts: NOW - 2_000_000, tenant: 'a', client: 'ancient' }, { ts: NOW - 700_000, tenant: 'a', client: 'x', type: 'session.ended' }]), NOW);
    const got = clients.halves(NOW - 900_000, NOW - 450_000, NOW, undefined, NOW);
    assert.deepEqual(got, new Map([['a', { first: new Set(['late']), second: new Set(['late']) }]]));
    assert.deepEqual(clients.halves(NOW - 900_000, NOW - 450_000, NOW, 'b', NOW), new Map(), 'the tenant filter');
  });

  it('forgets clients not seen for the window, and the longest unseen past its bound', () => {
    const clients = new LiveClients(100);
    clients.add(batch(Array.from({ length: 150 }, (_, i) => ({ ts: NOW - 600_000 + i * 1000, tenant: 't', client: `c${i}` }))), NOW);
    assert.equal(clients.size, 100, 'bounded');
    const seen = clients.halves(NOW - 900_000, NOW - 1, NOW, undefined, NOW).get('t')!.first;
    assert.ok(seen.has('c149') && seen.has('c50') && !seen.has('c49'), 'the 100 seen last are kept');
    assert.equal(clients.halves(NOW, NOW + 1, NOW + 2, undefined, NOW + 16 * 60_000).size, 0);
    assert.equal(clients.size, 0, 'nothing seen within the window: all gone');
  });
});
