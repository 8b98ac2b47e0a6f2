import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SingleFlight } from '../../src/common/singleFlight';

describe('SingleFlight', () => {
  it('returns the running work to a second caller, and runs again once it has settled', async () => {
    const flight = new SingleFlight<number>();
    let runs = 0;
    let release!: () => void;
    const work = () => new Promise<number>((resolve) => {
      runs++;
      release = () => resolve(runs);
    });
    const first = flight.run(work);
    const second = flight.run(work);
    assert.equal(first, second);
    assert.equal(runs, 1);
    release();
    assert.equal(await first, 1);
    const third = flight.run(work);
    assert.notEqual(third, first, 'a run after the first settled starts anew');
    release();
    assert.equal(await third, 2);
  });

  it('is free again after work that finished without waiting on anything', async () => {
    const flight = new SingleFlight<string>();
    let runs = 0;
    // An async function with no await in its path settles before run() returns.
    const work = async () => `run ${++runs}`;
    assert.equal(await flight.run(work), 'run 1');
    assert.equal(flight.busy, false);
    assert.equal(await flight.run(work), 'run 2');
  });

  it('is free again after work that failed, synchronously or not', async () => {
    const flight = new SingleFlight<void>();
    await assert.rejects(flight.run(() => {
      throw new Error('at once');
    }), /at once/);
    assert.equal(flight.busy, false);
    await assert.rejects(flight.run(async () => {
      throw new Error('later');
    }), /later/);
    assert.equal(flight.busy, false);
  });
});
