import { describe, expect, it } from 'vitest';
import type { TransportError } from '../../../src/core/errors.ts';
import { newDatagramLinkStats, type DatagramLink, type LinkState } from '../../../src/transport/links/types.ts';
import { SecureDatagramLink, type SecureDatagramOptions } from '../../../src/transport/secure/secure-datagram.ts';
import { cred, node, rng } from './harness.ts';

/** Virtual clock with timers, run in time order. */
class Clock {
  t = 0;
  private timers: Array<{ at: number; f: () => void; id: number }> = [];
  private ids = 0;
  now = () => this.t;
  setTimer = (f: () => void, ms: number) => {
    const id = ++this.ids;
    this.timers.push({ at: this.t + ms, f, id });
    return id;
  };
  clearTimer = (id: unknown) => {
    this.timers = this.timers.filter((x) => x.id !== id);
  };
  runUntil(ms: number): void {
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.at > ms) break;
      this.timers.shift();
      this.t = next.at;
      next.f();
    }
    this.t = ms;
  }
}

/** One end of an in-memory datagram link: delay 300 ms, seeded loss, a switch to cut it. */
class MemLink implements DatagramLink {
  readonly kind = 'emulated' as const;
  readonly description = 'memory';
  readonly mtu = 256;
  readonly cost = { packetCost: (n: number) => ({ wireBytes: n, airtimeMs: (n * 8 * 1000) / 300 }), halfDuplex: false };
  readonly state: LinkState = 'up';
  readonly stats = newDatagramLinkStats();
  peer!: MemLink;
  cut = false;
  sent = 0;
  private handler: (d: Uint8Array) => void = () => {};
  constructor(
    private readonly clock: Clock,
    private readonly loss: () => boolean,
  ) {}
  send(d: Uint8Array): void {
    this.sent++;
    if (this.cut || this.loss()) return;
    const copy = d.slice();
    this.clock.setTimer(() => this.peer.handler(copy), 300);
  }
  onDatagram(h: (d: Uint8Array) => void): void {
    this.handler = h;
  }
  onState(): void {}
  async close(): Promise<void> {}
}

function setup(o: { loss?: number; seed?: number; aead?: SecureDatagramOptions['aead']; pskAtC?: number; refusedRetryMs?: number } = {}) {
  const clock = new Clock();
  const random = rng(o.seed ?? 3);
  const lossy = () => random() < (o.loss ?? 0);
  const a = new MemLink(clock, lossy);
  const c = new MemLink(clock, lossy);
  a.peer = c;
  c.peer = a;
  const opts = { now: clock.now, setTimer: clock.setTimer, clearTimer: clock.clearTimer, aead: { now: clock.now, ...o.aead }, retryMs: 5000 };
  const failures: TransportError[] = [];
  const responder = new SecureDatagramLink(c, { role: 'responder', me: node('shore', 3), peers: [cred('ship-a', o.pskAtC ?? 1)] }, opts, { failed: (e) => failures.push(e), refused: (e) => failures.push(e) });
  const initiator = new SecureDatagramLink(a, { role: 'initiator', me: node('ship-a', 1), peer: cred('shore', 1) }, { ...opts, ...(o.refusedRetryMs ? { refusedRetryMs: o.refusedRetryMs } : {}) }, { failed: (e) => failures.push(e) });
  const gotAtC: Uint8Array[] = [];
  const gotAtA: Uint8Array[] = [];
  responder.onDatagram((d) => gotAtC.push(d));
  initiator.onDatagram((d) => gotAtA.push(d));
  return { clock, a, c, initiator, responder, gotAtA, gotAtC, failures, opts };
}
const pkt = (i: number) => new Uint8Array([i & 255, (i >> 8) & 255, 7, 7]);

