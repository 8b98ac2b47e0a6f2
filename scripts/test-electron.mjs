#!/usr/bin/env node
// `npm run test:electron`: the same VS Code suite on a desktop VS Code through @vscode/test-electron.
// It downloads VS Code on first use, so it needs the internet (it cannot run on the offline CI machines;
// there `npm test` runs the suite in code-server instead).
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { runTests } from '@vscode/test-electron';
import { build, ensureDebianPackages, ensureNodeModules, root } from './lib/bootstrap.mjs';

ensureDebianPackages(['nats-server']);
ensureNodeModules();
build();
const { startNatsServer } = createRequire(import.meta.url)(join(root, 'out/src/launch/nats.js'));
const nats = await startNatsServer();
try {
  await runTests({
    version: '1.100.3',
    extensionDevelopmentPath: root,
    extensionTestsPath: join(root, 'out/test/vscode/index.js'),
    launchArgs: ['--disable-extensions', '--skip-welcome'],
    extensionTestsEnv: { SG_TEST_RESULTS: join(root, 'test-results'), SG_TEST_NATS_URL: nats.url },
  });
} catch (error) {
  console.error(`test:electron failed: ${error.message ?? error}`);
  console.error('It downloads VS Code from update.code.visualstudio.com; without internet use `npm test` (code-server).');
  process.exitCode = 1;
} finally {
  await nats.stop();
}
