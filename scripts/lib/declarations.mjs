// Type declarations for a published package, generated from the sources: TypeScript emits the .d.ts files of
// everything the entry reaches, with every `z.infer<typeof Schema>` alias written out as the plain type it
// stands for (so no user needs zod to read our types), and dts-bundle-generator rolls what the entry exports
// into one file, leaving out everything it does not reach.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { generateDtsBundle } from 'dts-bundle-generator';
import { root } from './bootstrap.mjs';

const COMPILER_OPTIONS = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.Preserve,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  strict: true,
  skipLibCheck: true,
  esModuleInterop: true,
  types: ['node'],
  declaration: true,
  emitDeclarationOnly: true,
  noEmit: false,
};

const FORMAT = ts.NodeBuilderFlags.NoTruncation | ts.NodeBuilderFlags.InTypeAlias | ts.NodeBuilderFlags.UseStructuralFallback | ts.NodeBuilderFlags.IgnoreErrors;

/** Replaces `type X = z.infer<typeof XSchema>` with the type itself. */
function expandInferredAliases(checker) {
  return (context) => (sourceFile) => {
    const visit = (node) => {
      if (ts.isTypeAliasDeclaration(node) && ts.isTypeReferenceNode(node.type) && /^z\.(infer|output|input)$/.test(node.type.typeName.getText?.() ?? entityName(node.type.typeName))) {
        const original = ts.getOriginalNode(node);
        if (ts.isTypeAliasDeclaration(original)) {
          const type = checker.getTypeAtLocation(original.name);
          const expanded = checker.typeToTypeNode(type, undefined, FORMAT);
          if (expanded) return context.factory.updateTypeAliasDeclaration(node, node.modifiers, node.name, node.typeParameters, expanded);
        }
      }
      return ts.visitEachChild(node, visit, context);
    };
    return ts.visitNode(sourceFile, visit);
  };
}

function entityName(name) {
  return ts.isIdentifier(name) ? name.text : `${entityName(name.left)}.${name.right.text}`;
}

/** Writes one .d.ts for `entry` (a source file) to `outFile`; returns the external modules it imports. */
export function writeDeclarations(entry, outFile) {
  // Inside the checkout (out/, not node_modules, which the bundler takes for libraries) so that the emitted
  // files resolve `nats` and the others from this checkout's node_modules.
  const cache = join(root, 'out');
  mkdirSync(cache, { recursive: true });
  const tmp = mkdtempSync(join(cache, 'sg-dts-'));
  try {
    const rootDir = join(root, 'src');
    const program = ts.createProgram([join(root, entry)], { ...COMPILER_OPTIONS, outDir: tmp, rootDir });
    const result = program.emit(undefined, undefined, undefined, true, { afterDeclarations: [expandInferredAliases(program.getTypeChecker())] });
    const errors = ts.getPreEmitDiagnostics(program).concat(result.diagnostics).filter((d) => d.category === ts.DiagnosticCategory.Error);
    if (errors.length) throw new Error(ts.formatDiagnostics(errors, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' }));
    const emittedEntry = join(tmp, relative(rootDir, join(root, entry))).replace(/\.ts$/, '.d.ts');
    const config = join(tmp, 'tsconfig.json');
    writeFileSync(config, JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'preserve', moduleResolution: 'bundler', strict: true, skipLibCheck: true, types: ['node'] }, include: ['**/*.d.ts'] }));
    const [bundle] = generateDtsBundle([{ filePath: emittedEntry, output: { noBanner: true, exportReferencedTypes: false } }], { preferredConfigPath: config });
    writeFileSync(outFile, bundle);
    return [...bundle.matchAll(/^import .* from ["']([^"']+)["'];?$/gm)].map((m) => m[1]);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
