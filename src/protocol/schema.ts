/**
 * The schema library every boundary validates with: zod's tree-shakable "mini" build (the full build would
 * triple the extension bundle) with English messages. Import `z` from here, never from 'zod' directly.
 */
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';

// Modules import the namespace themselves (`import * as z from 'zod/mini'`) and this module for its side
// effect: re-exporting the namespace object would defeat tree-shaking and pull in every locale.
z.config(en());

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
