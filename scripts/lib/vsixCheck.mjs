// Opens a VSIX (a zip) and checks what a user would get: the platform it says it is for, that every native
// file in it is a binary of that platform (read from its header bytes: ELF, Mach-O or PE, the CPU, and for
// Linux the C library it links), that it holds only the files of the allowlist and all the files it needs,
// and its size. Plain JavaScript with no dependencies, so it can check a VSIX anywhere.
import { readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { VSIX_TARGETS } from './vsixTargets.mjs';

/** Largest VSIX per target, bytes: DuckDB is ~14–25 MB packed; the rest of the extension must stay small. */
export const SIZE_BUDGET = { native: 40 * 1024 ** 2, universal: 6 * 1024 ** 2 };
/** Everything but the DuckDB binding: bundles, webviews, media, README. A source map or node_modules leak breaks it. */
export const NON_BINDING_BUDGET = 6 * 1024 ** 2;

// --- zip ------------------------------------------------------------------------------------------------------

/** The entries of a zip file: name, sizes and a function that returns the uncompressed bytes. */
export function readZip(bytes) {
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 65_557); i--) {
    if (bytes.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip file (no end-of-central-directory record)');
  const count = bytes.readUInt16LE(eocd + 10);
  let at = bytes.readUInt32LE(eocd + 16);
  const entries = [];
  for (let i = 0; i < count; i++) {
    if (bytes.readUInt32LE(at) !== 0x02014b50) throw new Error(`corrupt zip: central directory entry ${i} has a bad signature`);
    const method = bytes.readUInt16LE(at + 10);
    const compressedSize = bytes.readUInt32LE(at + 20);
    const size = bytes.readUInt32LE(at + 24);
    const nameLength = bytes.readUInt16LE(at + 28);
    const extraLength = bytes.readUInt16LE(at + 30);
    const commentLength = bytes.readUInt16LE(at + 32);
    const localHeader = bytes.readUInt32LE(at + 42);
    const name = bytes.toString('utf8', at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;
    const read = () => {
      const start = localHeader + 30 + bytes.readUInt16LE(localHeader + 26) + bytes.readUInt16LE(localHeader + 28);
      const data = bytes.subarray(start, start + compressedSize);
      if (method === 0) return data;
      if (method === 8) return inflateRawSync(data);
      throw new Error(`${name}: unsupported zip compression method ${method}`);
    };
    entries.push({ name, size, compressedSize, read });
  }
  return entries;
}

// --- native binaries ------------------------------------------------------------------------------------------

const ELF_MACHINES = { 0x3e: 'x64', 0xb7: 'arm64', 0x28: 'arm', 0x03: 'ia32' };
const MACHO_CPUS = { 0x01000007: 'x64', 0x0100000c: 'arm64', 0x07: 'ia32', 0x0c: 'arm' };
const PE_MACHINES = { 0x8664: 'x64', 0xaa64: 'arm64', 0x14c: 'ia32', 0x1c4: 'arm' };

/** What a file is, from its first bytes: { format, arch[, archs][, libc] }, or undefined for a non-native file. */
export function nativeFormat(bytes) {
  if (bytes.length < 64) return undefined;
  if (bytes.readUInt32BE(0) === 0x7f454c46) {
    const is64 = bytes[4] === 2;
    const littleEndian = bytes[5] === 1;
    const machine = littleEndian ? bytes.readUInt16LE(18) : bytes.readUInt16BE(18);
    const arch = ELF_MACHINES[machine] ?? `elf-machine-0x${machine.toString(16)}`;
    return { format: 'ELF', arch, libc: is64 && littleEndian ? elfLibc(bytes) : 'unknown' };
  }
  const magic = bytes.readUInt32LE(0);
  if (magic === 0xfeedfacf || magic === 0xfeedface) {
    const cpu = bytes.readUInt32LE(4);
    return { format: 'Mach-O', arch: MACHO_CPUS[cpu] ?? `macho-cpu-0x${cpu.toString(16)}` };
  }
  if (bytes.readUInt32BE(0) === 0xcafebabe && bytes.readUInt32BE(4) > 0 && bytes.readUInt32BE(4) < 16) {
    const archs = [];
    for (let i = 0; i < bytes.readUInt32BE(4); i++) archs.push(MACHO_CPUS[bytes.readUInt32BE(8 + i * 20)] ?? 'unknown');
    return { format: 'Mach-O', arch: archs.length === 1 ? archs[0] : 'universal', archs };
  }
  if (bytes[0] === 0x4d && bytes[1] === 0x5a) {
    const pe = bytes.readUInt32LE(0x3c);
    if (pe + 6 <= bytes.length && bytes.readUInt32BE(pe) === 0x50450000) {
      const machine = bytes.readUInt16LE(pe + 4);
      return { format: 'PE', arch: PE_MACHINES[machine] ?? `pe-machine-0x${machine.toString(16)}` };
    }
  }
  return undefined;
}

/** glibc or musl, from the C library a 64-bit little-endian ELF names among its DT_NEEDED entries. */
function elfLibc(bytes) {
  const phoff = Number(bytes.readBigUInt64LE(0x20));
  const phentsize = bytes.readUInt16LE(0x36);
  const phnum = bytes.readUInt16LE(0x38);
  const loads = [];
  let dynamic;
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    const type = bytes.readUInt32LE(ph);
    const segment = { offset: Number(bytes.readBigUInt64LE(ph + 8)), vaddr: Number(bytes.readBigUInt64LE(ph + 16)), size: Number(bytes.readBigUInt64LE(ph + 32)) };
    if (type === 1) loads.push(segment);
    if (type === 2) dynamic = segment;
  }
  if (!dynamic) return 'static';
  const needed = [];
  let strtab;
  for (let at = dynamic.offset; at + 16 <= dynamic.offset + dynamic.size; at += 16) {
    const tag = Number(bytes.readBigInt64LE(at));
    const value = Number(bytes.readBigUInt64LE(at + 8));
    if (tag === 0) break;
    if (tag === 1) needed.push(value);
    if (tag === 5) strtab = value;
  }
  const load = loads.find((l) => strtab !== undefined && strtab >= l.vaddr && strtab < l.vaddr + l.size);
  if (!load) return 'unknown';
  const base = strtab - load.vaddr + load.offset;
  const names = needed.map((offset) => bytes.toString('latin1', base + offset, bytes.indexOf(0, base + offset)));
  if (names.some((n) => n.startsWith('libc.musl-'))) return 'musl';
  if (names.includes('libc.so.6')) return 'glibc';
  return 'unknown';
}

/** Width and height of a PNG, from its IHDR chunk. */
export function pngSize(bytes) {
  if (bytes.length < 24 || bytes.readUInt32BE(0) !== 0x89504e47 || bytes.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

// --- the check ------------------------------------------------------------------------------------------------

/** The files a VSIX for `target` may hold (paths inside extension/), as regular expressions. */
function allowlist(target) {
  const binding = VSIX_TARGETS[target]?.binding;
  const allowed = [
    /^package\.json$/,
    /^readme\.md$/,
    /^changelog\.md$/,
    /^LICENSE\.txt$/,
    /^media\/[\w.-]+\.(svg|png)$/,
    /^media\/screenshots\/[\w.-]+\.png$/,
    /^syntaxes\/[\w.-]+\.(json|md)$/,
    /^docs\/runbooks\/[\w-]+\.md$/,
    /^dist\/[\w-]+\.js$/,
    /^dist\/demo\/[\w-]+\.js$/,
    // The sandbox gateway's source map: its pods map breakpoints to demo/gateway's TypeScript with it.
    /^dist\/demo\/gateway\.js\.map$/,
    /^dist\/webviews\/[\w-]+\.(js|css)$/,
    /^dist\/webviews\/codicons\/codicon\.(css|ttf)$/,
    /^node_modules\/@duckdb\/node-bindings\/(package\.json|duckdb\.js|LICENSE)$/,
    /^node_modules\/detect-libc\/(package\.json|LICENSE|lib\/[\w-]+\.js)$/,
  ];
  if (binding) allowed.push(new RegExp(`^node_modules/@duckdb/node-bindings-${binding.replace(/[-]/g, '\\-')}/(package\\.json|LICENSE|duckdb\\.node|libduckdb\\.(so|dylib)|duckdb\\.dll)$`));
  return allowed;
}

function requiredFiles(target) {
  const spec = VSIX_TARGETS[target];
  const required = [
    'package.json',
    'readme.md',
    'changelog.md',
    'LICENSE.txt',
    'media/icon.png',
    'dist/extension.js',
    'dist/lspClient.js',
    'dist/server.js',
    'dist/adapter.js',
    'dist/cli.js',
    'dist/demo/gateway.js.map',
    'node_modules/@duckdb/node-bindings/duckdb.js',
    'node_modules/detect-libc/lib/detect-libc.js',
  ];
  if (spec?.binding) {
    const dir = `node_modules/@duckdb/node-bindings-${spec.binding}`;
    required.push(`${dir}/duckdb.node`, `${dir}/${{ ELF: 'libduckdb.so', 'Mach-O': 'libduckdb.dylib', PE: 'duckdb.dll' }[spec.format]}`);
  }
  return required;
}

/**
 * Checks one VSIX. `expectedTarget` is what the caller built it for; the VSIX's own manifest must agree.
 * Returns { file, target, bytes, files, bindingBytes, native: [{ path, format, arch, libc? }], icon, problems }.
 */
export function checkVsix(file, expectedTarget) {
  const bytes = readFileSync(file);
  const problems = [];
  const entries = readZip(bytes);
  const byName = new Map(entries.map((e) => [e.name, e]));
  const manifest = byName.get('extension.vsixmanifest')?.read().toString('utf8') ?? '';
  if (!manifest) problems.push('no extension.vsixmanifest');
  const declared = /TargetPlatform="([^"]+)"/.exec(manifest)?.[1] ?? 'universal';
  const target = expectedTarget ?? declared;
  if (declared !== target) problems.push(`built for ${target} but its manifest says TargetPlatform ${declared}`);
  const spec = VSIX_TARGETS[target];
  if (!spec) problems.push(`"${target}" is not a target this extension ships for`);

  const extension = entries.filter((e) => e.name.startsWith('extension/')).map((e) => ({ ...e, path: e.name.slice('extension/'.length) }));
  const outside = entries.filter((e) => !e.name.startsWith('extension/') && e.name !== 'extension.vsixmanifest' && e.name !== '[Content_Types].xml');
  for (const e of outside) problems.push(`unexpected file outside extension/: ${e.name}`);
  const allowed = allowlist(target);
  for (const e of extension) if (!allowed.some((re) => re.test(e.path))) problems.push(`not in the allowlist: ${e.path}`);
  const present = new Set(extension.map((e) => e.path));
  for (const path of requiredFiles(target)) if (!present.has(path)) problems.push(`missing: ${path}`);

  const pkg = byName.has('extension/package.json') ? JSON.parse(byName.get('extension/package.json').read().toString('utf8')) : {};
  const identity = /<Identity [^>]*Id="([^"]+)"[^>]*Version="([^"]+)"[^>]*Publisher="([^"]+)"/.exec(manifest);
  if (identity && (identity[1] !== pkg.name || identity[2] !== pkg.version || identity[3] !== pkg.publisher)) {
    problems.push(`manifest identity ${identity[3]}.${identity[1]}@${identity[2]} differs from package.json ${pkg.publisher}.${pkg.name}@${pkg.version}`);
  }

  const native = [];
  let bindingBytes = 0;
  for (const e of extension) {
    const isBinding = /^node_modules\/@duckdb\/node-bindings-/.test(e.path);
    if (isBinding) bindingBytes += e.compressedSize;
    // Every file is read: a native library under an unexpected name is caught by its bytes, not its name.
    const format = nativeFormat(e.read());
    if (!format) continue;
    native.push({ path: e.path, ...format });
    if (!spec?.binding) {
      problems.push(`${e.path}: a ${format.format} ${format.arch} binary in a VSIX that must hold none`);
      continue;
    }
    if (!isBinding) problems.push(`${e.path}: native code outside the DuckDB binding`);
    if (format.format !== spec.format || format.arch !== spec.arch) {
      problems.push(`${e.path}: ${format.format} ${format.arch}${format.archs ? ` (${format.archs.join('+')})` : ''}, but ${target} needs ${spec.format} ${spec.arch}`);
    }
    if (spec.libc && format.libc !== spec.libc) problems.push(`${e.path}: links ${format.libc}, but ${target} needs ${spec.libc}`);
  }
  if (spec?.binding && !native.some((n) => n.path.endsWith('/duckdb.node'))) problems.push('no native DuckDB binding (duckdb.node) found');

  const iconEntry = byName.get('extension/media/icon.png');
  const icon = iconEntry ? pngSize(iconEntry.read()) : undefined;
  if (iconEntry && (!icon || icon.width !== 128 || icon.height !== 128)) problems.push(`media/icon.png must be a 128×128 PNG, is ${icon ? `${icon.width}×${icon.height}` : 'not a PNG'}`);
  if (pkg.icon !== 'media/icon.png') problems.push(`package.json icon is ${JSON.stringify(pkg.icon)}, expected "media/icon.png"`);

  const budget = spec?.binding ? SIZE_BUDGET.native : SIZE_BUDGET.universal;
  if (bytes.length > budget) problems.push(`${bytes.length} bytes, over the ${budget}-byte budget for ${target}`);
  if (bytes.length - bindingBytes > NON_BINDING_BUDGET) problems.push(`${bytes.length - bindingBytes} bytes besides the DuckDB binding, over ${NON_BINDING_BUDGET}`);

  return { file, target, declaredTarget: declared, bytes: bytes.length, bindingBytes, files: extension.length, native, icon, problems };
}