describe('SecureDatagramLink: the handshake and sealed packets over any datagram link', () => {
  it('comes up over a lossy link (30% loss each way, seeded), then carries sealed packets both ways', () => {
    const s = setup({ loss: 0.3, seed: 5 });
    expect(s.initiator.state).toBe('connecting');
    s.initiator.send(pkt(0)); // before the handshake: dropped and counted, not thrown
    expect(s.a.stats.dropped.not_connected).toBe(1);
    s.clock.runUntil(60_000);
    expect(s.initiator.state).toBe('up');
    expect(s.responder.state).toBe('up');
    expect(s.responder.remote?.remoteName).toBe('ship-a');
    expect(s.initiator.mtu).toBe(246);
    expect(s.initiator.cost.packetCost(20).wireBytes).toBe(30);
    for (let i = 0; i < 200; i++) {
      s.initiator.send(pkt(i));
      s.responder.send(pkt(i + 1000));
    }
    s.clock.runUntil(70_000);
    expect(s.gotAtC.length).toBeGreaterThan(100);
    expect(s.gotAtA.length).toBeGreaterThan(100);
    expect(Array.from(s.gotAtC[0]!).slice(2)).toEqual([7, 7]);
    expect(s.initiator.handshakes).toBe(1);
  });

  it('a wrong key never comes up: the responder refuses (message R), the initiator is told at once and stops trying', () => {
    const s = setup({ pskAtC: 4 });
    s.clock.runUntil(5_000);
    expect(s.responder.state).not.toBe('up');
    // Both ends report auth_failed within the first round trip (1 → 2 → 3 → R: 4 × 300 ms).
    expect(s.failures.filter((e) => e.code === 'auth_failed')).toHaveLength(2);
    expect(s.clock.t).toBe(5_000);
    expect(s.failures.some((e) => (e.details as { refused?: boolean } | undefined)?.refused)).toBe(true);
    expect(s.initiator.state).toBe('down');
    // ...and the dialer stops: no retransmissions, no new handshakes (retrying cannot fix a key).
    const sent = s.a.sent;
    s.clock.runUntil(200_000);
    expect(s.a.sent).toBe(sent);
    expect(s.initiator.state).toBe('down');
  });

  it('with refusedRetryMs (a daemon), a refused dialer tries again at that pace (and only then)', () => {
    const s = setup({ pskAtC: 4, refusedRetryMs: 10_000 });
    s.clock.runUntil(25_000);
    expect(s.initiator.state).toBe('down');
    const refusals = () => s.failures.filter((e) => (e.details as { refused?: boolean } | undefined)?.refused).length;
    expect(refusals()).toBe(3); // at ~1, ~11 and ~21 s
    expect(s.a.sent).toBe(3 * 2); // messages 1 and 3 and nothing else, three times
    expect(s.initiator.handshakes).toBe(0);
  });

  it('a refusal lost on the way: the initiator repeats message 3 and is refused again', () => {
    const s = setup({ pskAtC: 4 });
    let dropped = 0;
    const send = s.c.send.bind(s.c);
    s.c.send = (d: Uint8Array) => (d[0] === 0x55 && dropped++ === 0 ? void s.c.sent++ : send(d));
    s.clock.runUntil(30_000);
    expect(dropped).toBeGreaterThanOrEqual(2);
    expect(s.initiator.state).toBe('down');
    expect(s.failures.some((e) => (e.details as { refused?: boolean } | undefined)?.refused)).toBe(true);
  });

  it('a responder that restarted (keys lost) is found again: after silenceRehandshakeMs of unanswered sends the initiator handshakes anew', () => {
    const s = setup();
    s.clock.runUntil(10_000);
    expect(s.initiator.handshakes).toBe(1);
    // The responder's process restarts: a fresh one on the same link knows no keys.
    const fresh = new SecureDatagramLink(s.c, { role: 'responder', me: node('shore', 3), peers: [cred('ship-a', 1)] }, s.opts);
    const got: Uint8Array[] = [];
    fresh.onDatagram((d) => got.push(d));
    for (let t = 1; t <= 19; t++) {
      s.initiator.send(pkt(t));
      s.clock.runUntil(10_000 + t * 1000);
    }
    expect(s.initiator.handshakes).toBe(1); // 19 s unanswered: not yet (default limit 20 s)
    for (let t = 20; t <= 30; t++) {
      s.initiator.send(pkt(t));
      s.clock.runUntil(10_000 + t * 1000);
    }
    expect(s.initiator.handshakes).toBe(2);
    expect(fresh.state).toBe('up');
    expect(got.length).toBeGreaterThan(0);
    // An idle link is not silence: nothing sent, no new handshake.
    s.clock.runUntil(200_000);
    expect(s.initiator.handshakes).toBe(2);
  });

  it('40,000 consecutive lost data packets, then the link heals: traffic resumes without a new handshake', () => {
    const s = setup({ aead: { resyncIntervalMs: 0 } });
    s.clock.runUntil(10_000);
    for (let i = 0; i < 3; i++) s.initiator.send(pkt(i));
    s.clock.runUntil(11_000);
    s.a.cut = true;
    for (let i = 0; i < 40_000; i++) s.initiator.send(pkt(i));
    s.a.cut = false;
    for (let i = 0; i < 5; i++) s.initiator.send(pkt(50_000 + i));
    s.clock.runUntil(12_000);
    expect(s.gotAtC).toHaveLength(8);
    expect(s.responder.openerStats?.resyncs).toBe(1);
    expect(s.initiator.handshakes).toBe(1);
  });

  it('beyond the look-ahead, the initiator re-handshakes by itself and traffic resumes with new keys', () => {
    const s = setup({ aead: { resyncWindows: 1, reconnectAfterFailures: 3, resyncIntervalMs: 0 } });
    s.clock.runUntil(10_000);
    const firstKeys = s.initiator.remote!.handshakeHash;
    s.c.cut = true;
    for (let i = 0; i < 200_000; i++) s.responder.send(pkt(i)); // all lost: shore → ship
    s.c.cut = false;
    for (let i = 0; i < 4; i++) s.responder.send(pkt(i));
    s.clock.runUntil(20_000);
    expect(s.initiator.handshakes).toBe(2);
    expect(Buffer.from(s.initiator.remote!.handshakeHash).equals(Buffer.from(firstKeys))).toBe(false);
    s.responder.send(pkt(9));
    s.initiator.send(pkt(10));
    s.clock.runUntil(21_000);
    expect(s.gotAtA.map((d) => d[0])).toContain(9);
    expect(s.gotAtC.map((d) => d[0])).toContain(10);
  });

  it('a restarted initiator (new process, new instance id) gets new keys from the running responder', () => {
    const s = setup();
    s.clock.runUntil(10_000);
    expect(s.responder.remote?.remoteInstance).toBe('01'.repeat(8));
    const restarted = new SecureDatagramLink(s.a, { role: 'initiator', me: { ...node('ship-a', 1), instanceId: new Uint8Array(8).fill(0xaa) }, peer: cred('shore', 1) }, s.opts);
    const got: Uint8Array[] = [];
    restarted.onDatagram((d) => got.push(d));
    s.clock.runUntil(20_000);
    expect(restarted.state).toBe('up');
    expect(s.responder.remote?.remoteInstance).toBe('aa'.repeat(8));
    restarted.send(pkt(1));
    s.responder.send(pkt(2));
    s.clock.runUntil(21_000);
    expect(s.gotAtC.map((d) => d[0])).toEqual([1]);
    expect(got.map((d) => d[0])).toEqual([2]);
  });
});
