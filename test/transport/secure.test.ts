import { randomBytes } from 'node:crypto';
import { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { TransportError } from '../../src/core/errors.ts';
import { acceptSecure, connectSecure, deriveSessionKeys, PacketOpener, PacketSealer, PROTECTION_OVERHEAD_BYTES, REPLAY_WINDOW } from '../../src/transport/secure/index.ts';

const KEY = new TextEncoder().encode('an end-to-end key of 32 bytes!!!');
function pair(): { sealer: PacketSealer; opener: PacketOpener } {
  const k = deriveSessionKeys(KEY, randomBytes(16), randomBytes(16));
  return { sealer: new PacketSealer(k.c2s), opener: new PacketOpener(k.c2s) };
}
const packet = (n: number, fill = 7) => new Uint8Array(n).map((_, i) => (i * 31 + fill) & 255);

describe('packet protection', () => {
  it('round-trips packets with at most 10 bytes of overhead', () => {
    const { sealer, opener } = pair();
    for (const n of [1, 20, 96, 4096]) {
      const p = packet(n);
      const sealed = sealer.seal(p);
      expect(sealed.length - p.length).toBe(PROTECTION_OVERHEAD_BYTES);
      expect(PROTECTION_OVERHEAD_BYTES).toBeLessThanOrEqual(10);
      const r = opener.open(sealed);
      expect('packet' in r && Array.from(r.packet)).toEqual(Array.from(p));
    }
    expect(opener.stats.accepted).toBe(4);
  });

  it('hides the plaintext (same packet, different ciphertext each time)', () => {
    const { sealer } = pair();
    const p = packet(20);
    const a = sealer.seal(p);
    const b = sealer.seal(p);
    expect(Buffer.from(a.subarray(2, 22)).equals(Buffer.from(p))).toBe(false);
    expect(Buffer.from(a.subarray(2, 22)).equals(Buffer.from(b.subarray(2, 22)))).toBe(false);
  });

  it('rejects a packet with any single byte changed (every byte, every packet position)', () => {
    const { sealer, opener } = pair();
    const sealed = sealer.seal(packet(24));
    for (let i = 0; i < sealed.length; i++) {
      for (const flip of [0x01, 0x80]) {
        const t = sealed.slice();
        t[i]! ^= flip;
        const r = opener.open(t);
        expect('rejected' in r).toBe(true);
      }
    }
    expect(opener.stats.accepted).toBe(0);
    expect(opener.stats.rejected.tamper + opener.stats.rejected.replay).toBe(sealed.length * 2);
    // The genuine packet still opens afterwards: rejected packets leave no state behind.
    expect('packet' in opener.open(sealed)).toBe(true);
  });

  it('rejects truncated and too-short packets as malformed, without throwing', () => {
    const { sealer, opener } = pair();
    const sealed = sealer.seal(packet(10));
    expect(opener.open(sealed.subarray(0, 5))).toEqual({ rejected: 'malformed' });
    expect(opener.open(new Uint8Array(0))).toEqual({ rejected: 'malformed' });
    expect('rejected' in opener.open(sealed.subarray(0, sealed.length - 1))).toBe(true);
  });

  it('rejects replays, accepts reordering inside the window, rejects packets older than the window', () => {
    const { sealer, opener } = pair();
    const sealed = Array.from({ length: REPLAY_WINDOW + 20 }, (_, i) => sealer.seal(packet(12, i)));
    const order = [0, 3, 1, 2, 7, 5, 6, 4];
    for (const i of order) expect('packet' in opener.open(sealed[i]!)).toBe(true);
    for (const i of order) expect(opener.open(sealed[i]!)).toEqual({ rejected: 'replay' });
    expect(opener.stats.gaps).toBe(0);
    // Skip ahead by more than the window: a packet from before it is refused, even if never seen.
    expect('packet' in opener.open(sealed[REPLAY_WINDOW + 10]!)).toBe(true);
    expect(opener.open(sealed[8]!)).toEqual({ rejected: 'replay' });
    expect('packet' in opener.open(sealed[REPLAY_WINDOW + 5]!)).toBe(true);
    expect(opener.stats.rejected.replay).toBe(order.length + 1);
  });

  it('recovers the full packet number across the 16-bit wrap', () => {
    const { sealer, opener } = pair();
    let accepted = 0;
    for (let i = 0; i < 70_000; i++) {
      const s = sealer.seal(packet(4, i));
      if (i % 97 === 0 || i > 65_500) accepted += 'packet' in opener.open(s) ? 1 : 0;
    }
    expect(accepted).toBe(Math.ceil(65_501 / 97) + (70_000 - 65_501));
    expect(opener.stats.rejected.tamper).toBe(0);
  });

  it('a packet sealed for one direction or session does not open in another', () => {
    const k = deriveSessionKeys(KEY, randomBytes(16), randomBytes(16));
    const other = deriveSessionKeys(KEY, randomBytes(16), randomBytes(16));
    const s = new PacketSealer(k.c2s).seal(packet(16));
    expect(new PacketOpener(k.s2c).open(s)).toEqual({ rejected: 'tamper' });
    expect(new PacketOpener(other.c2s).open(s)).toEqual({ rejected: 'tamper' });
  });
});

describe('peer authentication over a WebSocket', () => {
  async function server(psk: string) {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => wss.once('listening', r));
    const results: Array<Promise<unknown>> = [];
    wss.on('connection', (ws) => {
      const r = acceptSecure(ws, (name) => (name === 'ship' ? { psk } : undefined), { instanceId: randomBytes(8) });
      r.catch(() => {}); // inspected with allSettled below
      results.push(r);
    });
    return { wss, results, url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}` };
  }

  it('connects with the right key and carries sealed packets both ways', async () => {
    const s = await server('the-shared-psk-0123456789');
    try {
      const client = await connectSecure(new WebSocket(s.url), 'ship', { psk: 'the-shared-psk-0123456789' }, { instanceId: randomBytes(8) });
      const srv = (await s.results[0]) as Awaited<ReturnType<typeof acceptSecure>>;
      expect(srv.remoteName).toBe('ship');
      const got = new Promise<Uint8Array>((r) => srv.onPacket(r));
      client.send(packet(30));
      expect(Array.from(await got)).toEqual(Array.from(packet(30)));
      const back = new Promise<Uint8Array>((r) => client.onPacket(r));
      srv.send(packet(5, 1));
      expect(Array.from(await back)).toEqual(Array.from(packet(5, 1)));
      client.close();
    } finally {
      s.wss.close();
    }
  });

  it('refuses a wrong key and an unknown name (auth_failed on both sides)', async () => {
    const s = await server('the-shared-psk-0123456789');
    try {
      for (const [name, psk] of [['ship', 'a-wrong-psk-0123456789xx'], ['stranger', 'the-shared-psk-0123456789']]) {
        const err = await connectSecure(new WebSocket(s.url), name!, { psk: psk! }, { instanceId: randomBytes(8) }).catch((e) => e);
        expect(err).toBeInstanceOf(TransportError);
        expect((err as TransportError).code).toBe('auth_failed');
      }
      const serverSide = await Promise.allSettled(s.results);
      expect(serverSide.map((r) => r.status === 'rejected' && (r.reason as TransportError).code)).toEqual(['auth_failed', 'auth_failed']);
    } finally {
      s.wss.close();
    }
  });

  it('the client refuses a server that does not know the key', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => wss.once('listening', r));
    // An impostor that accepts any client but proves nothing (answers with a random "proof").
    wss.on('connection', (ws) => {
      ws.send(Buffer.concat([Buffer.from([0x53, 1]), randomBytes(24)]));
      ws.once('message', () => ws.send(Buffer.concat([Buffer.from([0x53, 3]), randomBytes(32)])));
    });
    try {
      const err = await connectSecure(new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`), 'ship', { psk: 'the-shared-psk-0123456789' }, { instanceId: randomBytes(8) }).catch((e) => e);
      expect((err as TransportError).code).toBe('auth_failed');
    } finally {
      wss.close();
    }
  });
});
