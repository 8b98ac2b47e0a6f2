/**
 * Runs inside the real VS Code's extension host (code-server, or a desktop VS Code via test-electron):
 * mocha over suite/*.test.js, then one result line the harness reads from the console.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import Mocha from 'mocha';
import { RESULT_PREFIX, type SuiteResult } from './protocol';
import { ON_SCREEN } from './support';

export async function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 120_000, reporter: 'spec' });
  // Only the code-server harness drives a browser that can read the screen; elsewhere (test-electron) the
  // tests that read it are left out, visibly, instead of passing without their assertions.
  const canReadScreen = process.env.SG_TEST_HARNESS === 'code-server';
  if (!canReadScreen) {
    mocha.grep(ON_SCREEN).invert();
    console.log(`tests titled "${ON_SCREEN}" read the screen and need the code-server harness: not run here`);
  }
  // SG_TEST_GREP narrows a run to the tests whose full title matches (for working on one suite; CI runs all).
  const only = process.env.SG_TEST_GREP;
  if (only) {
    if (!canReadScreen) throw new Error('SG_TEST_GREP works with the code-server harness only');
    mocha.grep(only);
    console.log(`SG_TEST_GREP: only the tests matching /${only}/`);
  }
  const suiteDir = join(__dirname, 'suite');
  for (const file of readdirSync(suiteDir).filter((f) => f.endsWith('.test.js')).sort()) mocha.addFile(join(suiteDir, file));
  let passed = 0;
  let failed = 0;
  const failures: string[] = [];
  await new Promise<void>((resolve) => {
    const runner = mocha.run(() => resolve());
    runner.on('pass', () => passed++);
    runner.on('fail', (test, error: Error) => {
      failed++;
      failures.push(`${test.fullTitle()}: ${error.message}`);
    });
  });
  if (only && passed + failed === 0) {
    failed++;
    failures.push(`SG_TEST_GREP=${only} matched no test`);
  }
  const result: SuiteResult = { passed, failed, failures };
  console.log(`${RESULT_PREFIX}${JSON.stringify(result)}`);
  if (failed > 0) throw new Error(`${failed} VS Code test(s) failed`);
}
