import { describe, expect, it } from 'vitest';
import { AggregatedLog, HandshakeAdmission, TokenBucket } from '../../../src/transport/secure/admission.ts';
import { rng } from './harness.ts';

describe('DoS limits before authentication', () => {
  it('token bucket: burst, then the sustained rate', () => {
    const b = new TokenBucket(4, 1, 0);
    expect([0, 0, 0, 0, 0].map(() => b.take(0))).toEqual([true, true, true, true, false]);
    expect(b.take(500)).toBe(false);
    expect(b.take(1000)).toBe(true);
  });

  it('a connection flood from many addresses stays within the caps, memory and log lines bounded', () => {
    const adm = new HandshakeAdmission({}, 0);
    const lines: Array<{ msg: string; fields: Record<string, unknown> }> = [];
    const log = new AggregatedLog((msg, fields) => lines.push({ msg, fields }));
    const random = rng(7);
    let maxPending = 0;
    // 20,000 attempts over 20 s from 5,000 addresses; admitted handshakes never finish (half-open).
    for (let k = 0; k < 20_000; k++) {
      const now = k; // 1 ms apart
      const addr = `10.0.${Math.floor(random() * 20)}.${Math.floor(random() * 250)}`;
      const r = adm.admit(addr, now);
      if ('refused' in r) log.note('handshake_refused', r.refused, addr, now);
      maxPending = Math.max(maxPending, adm.pendingCount);
    }
    log.flush(20_000, true);
    expect(maxPending).toBeLessThanOrEqual(16);
    expect(adm.trackedAddresses).toBeLessThanOrEqual(1024);
    expect(adm.counters.admitted).toBeLessThanOrEqual(16 + 10 * 20); // pending cap + deadline-freed slots
    expect(adm.counters.timedOut).toBeGreaterThan(0); // half-open ones were dropped at their deadline
    const refused = Object.values(adm.counters.refused).reduce((a, b) => a + b, 0);
    expect(refused + adm.counters.admitted).toBe(20_000);
    expect(lines.length).toBeLessThanOrEqual(2); // first refusal + one summary, not 19,800 lines
    expect(lines.reduce((n, l) => n + (l.fields.count as number), 0)).toBe(refused);
    expect(Object.keys(lines.at(-1)!.fields.from as object).length).toBeLessThanOrEqual(8);
  });

  it('one address is limited to its burst and then the per-minute rate, and to 2 handshakes at once', () => {
    const adm = new HandshakeAdmission({}, 0);
    let admitted = 0;
    for (let k = 0; k < 60; k++) {
      const r = adm.admit('192.0.2.9', k * 1000);
      if ('ticket' in r) {
        admitted++;
        adm.finish(r.ticket, 'failed'); // wrong key: fails at once
      }
    }
    expect(admitted).toBe(4 + 5); // burst 4, then 6/min over 59 s (5 whole tokens)
    expect(adm.counters.refused.rate_limited).toBe(60 - admitted);
    const two = new HandshakeAdmission({}, 0);
    expect('ticket' in two.admit('a', 0) && 'ticket' in two.admit('a', 1)).toBe(true);
    expect(two.admit('a', 2)).toEqual({ refused: 'address_busy' });
  });

  it('drops half-open handshakes at the short deadline and exports counters for /metrics', () => {
    const adm = new HandshakeAdmission({ handshakeDeadlineMs: 10_000 }, 0);
    const t = adm.admit('a', 0);
    expect('ticket' in t).toBe(true);
    expect(adm.nextDeadlineMs()).toBe(10_000);
    expect(adm.expire(9_999)).toHaveLength(0);
    expect(adm.expire(10_000).map((x) => x.address)).toEqual(['a']);
    expect(adm.pendingCount).toBe(0);
    if ('ticket' in t) adm.finish(t.ticket, 'authenticated'); // idempotent: already released
    expect(adm.counters).toMatchObject({ admitted: 1, timedOut: 1, authenticated: 0 });
    const text = adm.metricsLines().join('\n');
    expect(text).toContain('stcts_link_handshakes_total{outcome="timeout"} 1');
    expect(text).toContain('stcts_link_handshakes_total{outcome="refused",reason="rate_limited"} 0');
    expect(text).toContain('stcts_link_handshakes_pending 0');
  });

  it('aggregated log: first event at once, the rest summarised once per interval', () => {
    const lines: Array<Record<string, unknown>> = [];
    const log = new AggregatedLog((_m, f) => lines.push(f), { intervalMs: 60_000 });
    for (let k = 0; k < 1000; k++) log.note('packet_rejected', k % 3 === 0 ? 'replay' : 'tamper', 'shore', k * 100);
    expect(lines).toHaveLength(2); // t=0 and t=60 s
    log.flush(100_000);
    expect(lines).toHaveLength(2); // not due yet
    log.flush(120_000);
    expect(lines).toHaveLength(3);
    expect(lines.reduce((n, l) => n + (l.count as number), 0)).toBe(1000);
    expect(log.totals.get('packet_rejected')).toBe(1000);
  });
});
