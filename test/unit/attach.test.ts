import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AttachArgumentsSchema } from '../../src/protocol/dap';
import { isNatsUrl } from '../../src/protocol/settings';
import { check } from '../../src/protocol/schema';

describe('attach configuration', () => {
  it('accepts a URL, a cluster and a selector by service and labels', () => {
    const parsed = check(AttachArgumentsSchema, { nats: 'nats://a:4222, nats://b:4222', selector: { service: 'gateway', labels: { region: 'eu-west' } }, type: 'streamgate', request: 'attach' });
    assert.equal(parsed.ok, true);
  });
  it('says the nats attribute is required when it is missing', () => {
    const parsed = check(AttachArgumentsSchema, {});
    assert.equal(parsed.ok, false);
    assert.match(parsed.error, /"nats" attribute is required/);
  });
  it('rejects http URLs and junk', () => {
    for (const nats of ['http://h:4222', 'not a url', '://']) {
      const parsed = check(AttachArgumentsSchema, { nats });
      assert.equal(parsed.ok, false, nats);
      assert.match(parsed.error, /must be nats:\/\/host:port/);
    }
  });
  it('rejects a selector whose labels are not strings, and keys it does not know', () => {
    const badLabel = check(AttachArgumentsSchema, { nats: 'nats://h:1', selector: { labels: { zone: 3 } } });
    assert.equal(badLabel.ok, false);
    assert.match(badLabel.error, /selector\.labels\.zone/);
    const unknownKey = check(AttachArgumentsSchema, { nats: 'nats://h:1', selector: { zone: 'a' } });
    assert.equal(unknownKey.ok, false);
    assert.match(unknownKey.error, /selector.*zone/);
  });
  it('rejects capture limits out of range, naming the field', () => {
    const parsed = check(AttachArgumentsSchema, { nats: 'nats://h:1', captureLimits: { maxDepth: 99 } });
    assert.equal(parsed.ok, false);
    assert.match(parsed.error, /captureLimits\.maxDepth/);
  });
  it('knows host:port without a scheme', () => {
    assert.equal(isNatsUrl('127.0.0.1:4222'), true);
    assert.equal(isNatsUrl('tls://nats.example.com:4443'), true);
  });
});
