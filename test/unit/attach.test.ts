import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AttachArgumentsSchema } from '../../src/protocol/dap';
import { isNatsUrl } from '../../src/protocol/settings';
import { check } from '../../src/protocol/schema';

describe('attach configuration', () => {
  it('accepts a URL, a cluster and a selector', () => {
    const parsed = check(AttachArgumentsSchema, { nats: 'nats://a:4222, nats://b:4222', selector: { service: 'gateway' }, type: 'streamgate', request: 'attach' });
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
  it('rejects a selector that is not a map of strings', () => {
    const parsed = check(AttachArgumentsSchema, { nats: 'nats://h:1', selector: { zone: 3 } });
    assert.equal(parsed.ok, false);
    assert.match(parsed.error, /selector\.zone/);
  });
  it('knows host:port without a scheme', () => {
    assert.equal(isNatsUrl('127.0.0.1:4222'), true);
    assert.equal(isNatsUrl('tls://nats.example.com:4443'), true);
  });
});
