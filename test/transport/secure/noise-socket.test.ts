import { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { TransportError } from '../../../src/core/errors.ts';
import { HandshakeAdmission } from '../../../src/transport/secure/admission.ts';
import { acceptSecureNoise, connectSecureNoise, type NoisePeer } from '../../../src/transport/secure/noise-socket.ts';
import { PROTECTION_OVERHEAD_BYTES } from '../../../src/transport/secure/secure-socket.ts';
import { pskHex } from './harness.ts';

const SHIP = pskHex(1);
const OTHER = pskHex(3);
const packet = (n: number, fill = 7) => new Uint8Array(n).map((_, i) => (i * 31 + fill) & 255);
const instance = (n: number) => new Uint8Array(8).fill(n);

async function server(peers: NoisePeer[], admission?: HandshakeAdmission) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  const results: Array<Promise<Awaited<ReturnType<typeof acceptSecureNoise>>>> = [];
  wss.on('connection', (ws, req) => {
    const r = acceptSecureNoise(ws, 'shore', () => peers, { instanceId: instance(2), ...(admission ? { admission: { admission, address: req.socket.remoteAddress ?? '' } } : {}) });
    r.catch(() => {}); // inspected below
    results.push(r);
  });
  return { wss, results, url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}` };
}

describe('Noise handshake + AES-CCM packets on a WebSocket (loopback)', () => {
  it('connects, names both ends, carries packets both ways with 10 bytes of overhead', async () => {
    const s = await server([{ name: 'ship', psk: SHIP }, { name: 'ship-b', psk: OTHER }]);
    try {
      const client = await connectSecureNoise(new WebSocket(s.url), 'ship', { name: 'shore', psk: SHIP }, { instanceId: instance(1) });
      const srv = await s.results[0]!;
      expect(client.remoteName).toBe('shore');
      expect(srv.remoteName).toBe('ship');
      expect(srv.remoteInstance).toBe('01'.repeat(8));
      expect(client.remoteInstance).toBe('02'.repeat(8));
      expect(client.channelBinding).toHaveLength(32);
      expect(Buffer.from(client.channelBinding)).toEqual(Buffer.from(srv.channelBinding));
      const got = new Promise<Uint8Array>((r) => srv.onPacket(r));
      expect(client.send(packet(30))).toBe(30 + PROTECTION_OVERHEAD_BYTES);
      expect(Array.from(await got)).toEqual(Array.from(packet(30)));
      const back = new Promise<Uint8Array>((r) => client.onPacket(r));
      srv.send(packet(5, 1));
      expect(Array.from(await back)).toEqual(Array.from(packet(5, 1)));
      client.close();
    } finally {
      s.wss.close();
    }
  });

  it('refuses a wrong key, and a name that does not match the key (auth_failed on both sides)', async () => {
    const s = await server([{ name: 'ship', psk: SHIP }, { name: 'ship-b', psk: OTHER }]);
    try {
      for (const [name, psk] of [['ship', pskHex(8)], ['ship', OTHER]] as const) {
        const err = await connectSecureNoise(new WebSocket(s.url), name, { name: 'shore', psk }, { instanceId: instance(1) }).catch((e) => e);
        expect(err).toBeInstanceOf(TransportError);
        expect((err as TransportError).code).toBe('auth_failed');
      }
      const serverSide = await Promise.allSettled(s.results);
      expect(serverSide.map((r) => r.status === 'rejected' && (r.reason as TransportError).code)).toEqual(['auth_failed', 'auth_failed']);
      expect(serverSide[1]!.status === 'rejected' && (serverSide[1]!.reason as TransportError).details).toMatchObject({ peer: 'ship-b', claimed: 'ship' });
    } finally {
      s.wss.close();
    }
  });

  it('plain one-key mode: any name with the key ("*" on both sides)', async () => {
    const s = await server([{ name: '*', psk: SHIP }]);
    try {
      const client = await connectSecureNoise(new WebSocket(s.url), 'stcts-send', { name: '*', psk: SHIP }, { instanceId: instance(1) });
      expect((await s.results[0]!).remoteName).toBe('stcts-send');
      expect(client.remoteName).toBe('shore');
      client.close();
    } finally {
      s.wss.close();
    }
  });

  it('refuses handshakes beyond the admission caps before any crypto (close 1013, TransportError refused)', async () => {
    const admission = new HandshakeAdmission({ maxPendingPerAddress: 1 });
    const s = await server([{ name: 'ship', psk: SHIP }], admission);
    try {
      // A half-open connection that never sends message 1 holds the only slot for 127.0.0.1 ...
      const idle = new WebSocket(s.url);
      await new Promise((r) => idle.once('open', r));
      await new Promise((r) => setTimeout(r, 50));
      // ... so a second one from the same address is refused at once.
      const err = await connectSecureNoise(new WebSocket(s.url), 'ship', { name: 'shore', psk: SHIP }, { instanceId: instance(1) }).catch((e) => e);
      expect(err).toBeInstanceOf(TransportError);
      expect((err as TransportError).code).toBe('closed');
      const second = await Promise.allSettled([s.results[1]!]);
      expect(second[0]!.status === 'rejected' && (second[0]!.reason as TransportError).code).toBe('refused');
      expect(admission.counters.refused.address_busy).toBe(1);
      idle.terminate();
    } finally {
      s.wss.close();
    }
  });

  it('a peer that never answers times out with a typed error', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => wss.once('listening', r));
    try {
      const err = await connectSecureNoise(new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`), 'ship', { name: 'shore', psk: SHIP }, { instanceId: instance(1), timeoutMs: 200 }).catch((e) => e);
      expect((err as TransportError).code).toBe('timeout');
    } finally {
      wss.close();
    }
  });

  it('the listener refuses garbage first messages with close 4401 and survives', async () => {
    const s = await server([{ name: 'ship', psk: SHIP }]);
    try {
      const closeCode = async (payload: Buffer) => {
        const ws = new WebSocket(s.url);
        await new Promise((r) => ws.once('open', r));
        ws.send(payload);
        return new Promise<number>((r) => ws.once('close', (code) => r(code)));
      };
      expect(await closeCode(Buffer.from([0x53, 2, 1, 2, 3]))).toBe(4401);
      expect(await closeCode(Buffer.from([0x51, 1, 2]))).toBe(4401); // message 1 too short
      const client = await connectSecureNoise(new WebSocket(s.url), 'ship', { name: 'shore', psk: SHIP }, { instanceId: instance(1) });
      expect(client.remoteName).toBe('shore');
      client.close();
    } finally {
      s.wss.close();
    }
  });
});
