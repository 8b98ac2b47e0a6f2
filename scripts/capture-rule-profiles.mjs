#!/usr/bin/env node
// Captures the real profiles the optimisation rules are tested on (test/unit/profile-rules.test.ts): for each
// rule, a profile of code that has the problem ("bad") and one of code that does not ("good"). Node workloads
// run under the agent's own profiler (build first: npm run build); Go workloads are built with Debian's
// golang-go offline and profiled through net/http/pprof. Run: node scripts/capture-rule-profiles.mjs
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'test/fixtures/profiles/rules');
const out = join(dir, 'captured');
mkdirSync(out, { recursive: true });
const profilerJs = join(root, 'out/src/agent/profiler.js');
const worker = join(dir, 'programs/capture-worker.js');

const nodeRules = ['json-hot-path', 'regexp-per-call', 'sync-fs', 'sync-zlib', 'sync-crypto', 'gc-share', 'buffer-concat', 'hot-logging', 'event-loop-sync-hash', 'large-allocation-site', 'heap-growth'];
const only = process.argv.slice(2);
for (const rule of nodeRules.filter((r) => !only.length || only.includes(r))) {
  for (const variant of ['bad', 'good']) {
    execFileSync(process.execPath, [worker, profilerJs, rule, variant, join(out, `${rule}-${variant}`)], { stdio: ['ignore', 'ignore', 'inherit'] });
    console.log(`${rule}-${variant}`);
  }
}

if (!only.length || only.includes('go')) {
  const build = mkdtempSync(join(tmpdir(), 'sg-gorules-'));
  const binary = join(build, 'gorules');
  const env = { ...process.env, GOPROXY: 'off', GOFLAGS: '-mod=mod', GOCACHE: join(build, 'cache'), GOPATH: join(build, 'gopath') };
  execFileSync('go', ['build', '-trimpath', '-o', binary, '.'], { cwd: join(dir, 'gorules'), env, stdio: 'inherit' });
  const captures = { alloc: ['cpu'], lean: ['cpu'], json: ['cpu'], contended: ['mutex', 'block'], uncontended: ['mutex', 'block'] };
  for (const [mode, types] of Object.entries(captures)) {
    const child = spawn(binary, ['-mode', mode], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const port = await new Promise((resolve, reject) => {
        let text = '';
        child.stdout.on('data', (chunk) => {
          text += chunk;
          const match = /GORULES_READY (\d+)/.exec(text);
          if (match) resolve(Number(match[1]));
        });
        child.on('exit', (code) => reject(new Error(`gorules exited (${code})`)));
      });
      for (const type of types) {
        const url = `http://127.0.0.1:${port}/debug/pprof/${type === 'cpu' ? 'profile?seconds=3' : type}`;
        if (type !== 'cpu') await new Promise((r) => setTimeout(r, 3000));
        const response = await fetch(url);
        if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
        writeFileSync(join(out, `go-${mode}.${type}.pb.gz`), Buffer.from(await response.arrayBuffer()));
        console.log(`go-${mode}.${type}`);
      }
    } finally {
      child.kill('SIGKILL');
    }
  }
}
