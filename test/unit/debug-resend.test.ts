/**
 * Snapshots and log lines lost to a NATS restart are sent again, once: the pod's numbered outbox and the
 * adapter's record of what it received.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionOutbox } from '../../src/agent/debugger/outbox';
import { ReceivedEvents } from '../../src/adapter/received';

describe('SessionOutbox', () => {
  it('numbers events from 1 and gives back what it holds after a number', () => {
    const outbox = new SessionOutbox();
    for (const text of ['a', 'b', 'c']) outbox.keep(outbox.next(), text);
    assert.equal(outbox.last, 3);
    assert.deepEqual(outbox.since(1), ['b', 'c']);
    assert.deepEqual(outbox.since(0), ['a', 'b', 'c']);
    assert.deepEqual(outbox.since(3), []);
  });

  it('holds at most its count and bytes, dropping the oldest, and keeps numbering after a clear', () => {
    const outbox = new SessionOutbox(2, 10);
    for (const text of ['aaaa', 'bbbb', 'cccc']) outbox.keep(outbox.next(), text);
    assert.deepEqual(outbox.since(0), ['bbbb', 'cccc']);
    outbox.keep(outbox.next(), 'dddddddddd');
    assert.deepEqual(outbox.since(0), ['dddddddddd'], 'over 10 bytes: only the newest is left');
    outbox.clear();
    assert.deepEqual(outbox.since(0), []);
    assert.equal(outbox.next(), 5);
  });
});

describe('ReceivedEvents', () => {
  it('accepts each number once, and what was resent after a gap only where the gap was', () => {
    const received = new ReceivedEvents();
    assert.equal(received.accept('gw-1', 'boot1', 1), true);
    assert.equal(received.accept('gw-1', 'boot1', 3), true); // 2 was lost
    assert.deepEqual(received.watermark('gw-1'), { boot: 'boot1', seq: 1 });
    // The pod sends again everything after 1: 2 is new, 3 is a duplicate.
    assert.equal(received.accept('gw-1', 'boot1', 2), true);
    assert.equal(received.accept('gw-1', 'boot1', 3), false);
    assert.deepEqual(received.watermark('gw-1'), { boot: 'boot1', seq: 3 });
    assert.equal(received.accept('gw-1', 'boot1', 1), false);
  });

  it('a sync answer settles a gap the pod could no longer fill', () => {
    const received = new ReceivedEvents();
    received.accept('gw-1', 'boot1', 1);
    received.accept('gw-1', 'boot1', 5);
    received.settle('gw-1', { boot: 'boot1', seq: 5 });
    assert.deepEqual(received.watermark('gw-1'), { boot: 'boot1', seq: 5 });
    assert.equal(received.accept('gw-1', 'boot1', 5), false);
    assert.equal(received.accept('gw-1', 'boot1', 6), true);
  });

  it('a restarted pod (another boot) counts from the start, and pods are counted apart', () => {
    const received = new ReceivedEvents();
    received.accept('gw-1', 'boot1', 1);
    received.accept('gw-1', 'boot1', 2);
    assert.equal(received.accept('gw-1', 'boot2', 1), true);
    assert.deepEqual(received.watermark('gw-1'), { boot: 'boot2', seq: 1 });
    assert.equal(received.accept('gw-2', 'boot9', 1), true);
    assert.equal(received.watermark('gw-3'), undefined);
  });
});
