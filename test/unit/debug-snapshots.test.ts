/** The adapter's snapshot queues: what a thread shows, and the frame ids DAP hands out for it. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SnapshotQueues } from '../../src/adapter/snapshots';
import { PROTOCOL_VERSION, type SnapshotEvent } from '../../src/protocol/nats';

function snapshot(id: string): SnapshotEvent {
  return {
    v: PROTOCOL_VERSION, kind: 'snapshot', session: 's', pod: 'gw-1', service: 'gateway', at: 0, id, reason: 'breakpoint', version: '1', watches: [], captureMs: 0.2, leftOut: [], bytes: 10,
    frames: [{ function: 'publish', file: '/app/server.ts', line: 228, column: 4 }, { function: 'handle', file: '/app/server.ts', line: 120, column: 2 }],
  };
}

describe('SnapshotQueues', () => {
  it('names a shown snapshot\'s frames alike in every stackTrace (VS Code and a test asking for the same thread agree)', () => {
    const queues = new SnapshotQueues();
    const first = snapshot('gw-1.a.1');
    assert.equal(queues.offer(1, first), 'show');
    const ids = first.frames.map((f, i) => queues.frameRef(first, f, i));
    assert.notEqual(ids[0], ids[1]);
    assert.deepEqual(first.frames.map((f, i) => queues.frameRef(first, f, i)), ids);
    assert.equal(queues.frame(ids[1]!)?.frame.function, 'handle');
  });

  it('gives the next snapshot new frame ids once the shown one is dismissed, and forgets the old ones', () => {
    const queues = new SnapshotQueues();
    const first = snapshot('gw-1.a.1');
    const second = snapshot('gw-1.a.2');
    queues.offer(1, first);
    assert.equal(queues.offer(1, second), 'queued');
    const old = queues.frameRef(first, first.frames[0]!, 0);
    assert.equal(queues.dismiss(1), second);
    assert.equal(queues.frame(old), undefined, 'a dismissed snapshot\'s frame is gone');
    const next = queues.frameRef(second, second.frames[0]!, 0);
    assert.notEqual(next, old);
    assert.equal(queues.frame(next)?.snapshot.id, 'gw-1.a.2');
  });
});
