/**
 * Message frames. JSON bodies become JSON frames; binary bodies (application/octet-stream) become binary
 * frames: magic "SGF1", a flags byte, a 32-bit big-endian length, the payload, and a CRC-32 of the payload.
 */
import { crc32 } from 'node:zlib';

export interface Frame {
  id: string;
  tenant: string;
  stream: string;
  ts: number;
  contentType: 'json' | 'binary';
  /** JSON frames: the parsed value; binary frames: the payload. */
  body: unknown;
  bytes: number;
}

const MAGIC = Buffer.from('SGF1');

export class FrameError extends Error {}

export function encodeBinaryFrame(payload: Buffer, flags = 0): Buffer {
  const header = Buffer.alloc(9);
  MAGIC.copy(header, 0);
  header.writeUInt8(flags, 4);
  header.writeUInt32BE(payload.length, 5);
  const trailer = Buffer.alloc(4);
  trailer.writeUInt32BE(crc32(payload) >>> 0, 0);
  return Buffer.concat([header, payload, trailer]);
}

export function decodeBinaryFrame(frame: Buffer): { flags: number; payload: Buffer } {
  if (frame.length < 13) throw new FrameError(`a binary frame is at least 13 bytes, got ${frame.length}`);
  if (!frame.subarray(0, 4).equals(MAGIC)) throw new FrameError('not a StreamGate binary frame (bad magic)');
  const length = frame.readUInt32BE(5);
  if (frame.length !== 13 + length) throw new FrameError(`frame length ${length} does not match the ${frame.length - 13} bytes sent`);
  const payload = frame.subarray(9, 9 + length);
  const expected = frame.readUInt32BE(9 + length);
  if ((crc32(payload) >>> 0) !== expected) throw new FrameError('binary frame checksum mismatch');
  return { flags: frame.readUInt8(4), payload };
}

/** Parses a JSON message body; the gateway accepts objects only, with an optional `type`. */
export function parseJsonBody(raw: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new FrameError('the body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new FrameError('a JSON message must be an object');
  return value as Record<string, unknown>;
}
