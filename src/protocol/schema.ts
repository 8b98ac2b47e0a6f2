/**
 * The schema library every boundary validates with: zod's tree-shakable "mini" build (the full build would
 * triple the extension bundle) with English messages. Import `z` from here, never from 'zod' directly.
 */
import * as z from 'zod/mini';
import { $constructor, $ZodObjectJIT, util } from 'zod/v4/core';
import en from 'zod/v4/locales/en.js';

// Modules import the namespace themselves (`import * as z from 'zod/mini'`) and this module for its side
// effect: re-exporting the namespace object would defeat tree-shaking and pull in every locale.
z.config(en());

/**
 * An object schema whose parser zod compiles on first use (the JIT object zod's full build uses), instead of
 * mini's interpreted one: for the schemas telemetry is validated with at 100k events/s, where it parses in a third
 * of the time. Same definition, same checks, same messages (a fuzz test compares both).
 */
type Init = (inst: never, def: z.core.$ZodObjectDef) => void;
// Named imports, not `z.core.…`: reaching through the namespace would pull all of zod's core into every bundle.
const initCompiled: Init = $ZodObjectJIT.init;
const initMini: Init = z.ZodMiniType.init;
const ZodMiniCompiledObject = $constructor('ZodMiniCompiledObject', (inst: z.core.$ZodObject, def: z.core.$ZodObjectDef) => {
  initCompiled(inst as never, def);
  initMini(inst as never, def);
  util.defineLazy(inst as unknown as { shape: unknown }, 'shape', () => def.shape);
});

/**
 * Webviews get the interpreted parser: their content security policy forbids compiling code, and zod's test for
 * that (it tries once, when the first compiled object is made) would log a policy violation in every webview.
 */
const canCompile = !('document' in globalThis);

export function compiledObject<const Shape extends z.core.$ZodLooseShape>(shape: Shape): z.ZodMiniObject<Shape, z.core.$strip> {
  if (!canCompile) return z.object(shape);
  return new ZodMiniCompiledObject({ type: 'object', shape }) as unknown as z.ZodMiniObject<Shape, z.core.$strip>;
}

/** One line per problem, with the path of the offending field: the form every boundary reports bad input in. */
export function describeZodError(error: z.core.$ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}

/** Parses or returns the reasons; for entry points that must never throw on bad input. */
export function check<T>(schema: z.ZodMiniType<T>, value: unknown): { ok: true; value: T } | { ok: false; error: string } {
  const result = schema.safeParse(value);
  return result.success ? { ok: true, value: result.data } : { ok: false, error: describeZodError(result.error) };
}
