import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadNabCorpus, readCsvColumns, readResultScores } from '../../src/cli/eval/nabData';
import { DEFAULT_COST_MATRICES, NAB_PROFILES, probationLength, scaledSigmoid, scoreCorpus, scoreFile, sweepFile, windowRows, type NabProfile } from '../../src/cli/eval/nabScorer';
import { evalDataDir } from '../support/evalData';

/**
 * NAB 1.1's thresholds for the Numenta HTM detector are not in the data folder, but its per-row S(t) columns fix
 * them: standard and reward_low_FN_rate detect every row scored ≥ t for any t in (0.541686, 0.547289], low-FP in
 * (0.575125, 0.577098]. Any value inside gives the same detections.
 */
const PUBLISHED_THRESHOLD: Record<NabProfile, number> = { standard: 0.5472, reward_low_FP_rate: 0.577, reward_low_FN_rate: 0.5472 };

describe('NAB scorer: hand-made case', () => {
  it('scores an early detection near +1, a late one near 0, a miss −1 and false positives by their distance', () => {
    const cost = DEFAULT_COST_MATRICES.standard;
    // 20 rows: probation = 3 rows; one window of rows 10..14.
    const swept = sweepFile(20, [[10, 14]], cost);
    assert.equal(probationLength(20), 3);
    assert.deepEqual([...swept.window.subarray(0, 4)], [-2, -2, -2, -1]);
    assert.ok(Math.abs(swept.sweep[10]! - 1) < 1e-12, 'the first row of a window is worth A_tp');
    assert.ok(Math.abs(swept.sweep[14]! - scaledSigmoid(-1 / 5) / scaledSigmoid(-1)) < 1e-12);
    assert.equal(swept.sweep[5], -0.11, 'before any window: −A_fp');
    assert.ok(Math.abs(swept.sweep[18]! - 0.11 * scaledSigmoid(4 / 4)) < 1e-12);
    const scores = new Float64Array(20);
    assert.equal(scoreFile(swept, scores, 0.5, cost), -1, 'no detection: the window is missed');
    scores[12] = 0.9;
    scores[11] = 0.6;
    scores[5] = 0.7;
    scores[1] = 1; // in probation: ignored
    assert.ok(Math.abs(scoreFile(swept, scores, 0.5, cost) - (swept.sweep[11]! - 0.11)) < 1e-12, 'the earliest detection in the window counts');
    assert.ok(Math.abs(scoreFile(swept, scores, 0.8, cost) - swept.sweep[12]!) < 1e-12);
    const best = scoreCorpus([{ timestamps: new Float64Array(20).map((_, i) => i), windows: [[10, 14]], scores }], cost);
    assert.equal(best.threshold, 0.9, 'the sweep keeps the detection in the window and drops the false positive');
    assert.ok(Math.abs(best.normalised - (100 * (swept.sweep[12]! + 1)) / 2) < 1e-9);
  });
});

describe('NAB scorer: golden test against the published Numenta HTM results', () => {
  const dir = join(evalDataDir(), 'nab');
  const corpus = loadNabCorpus(dir);
  const results = join(dir, 'results', 'numenta');
  const files = corpus.files.map((file) => ({ file, windows: windowRows(file.timestamps, file.windowLimits), scores: readResultScores(results, file) }));

  it('reads 45 files and 88 windows', () => {
    assert.equal(files.length, 45);
    assert.equal(files.reduce((n, f) => n + f.windows.length, 0), 88);
  });

  for (const profile of NAB_PROFILES) {
    it(`gives every file the total of its published S(t)_${profile} column`, () => {
      for (const { file, windows, scores } of files) {
        const slash = file.name.lastIndexOf('/');
        const path = join(results, file.name.slice(0, slash + 1), `numenta_${file.name.slice(slash + 1)}`);
        const published = readCsvColumns(path, [`S(t)_${profile}`]).columns[0]!.reduce((s, v) => s + v, 0);
        const ours = scoreFile(sweepFile(file.values.length, windows, corpus.profiles[profile]), scores, PUBLISHED_THRESHOLD[profile], corpus.profiles[profile]);
        assert.ok(Math.abs(ours - published) < 1e-9, `${file.name}: ours ${ours}, published ${published}`);
      }
    });
  }

  it('reproduces Numenta HTM\'s 67.1 (standard) at its published threshold, and the sweep finds no worse', () => {
    const corpusFiles = files.map(({ file, windows, scores }) => ({ timestamps: file.timestamps, windows, scores }));
    const published = scoreCorpus(corpusFiles, corpus.profiles.standard, PUBLISHED_THRESHOLD.standard);
    assert.ok(Math.abs(published.normalised - 67.1) < 0.1, `standard ${published.normalised}`);
    const swept = scoreCorpus(corpusFiles, corpus.profiles.standard);
    assert.ok(swept.normalised >= published.normalised);
    assert.ok(Math.abs(swept.normalised - 67.34) < 0.01, `sweep ${swept.normalised} at ${swept.threshold}`);
  });
});
