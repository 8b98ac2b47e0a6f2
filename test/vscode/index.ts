/**
 * Runs inside the real VS Code's extension host (code-server, or a desktop VS Code via test-electron):
 * mocha over suite/*.test.js, then one result line the harness reads from the console.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import Mocha from 'mocha';
import { RESULT_PREFIX, type SuiteResult } from './protocol';

export async function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 120_000, reporter: 'spec' });
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
  const result: SuiteResult = { passed, failed, failures };
  console.log(`${RESULT_PREFIX}${JSON.stringify(result)}`);
  if (failed > 0) throw new Error(`${failed} VS Code test(s) failed`);
}
