/**
 * Content signatures for de-duplicating messages. The fast path hashes once in native code; the slow path
 * (switched on by the cpu-hotspot incident) is the kind of code a profile should point at: a hand-written
 * hash that walks the payload hundreds of times per message.
 */
import { createHash } from 'node:crypto';

export function contentSignature(payload: Buffer): string {
  return createHash('sha1').update(payload).digest('hex');
}

export function contentSignatureSlow(payload: Buffer, tenant: string, rounds = 3000): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < tenant.length; i++) h1 = Math.imul(h1 ^ tenant.charCodeAt(i), 16777619);
  const n = Math.min(payload.length, 2048);
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < n; i++) {
      h1 = Math.imul(h1 ^ payload[i]!, 16777619);
      h2 = Math.imul(h2 ^ (h1 >>> 7), 2246822519);
    }
    h1 ^= round;
  }
  return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0');
}
