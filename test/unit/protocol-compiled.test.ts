/**
 * The telemetry schemas are built with `compiledObject` (zod's compiled object parser) for ingest speed. They
 * must accept, refuse and explain exactly what the same definitions as plain zod/mini objects would: every
 * message of the fuzz generators, valid, broken and mutated, is parsed both ways and the results compared.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import * as z from 'zod/mini';
import { EventBatchSchema, LogBatchSchema, MetricsBatchSchema, SpanBatchSchema } from '../../src/protocol/nats';
import { describeZodError } from '../../src/protocol/schema';
import { brokenMessage, validMessage } from '../support/telemetryArbitraries';

/** The same schema with every object interpreted by zod/mini (what `z.object` makes). */
function interpreted(schema: z.core.$ZodType): z.core.$ZodType {
  const def = schema._zod.def as z.core.$ZodTypeDef & Record<string, unknown>;
  switch (def.type) {
    case 'object': {
      const shape: Record<string, z.core.$ZodType> = {};
      for (const [key, value] of Object.entries(def.shape as Record<string, z.core.$ZodType>)) shape[key] = interpreted(value);
      return z.object(shape);
    }
    case 'array':
      return z.array(interpreted(def.element as z.core.$ZodType));
    case 'optional':
      return z.optional(interpreted(def.innerType as z.core.$ZodType));
    default:
      return schema;
  }
}

const SCHEMAS = { events: EventBatchSchema, metrics: MetricsBatchSchema, logs: LogBatchSchema, spans: SpanBatchSchema };
const PLAIN = Object.fromEntries(Object.entries(SCHEMAS).map(([k, s]) => [k, interpreted(s)])) as Record<keyof typeof SCHEMAS, z.core.$ZodType>;

function outcome(schema: z.core.$ZodType, value: unknown): string {
  const result = z.safeParse(schema, value);
  return result.success ? `ok ${JSON.stringify(result.data)}` : `refused ${describeZodError(result.error)}`;
}

describe('compiled telemetry schemas', () => {
  it('are compiled objects, not plain ones', () => {
    for (const [kind, schema] of Object.entries(SCHEMAS)) {
      assert.equal(schema._zod.constr.name, 'ZodMiniCompiledObject', kind);
      assert.notEqual(PLAIN[kind as keyof typeof SCHEMAS]._zod.constr.name, 'ZodMiniCompiledObject', kind);
    }
  });

  it('accept what the plain schemas accept, with the same output', () => {
    let compared = 0;
    fc.assert(
      fc.property(validMessage, ({ body }) => {
        const kind = (body as { kind: keyof typeof SCHEMAS }).kind;
        const got = outcome(SCHEMAS[kind], body);
        assert.match(got, /^ok /);
        assert.equal(got, outcome(PLAIN[kind], body));
        compared++;
      }),
      { numRuns: 1000 },
    );
    assert.ok(compared >= 1000);
  });

  it('refuse what the plain schemas refuse, with the same reasons, for broken and mutated messages', () => {
    let refused = 0;
    const mutated = validMessage.chain(({ body }) =>
      fc.tuple(fc.constant(body), fc.constantFrom('id', 'ts', 'seq', 'events', 'logs', 'counters', 'histograms', 'v'), fc.oneof(fc.constant(null), fc.string(), fc.integer(), fc.constant([{}]), fc.constant({}))),
    );
    fc.assert(
      fc.property(fc.oneof(brokenMessage.map(({ data }) => data), mutated.map(([body, key, value]) => ({ ...body, [key]: value }))), (data) => {
        let body: unknown;
        try {
          body = typeof data === 'string' ? JSON.parse(data) : data instanceof Uint8Array || Array.isArray(data) ? JSON.parse(new TextDecoder().decode(new Uint8Array(data as ArrayLike<number>))) : data;
        } catch {
          return;
        }
        for (const kind of Object.keys(SCHEMAS) as (keyof typeof SCHEMAS)[]) {
          const got = outcome(SCHEMAS[kind], body);
          assert.equal(got, outcome(PLAIN[kind], body), kind);
          if (got.startsWith('refused')) refused++;
        }
      }),
      { numRuns: 1500 },
    );
    assert.ok(refused > 1000, `${refused} refusals compared`);
  });
});
