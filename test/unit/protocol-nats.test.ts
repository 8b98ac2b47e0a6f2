import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  controlSubject,
  parseSelector,
  parseTelemetrySubject,
  podInfoFromService,
  podMatches,
  ProfileRequestSchema,
  subjectToken,
  TelemetryMessageSchema,
  telemetrySubject,
} from '../../src/protocol/nats';
import { check } from '../../src/protocol/schema';
import { parseDuration } from '../../src/cli/target';

describe('NATS subjects', () => {
  it('round-trips telemetry subjects and makes names safe as tokens', () => {
    const subject = telemetrySubject('events', 'gate.way', 'pod 1');
    assert.equal(subject, 'sg.tel.events.gate_way.pod_1');
    assert.deepEqual(parseTelemetrySubject(subject), { kind: 'events', service: 'gate_way', pod: 'pod_1' });
    assert.equal(parseTelemetrySubject('sg.tel.bogus.a.b'), undefined);
    assert.equal(controlSubject('gw-1', 'profile'), 'sg.ctl.gw-1.profile');
    assert.throws(() => subjectToken(''), /cannot be empty/);
  });
});

describe('discovery records and selectors', () => {
  const identity = {
    id: 'X',
    name: 'sg-pod',
    version: '1.4.2',
    metadata: { service: 'gateway', pod: 'gw-1', runtime: 'node', startedAt: '2026-01-01T00:00:00Z', agentVersion: '0.1.0', 'label.region': 'eu', 'label.zone': 'eu-1a' },
  };
  it('reads a pod from its service metadata', () => {
    const pod = podInfoFromService(identity);
    assert.ok(pod);
    assert.deepEqual(pod.labels, { region: 'eu', zone: 'eu-1a' });
    assert.equal(pod.startedAt, Date.parse('2026-01-01T00:00:00Z'));
    assert.equal(podInfoFromService({ ...identity, name: 'other' }), undefined);
  });
  it('matches selectors on service, pod, version and labels', () => {
    const pod = podInfoFromService(identity)!;
    assert.equal(podMatches(pod, parseSelector('service=gateway,region=eu')), true);
    assert.equal(podMatches(pod, parseSelector('region=us')), false);
    assert.equal(podMatches(pod, parseSelector('version=1.4.2')), true);
    assert.throws(() => parseSelector('region'), /key=value/);
  });
});

describe('message schemas', () => {
  it('rejects a telemetry message of an unknown kind or without an id, naming the field', () => {
    const bad = check(TelemetryMessageSchema, { v: 1, kind: 'events', service: 's', pod: 'p', ts: 1, seq: 0, events: [] });
    assert.equal(bad.ok, false);
    assert.match(bad.error, /id/);
    const unknown = check(TelemetryMessageSchema, { v: 1, kind: 'gossip' });
    assert.equal(unknown.ok, false);
  });
  it('explains bad profile requests', () => {
    const cases: [unknown, RegExp][] = [
      [{ type: 'cpu', seconds: 0 }, /at least 1/],
      [{ type: 'cpu', seconds: 2.5 }, /whole number/],
      [{ type: 'cpu', seconds: 301 }, /at most 300/],
      [{ type: 'goroutine' }, /"cpu" or "heap"/],
    ];
    for (const [request, reason] of cases) {
      const parsed = check(ProfileRequestSchema, request);
      assert.equal(parsed.ok, false);
      assert.match(parsed.error, reason);
    }
  });
});

describe('durations', () => {
  it('reads 30s, 5m, 1h30m, 250ms and plain seconds', () => {
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('5m'), 300_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('2'), 2000);
    assert.throws(() => parseDuration('soon'), /not a duration/);
  });
});
