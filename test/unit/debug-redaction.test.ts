/** Redaction by name and by shape: nothing secret-looking leaves a pod, whatever it is called. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { luhn, REDACTED, Redactor } from '../../src/agent/debugger/redaction';
import { LOADTEST_TENANT, TENANTS } from '../../demo/gateway/tenants';

const redactor = new Redactor();

describe('redaction', () => {
  it('redacts names like password, secret, token, apiKey, authorization and cookie, case-insensitively, as substrings', () => {
    for (const name of ['password', 'dbPassword', 'SECRET', 'clientSecret', 'accessToken', 'apiKey', 'x-api-key', 'authorization', 'Cookie', 'set-cookie']) {
      assert.equal(redactor.isSecretName(name), true, name);
    }
    for (const name of ['tenant', 'id', 'url', 'headers', 'body', 'keys']) assert.equal(redactor.isSecretName(name), false, name);
    assert.equal(new Redactor(['ssn']).isSecretName('customerSSN'), true, 'the list is configurable');
  });

  it('redacts every sandbox tenant key whatever its name, alone or inside text', () => {
    for (const tenant of [...TENANTS, LOADTEST_TENANT]) {
      assert.equal(redactor.redactText(tenant.apiKey), REDACTED, tenant.id);
      const inText = redactor.redactText(`presented ${tenant.apiKey} for ${tenant.id}`);
      assert.ok(!inText.includes(tenant.apiKey), inText);
      assert.equal(inText, `presented ${REDACTED} for ${tenant.id}`);
    }
  });

  it('redacts JWTs, bearer credentials and well-known key prefixes', () => {
    const samples = [
      'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
      'Bearer abcdefghijklmnop.qrstuv',
      'ghp_0123456789abcdefghijABCDEFGHIJ012345',
      'xoxb-123456789012-abcdefghijkl',
      'AKIAIOSFODNN7EXAMPLE',
      'sk_test_4eC39HqLyjWDarjtT1zdp7dc',
    ];
    for (const sample of samples) assert.ok(redactor.redactText(`value: ${sample}`).includes(REDACTED) && !redactor.redactText(`value: ${sample}`).includes(sample), sample);
  });

  it('redacts card numbers that pass Luhn, and leaves timestamps and other digit runs alone', () => {
    assert.equal(luhn('4111111111111111'), true);
    assert.equal(redactor.redactText('card 4111 1111 1111 1111 ok'), `card ${REDACTED} ok`);
    assert.equal(redactor.redactText('card 5500-0000-0000-0004'), `card ${REDACTED}`);
    assert.equal(redactor.redactText('amex 378282246310005'), `amex ${REDACTED}`);
    assert.equal(redactor.redactText('4111 1111 1111 1112'), '4111 1111 1111 1112', 'fails Luhn');
    assert.equal(redactor.redactText('ts 1764000000000 id 1234567890123'), 'ts 1764000000000 id 1234567890123');
  });

  it('finds a secret that straddles the cut and returns only what it scanned', () => {
    const text = `${'x'.repeat(250)}${TENANTS[0]!.apiKey}${'y'.repeat(5000)}`;
    const out = redactor.redactText(text, 256 + 512);
    assert.ok(!out.includes('sk_live'), 'the key starting before the cut is found whole');
    assert.ok(out.length <= 256 + 512, 'nothing past the scanned part is returned');
  });
});
