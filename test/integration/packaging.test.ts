/**
 * The VSIXes as users get them: `npm run package` for this machine's platform and for every other one (its DuckDB
 * binding from npm's cache, or fetched from the registry the first time), checked by opening each VSIX (target, native binary format, allowlist,
 * size); the check itself caught on doctored VSIXes; and the universal VSIX, which has no DuckDB, running its
 * own language server: it starts, says why the embedded store is unavailable, and works on ClickHouse and
 * against a shared `sg server`.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as readline from 'node:readline';
import { after, afterEach, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { crc32, deflateRawSync } from 'node:zlib';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { startAgent } from '../../src/agent';
import { AnalyticsSummaryRequest, ConfigureRequest, StatusRequest, type InitializationOptions } from '../../src/protocol/lsp';
import type { ServerSettings } from '../../src/protocol/settings';
import type { ServerStatus } from '../../src/protocol/status';
import { eventually, repoRoot, sharedClickHouse, sharedNats, tempDir, type Shared } from '../support/services';

interface NativeFile {
  path: string;
  format: string;
  arch: string;
  libc?: string;
}
interface VsixReport {
  file: string;
  target: string;
  declaredTarget: string;
  bytes: number;
  files: number;
  native: NativeFile[];
  icon?: { width: number; height: number };
  problems: string[];
}
interface ZipEntry {
  name: string;
  read(): Buffer;
}
interface VsixLib {
  readZip(bytes: Buffer): ZipEntry[];
  VSIX_TARGETS: Record<string, { binding?: string; format?: string; arch?: string; libc?: string }>;
  hostTarget(): string;
}

const scripts = join(repoRoot, 'scripts');
/** Every target of scripts/lib/vsixTargets.mjs (checked against it below); the loop skips the host's, tested first. */
const ALL_TARGETS = ['linux-x64', 'linux-arm64', 'alpine-x64', 'alpine-arm64', 'darwin-x64', 'darwin-arm64', 'win32-x64', 'win32-arm64', 'universal'];

async function vsixLib(): Promise<VsixLib> {
  const check = (await import(pathToFileURL(join(scripts, 'lib', 'vsixCheck.mjs')).href)) as Pick<VsixLib, 'readZip'>;
  const targets = (await import(pathToFileURL(join(scripts, 'lib', 'vsixTargets.mjs')).href)) as Omit<VsixLib, 'readZip'>;
  return { readZip: check.readZip, VSIX_TARGETS: targets.VSIX_TARGETS, hostTarget: targets.hostTarget };
}

