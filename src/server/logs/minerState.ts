/**
 * The miner's learnt state as plain JSON, so a server that restarts keeps its template ids: everything but the
 * tree, which is rebuilt from the families. Read back through a schema, since it comes from a store or a file.
 */
import * as z from 'zod/mini';
import { check } from '../../protocol/schema';

const count = z.int().check(z.nonnegative());

const TemplateVersionSchema = z.object({ version: count, template: z.string(), sinceCount: count });

const TemplateStateSchema = z.object({
  id: count,
  tokens: z.array(z.string()),
  count,
  version: count,
  versions: z.array(TemplateVersionSchema),
  absorbed: z.array(count),
  firstSeq: count,
  lastSeq: count,
});

const FamilyStateSchema = z.object({
  tokens: z.array(z.string()),
  variants: z.array(z.object({ position: count, words: z.array(z.string()) })),
  templates: z.array(TemplateStateSchema),
});

const MinerStatsSchema = z.object({
  lines: count,
  templates: count,
  families: count,
  treeNodes: count,
  created: count,
  merged: count,
  evicted: count,
  truncated: count,
  invalidUtf8: count,
  binary: count,
  tokensCapped: count,
  empty: count,
});

export const MinerStateSchema = z.object({
  format: z.literal(1),
  nextId: count,
  stats: MinerStatsSchema,
  families: z.array(FamilyStateSchema),
  /** Merged id → the id it went into, oldest merge first. */
  aliases: z.array(z.tuple([count, count])),
  /** Template ids from least to most recently matched. */
  recency: z.array(count),
});

export type MinerState = z.infer<typeof MinerStateSchema>;
export type FamilyState = z.infer<typeof FamilyStateSchema>;
export type TemplateState = z.infer<typeof TemplateStateSchema>;

export class MinerStateError extends Error {}

/** The state, checked field by field and for consistency; a MinerStateError names what is wrong. */
export function readMinerState(value: unknown): MinerState {
  const parsed = check(MinerStateSchema, value);
  if (!parsed.ok) throw new MinerStateError(`miner state: ${parsed.error}`);
  const state = parsed.value;
  const ids = new Set<number>();
  state.families.forEach((family, f) => {
    const at = `families.${f}`;
    if (family.templates.length === 0) throw new MinerStateError(`miner state: ${at}: a family without templates`);
    for (const variant of family.variants) {
      if (variant.position >= family.tokens.length) throw new MinerStateError(`miner state: ${at}.variants: position ${variant.position} past the ${family.tokens.length} tokens`);
    }
    family.templates.forEach((template, t) => {
      if (template.tokens.length !== family.tokens.length) throw new MinerStateError(`miner state: ${at}.templates.${t}: ${template.tokens.length} tokens in a family of ${family.tokens.length}`);
      if (ids.has(template.id) || template.id >= state.nextId) throw new MinerStateError(`miner state: ${at}.templates.${t}: id ${template.id} repeated or not below nextId`);
      ids.add(template.id);
    });
  });
  const unknown = state.recency.find((id) => !ids.has(id));
  if (unknown !== undefined) throw new MinerStateError(`miner state: recency: template ${unknown} is in no family`);
  if (new Set(state.recency).size !== state.recency.length || state.recency.length !== ids.size) {
    throw new MinerStateError('miner state: recency: must list every template exactly once');
  }
  return state;
}