function node(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, args, { cwd: repoRoot, encoding: 'utf8', maxBuffer: 64 * 1024 ** 2 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `npm run package -- --no-build --target T` (the tier has built already); returns the VSIX path. */
function packageTarget(target: string, offline: boolean): { file?: string; stderr: string } {
  const run = node([join(scripts, 'package.mjs'), '--no-build', '--target', target, ...(offline ? ['--offline'] : [])]);
  const file = new RegExp(`^✓ ${target}\\s.*\\s(\\S+\\.vsix)$`, 'm').exec(run.stdout)?.[1];
  return { ...(file ? { file } : {}), stderr: `${run.stdout}\n${run.stderr}` };
}

function checkVsix(file: string, target?: string): { status: number | null; reports: VsixReport[] } {
  const run = node([join(scripts, 'check-vsix.mjs'), '--json', ...(target ? ['--target', target] : []), file]);
  return { status: run.status, reports: JSON.parse(run.stdout) as VsixReport[] };
}

/** A zip of deflated entries: enough to build a doctored VSIX the check must refuse. */
function writeZip(file: string, entries: { name: string; data: Buffer }[]): void {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const { name, data: raw } of entries) {
    const nameBytes = Buffer.from(name, 'utf8');
    const crc = crc32(raw);
    const data = deflateRawSync(raw);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(raw.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(raw.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += 30 + nameBytes.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  writeFileSync(file, Buffer.concat([...locals, directory, end]));
}

function extractVsix(lib: VsixLib, file: string, dir: string): string {
  for (const entry of lib.readZip(readFileSync(file))) {
    if (entry.name.endsWith('/')) continue;
    mkdirSync(dirname(join(dir, entry.name)), { recursive: true });
    writeFileSync(join(dir, entry.name), entry.read());
  }
  return join(dir, 'extension');
}

describe('VSIX packages', () => {
  let lib: VsixLib;
  let host: string;
  let hostVsix: string;
  before(async () => {
    lib = await vsixLib();
    host = lib.hostTarget();
    assert.deepEqual([...ALL_TARGETS].sort(), Object.keys(lib.VSIX_TARGETS).sort(), 'the list above names every target the package script knows');
  });

  it("packages this machine's platform with its DuckDB binding and nothing else native", () => {
    const built = packageTarget(host, false);
    assert.ok(built.file, `npm run package -- --target ${host} failed:\n${built.stderr}`);
    hostVsix = built.file;
    const { status, reports } = checkVsix(hostVsix);
    const [report] = reports;
    assert.ok(report);
    assert.deepEqual(report.problems, []);
    assert.equal(status, 0);
    assert.equal(report.declaredTarget, host);
    const spec = lib.VSIX_TARGETS[host];
    assert.ok(spec?.binding, `${host} has a DuckDB binding`);
    const nativePaths = report.native.map((n) => n.path).sort();
    const library = { ELF: 'libduckdb.so', 'Mach-O': 'libduckdb.dylib', PE: 'duckdb.dll' }[spec.format ?? ''];
    assert.deepEqual(nativePaths, [`node_modules/@duckdb/node-bindings-${spec.binding}/duckdb.node`, `node_modules/@duckdb/node-bindings-${spec.binding}/${library}`].sort());
    for (const n of report.native) {
      assert.equal(n.format, spec.format);
      assert.equal(n.arch, spec.arch);
      if (spec.libc) assert.equal(n.libc, spec.libc);
    }
    assert.deepEqual(report.icon, { width: 128, height: 128 });
  });

  it('ships the user README with its screenshots inside, the CHANGELOG and the license', () => {
    assert.ok(hostVsix, 'the host VSIX was built by the test before');
    const entries = new Map(lib.readZip(readFileSync(hostVsix)).map((e) => [e.name, e]));
    const readme = entries.get('extension/readme.md')?.read().toString('utf8') ?? '';
    assert.match(readme, /^# StreamGate DevTools/);
    assert.match(readme, /## The first five minutes: the sandbox fleet/);
    const images = [...readme.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]!);
    assert.ok(images.length >= 4, `screenshots in the README: ${images.join(', ')}`);
    for (const image of images) {
      assert.match(image, /^media\/screenshots\/[\w.-]+\.png$/);
      assert.ok(entries.has(`extension/${image}`), `${image} is in the VSIX`);
    }
    assert.match(entries.get('extension/changelog.md')?.read().toString('utf8') ?? '', /^# Changelog/);
    assert.match(entries.get('extension/LICENSE.txt')?.read().toString('utf8') ?? '', /MIT License/);
    const manifest = entries.get('extension.vsixmanifest')?.read().toString('utf8') ?? '';
    for (const category of ['Debuggers', 'Visualization', 'Data Science']) assert.match(manifest, new RegExp(`<Category>${category}</Category>|Categories>[^<]*${category}`));
    assert.match(manifest, /Microsoft\.VisualStudio\.Services\.Icons\.Default" Path="extension\/media\/icon\.png"/);
    assert.match(manifest, /Microsoft\.VisualStudio\.Services\.Branding\.Color" Value="#0b3d5c"/);
  });

  // One test per platform (each has the tier's whole timeout): the targets are known before the suite runs.
  for (const target of ALL_TARGETS) {
    it(`packages ${target} with its DuckDB binding, and the VSIX passes the check`, (t) => {
      if (target === host) {
        t.skip(`${target} is this machine's platform, packaged above`);
        return;
      }
      // The binding comes from npm's cache or, the first time on a machine, from the registry (as `npm ci` does).
      const built = packageTarget(target, false);
      assert.ok(built.file, `npm run package -- --target ${target} failed:\n${built.stderr}`);
      const [report] = checkVsix(built.file, target).reports;
      assert.ok(report);
      assert.deepEqual(report.problems, []);
      const spec = lib.VSIX_TARGETS[target]!;
      if (!spec.binding) {
        assert.equal(report.declaredTarget, 'universal');
        assert.deepEqual(report.native, []);
        return;
      }
      assert.equal(report.declaredTarget, target);
      assert.equal(report.native.length, 2, JSON.stringify(report.native));
      for (const n of report.native) {
        assert.match(n.path, new RegExp(`^node_modules/@duckdb/node-bindings-${spec.binding}/`));
        assert.equal(`${n.format} ${n.arch}`, `${spec.format} ${spec.arch}`, n.path);
        if (spec.libc) assert.equal(n.libc, spec.libc, n.path);
      }
    });
  }

  it('passes vsce ls and an ovsx publish dry run; a package without a manifest is refused', () => {
    assert.ok(hostVsix);
    const good = node([join(scripts, 'publish-dry-run.mjs'), hostVsix]);
    assert.equal(good.status, 0, good.stdout + good.stderr);
    assert.match(good.stdout, new RegExp(`✓ vsce ls \\(${host}\\): \\d+ files, 4 of them DuckDB's binding`));
    assert.match(good.stdout, new RegExp(`✓ ovsx publish \\(dry run\\): streamgate\\.streamgate-devtools v\\d+\\.\\d+\\.\\d+@${host} from `));
    const broken = join(tempDir('sg-vsix-'), 'no-manifest.vsix');
    writeZip(broken, lib.readZip(readFileSync(hostVsix)).filter((e) => e.name !== 'extension/package.json' && !e.name.includes('node-bindings-')).map((e) => ({ name: e.name, data: e.read() })));
    const bad = node([join(scripts, 'publish-dry-run.mjs'), broken]);
    assert.equal(bad.status, 1);
    assert.match(bad.stdout, /✗ ovsx publish .*no-manifest\.vsix: exit 1: .*extension\/package\.json or extension\.vsixmanifest is missing/s);
  });

  it('refuses a VSIX checked against another platform: target, CPU and C library each named', () => {
    assert.ok(hostVsix);
    const other = host === 'linux-arm64' ? 'linux-x64' : 'linux-arm64';
    const { status, reports } = checkVsix(hostVsix, other);
    assert.equal(status, 1);
    const problems = reports[0]!.problems.join('\n');
    assert.match(problems, new RegExp(`built for ${other} but its manifest says TargetPlatform ${host}`));
    assert.match(problems, /duckdb\.node: \S+ \S+, but linux-(arm64|x64) needs ELF (arm64|x64)/);
    assert.match(problems, /not in the allowlist: node_modules\/@duckdb\/node-bindings-/);
    if (host === 'linux-x64') {
      const musl = checkVsix(hostVsix, 'alpine-x64').reports[0]!.problems.join('\n');
      assert.match(musl, /duckdb\.node: links glibc, but alpine-x64 needs musl/);
      assert.doesNotMatch(musl, /duckdb\.node: ELF x64, but/);
    }
  });

  it('refuses a doctored VSIX: a source map, native code outside the binding, a missing bundle', () => {
    assert.ok(hostVsix);
    const entries = lib.readZip(readFileSync(hostVsix));
    const binding = entries.find((e) => e.name.endsWith('/duckdb.node'));
    assert.ok(binding);
    const doctored = join(tempDir('sg-vsix-'), 'doctored.vsix');
    writeZip(doctored, [
      ...entries.filter((e) => e.name !== 'extension/dist/server.js').map((e) => ({ name: e.name, data: e.read() })),
      { name: 'extension/dist/extension.js.map', data: Buffer.from('{"version":3}') },
      { name: 'extension/dist/helper.bin', data: binding.read() },
    ]);
    const { status, reports } = checkVsix(doctored);
    assert.equal(status, 1);
    const problems = reports[0]!.problems;
    assert.ok(problems.includes('not in the allowlist: dist/extension.js.map'), problems.join('\n'));
    assert.ok(problems.includes('not in the allowlist: dist/helper.bin'), problems.join('\n'));
    assert.ok(problems.includes('dist/helper.bin: native code outside the DuckDB binding'), problems.join('\n'));
    assert.ok(problems.includes('missing: dist/server.js'), problems.join('\n'));
    assert.equal(problems.length, 4, problems.join('\n'));
  });
});

describe('the universal VSIX, without DuckDB', () => {
  let lib: VsixLib;
  let extensionDir: string;
  let universalVsix: string;
  let nats: Shared;
  let clickhouse: Shared;
  const servers: MessageConnection[] = [];
  const children: ChildProcess[] = [];
  before(async () => {
    lib = await vsixLib();
    const built = packageTarget('universal', true);
    assert.ok(built.file, `npm run package -- --target universal failed:\n${built.stderr}`);
    universalVsix = built.file;
    extensionDir = extractVsix(lib, built.file, tempDir('sg-universal-'));
    nats = await sharedNats();
    clickhouse = await sharedClickHouse();
  });
  afterEach(async () => {
    // Each test's language servers go with it: one left running would answer as an sg-server to the next.
    for (const s of servers.splice(0)) s.dispose();
    await Promise.all(
      children.splice(0).map((c) => {
        if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
        const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
        c.kill('SIGTERM');
        return exited;
      }),
    );
  });
  after(async () => {
    await nats.stop();
    await clickhouse.stop();
  });

  /** The language server exactly as the extension starts it, from the unpacked VSIX. */
  async function startLanguageServer(settings: ServerSettings): Promise<MessageConnection> {
    const child = spawn(process.execPath, [join(extensionDir, 'dist', 'server.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(child);
    const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
    connection.listen();
    servers.push(connection);
    const initializationOptions: InitializationOptions = { settings };
    await connection.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {}, initializationOptions });
    await connection.sendNotification('initialized', {});
    return connection;
  }

  it('has no native code at all', () => {
    const [report] = checkVsix(universalVsix).reports;
    assert.ok(report);
    assert.deepEqual(report.problems, []);
    assert.equal(report.declaredTarget, 'universal');
    assert.deepEqual(report.native, []);
    const names = lib.readZip(readFileSync(universalVsix)).map((e) => e.name);
    assert.ok(names.includes('extension/dist/server.js'));
    assert.ok(names.includes('extension/node_modules/@duckdb/node-bindings/duckdb.js'), 'the loader is there to say what is missing');
    assert.ok(!names.some((e) => /node-bindings-/.test(e)), names.join('\n'));
  });

  it('starts its language server, which says why the embedded store is unavailable and what to use', async () => {
    const server = await startLanguageServer({ nats: null, store: { kind: 'duckdb', path: join(tempDir(), 'x.duckdb') } });
    const status: ServerStatus = await server.sendRequest(ConfigureRequest.type, { nats: null, store: { kind: 'duckdb', path: join(tempDir(), 'y.duckdb') } });
    assert.equal(status.store.kind, 'duckdb');
    assert.equal(status.store.state, 'error');
    const platform = `${process.platform}-${process.arch}`;
    assert.match(status.store.error ?? '', new RegExp(`^DuckDB, the embedded store, cannot run on this platform \\(${platform}\\): Cannot find module '@duckdb/node-bindings-${platform}/duckdb\\.node'`));
    assert.match(status.store.error ?? '', /set streamgate\.store\.kind to "clickhouse"/);
    assert.match(status.store.error ?? '', /streamgate\.server\.mode to "shared"/);
  });

  it('keeps its telemetry in ClickHouse instead', async () => {
    const settings: ServerSettings = { nats: { url: nats.url }, store: { kind: 'clickhouse', url: clickhouse.url, database: `sg_universal_${process.pid}` }, mode: 'embedded' };
    const server = await startLanguageServer(settings);
    const status: ServerStatus = await server.sendRequest(ConfigureRequest.type, settings);
    assert.equal(status.store.kind, 'clickhouse');
    assert.equal(status.store.state, 'ready', status.store.error);
    assert.equal(status.store.error, undefined);
  });

  it('answers from a shared sg server on the same NATS: a pod\'s live figures reach it', async () => {
    // The shared server runs where DuckDB does (this checkout's own build); the universal editor only asks.
    const shared = spawn(process.execPath, [join(repoRoot, 'dist', 'cli.js'), 'server', '--nats', nats.url, '--store', `duckdb:${join(tempDir(), 'shared.duckdb')}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(shared);
    await new Promise<void>((resolve, reject) => {
      readline.createInterface({ input: shared.stdout }).once('line', () => resolve());
      shared.once('exit', (code) => reject(new Error(`sg server exited with ${code}`)));
    });
    const service = `fallback${process.pid}`;
    const agent = await startAgent({ nats: nats.url, service, pod: `${service}-1`, version: '1.0.0', metricsIntervalMs: 200, heapIntervalBytes: 0, debug: false });
    const requests = setInterval(() => agent.counter('gw_http_requests_total', { route: 'GET /x', code: '200' }).inc(), 20);
    try {
      const settings: ServerSettings = { nats: { url: nats.url }, store: { kind: 'duckdb', path: join(tempDir(), 'z.duckdb') }, mode: 'shared' };
      const server = await startLanguageServer(settings);
      let status: ServerStatus | undefined;
      await eventually('shared mode with an sg-server', async () => {
        status = await server.sendRequest(StatusRequest.type);
        return status.mode === 'shared' && status.sharedServer !== undefined;
      });
      assert.ok(status?.sharedServer);
      assert.equal(status.store.state, 'error');
      assert.match(status.sharedServer.store, /^duckdb /);
      await eventually(`${service} in the summary served through the shared server`, async () => {
        const summary = await server.sendRequest(AnalyticsSummaryRequest.type, { windowMs: 60_000 });
        return summary.services.some((s) => s.service === service && s.rps > 0);
      });
    } finally {
      clearInterval(requests);
      await agent.stop();
    }
  });
});
