import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import type { Frame } from '../../../src/codec/frame/index.ts';
import { InvalidStateError, TransportError, UsageError } from '../../../src/core/errors.ts';
import { decodePacket, LinkSession, PacketBuilder } from '../../../src/transport/index.ts';
import { ackPacket } from '../../../src/transport/link-packet.ts';
import { mulberry32 } from '../../../src/transport/prng.ts';
import { isLinkPacket, openUdpLink, UDP_MTU_BYTES } from '../../../src/transport/links/udp.ts';
import { parseUdpUrl } from '../../../src/transport/links/udp-url.ts';
import { errorCodeOf } from '../../fixtures/errors.ts';
import { until } from '../../fixtures/wait.ts';

const frame = (seq: number, text = `P${seq}`): Frame => ({ version: 1, sessionId: 31, seq, time: seq, payload: { type: 'text', coding: 'utf8', coded: new TextEncoder().encode(text) } });

function packet(...frames: Frame[]): Uint8Array {
  const b = new PacketBuilder(1200);
  for (const f of frames) b.tryAdd(f);
  return b.finish();
}

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
});

async function pair(dialOptions: Parameters<typeof openUdpLink>[1] = { role: 'dial' }, host = '127.0.0.1') {
  const listener = await openUdpLink(`udp://${host.includes(':') ? `[${host}]` : host}:0`, { role: 'listen' });
  open.push(listener);
  const url = `udp://${host.includes(':') ? `[${host}]` : host}:${listener.localAddress.port}`;
  const dialer = await openUdpLink(url, dialOptions);
  open.push(dialer);
  const atListener: Uint8Array[] = [];
  const atDialer: Uint8Array[] = [];
  listener.onDatagram((d) => atListener.push(d));
  dialer.onDatagram((d) => atDialer.push(d));
  return { listener, dialer, atListener, atDialer, url };
}

/** A raw UDP socket on 127.0.0.1 (a third party or a hand-crafted peer). */
async function rawSocket(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  open.push({ close: () => new Promise<void>((r) => s.close(() => r())) });
  return s;
}
const sendRaw = (s: Socket, bytes: Uint8Array, port: number) => new Promise<void>((r) => s.send(bytes, port, '127.0.0.1', () => r()));
const settle = (ms = 60) => new Promise((r) => setTimeout(r, ms));

describe('parseUdpUrl', () => {
  it('reads IPv4, host names and bracketed IPv6', () => {
    expect(parseUdpUrl('udp://127.0.0.1:7000')).toEqual({ host: '127.0.0.1', port: 7000, family: 4 });
    expect(parseUdpUrl('udp://[::1]:7000')).toEqual({ host: '::1', port: 7000, family: 6 });
    expect(parseUdpUrl('udp://localhost:9/')).toEqual({ host: 'localhost', port: 9, family: undefined });
    expect(parseUdpUrl('udp://0.0.0.0:0').port).toBe(0);
  });

  it.each(['ws://127.0.0.1:7000', 'udp://127.0.0.1', 'udp://:7000', 'udp://::1:7000', 'udp://[nothex]:7000', 'udp://1.2.3.4:70000', 'udp://1.2.3:7000', 'udp://a_b:7', 'udp://h:7/path', 'udp://h:7?x=1', 'udp://u@h:7', ''])(
    '%s is a UsageError',
    (url) => {
      expect(() => parseUdpUrl(url)).toThrow(UsageError);
    },
  );
});

describe('link packets and keepalives', () => {
  it('no link packet is 0 or 1 byte long, so a 0-byte keepalive cannot be mistaken for one', () => {
    expect(isLinkPacket(new Uint8Array(0))).toBe(false);
    for (let b = 0; b < 256; b++) expect(isLinkPacket(new Uint8Array([b]))).toBe(false);
    // The smallest real packets: a compact ack (2 bytes; it names its session only by tag, so it
    // cannot pin), the same naming the session (it can), and a full packet with one ack frame.
    const ack = { type: 'ack' as const, cumulative: 0, sack: 0n, nack: [] };
    const compact = ackPacket(31, ack, false);
    expect(compact.length).toBe(2);
    expect(isLinkPacket(compact)).toBe(false);
    expect(isLinkPacket(ackPacket(31, ack, true))).toBe(true);
    const full = packet({ version: 1, sessionId: 1, seq: 0, time: 0, payload: { type: 'ack', cumulative: 0, sack: 0n, nack: [] } });
    expect(isLinkPacket(full)).toBe(true);
  });
});

describe('UdpLink on loopback', () => {
  it('dial is up at once; listen pins the first valid packet and then carries both ways', async () => {
    const { listener, dialer, atListener, atDialer } = await pair();
    const states: string[] = [];
    listener.onState((s) => states.push(s));
    expect(dialer.state).toBe('up');
    expect(listener.state).toBe('connecting');
    listener.send(packet(frame(0)));
    expect(listener.stats.dropped.not_connected).toBe(1);
    const p = packet(frame(1), frame(2));
    dialer.send(p);
    await until(() => atListener.length === 1);
    expect(listener.state).toBe('up');
    expect(states).toEqual(['up']);
    expect(listener.peer?.port).toBeGreaterThan(0);
    expect(Array.from(atListener[0]!)).toEqual(Array.from(p));
    listener.send(packet(frame(3)));
    await until(() => atDialer.length === 1);
    expect(decodePacket(atDialer[0]!).frames[0]?.seq).toBe(3);
    expect(dialer.stats.datagramsOut).toBe(1);
    expect(dialer.stats.wireBytesOut).toBe(p.length + 28);
    expect(listener.stats.wireBytesIn).toBe(p.length + 28);
    expect(listener.description).toMatch(/^udp:\/\/127\.0\.0\.1:\d+ \(peer udp:\/\/127\.0\.0\.1:\d+\)$/);
  });

  it('IPv6 loopback: [::1] works and the cost model charges 48 header bytes', async () => {
    const { listener, dialer, atListener } = await pair({ role: 'dial' }, '::1');
    dialer.send(packet(frame(0)));
    await until(() => atListener.length === 1);
    expect(dialer.stats.wireBytesOut - dialer.stats.payloadBytesOut).toBe(48);
    expect(listener.cost.packetCost(10).wireBytes).toBe(58);
  });

  it('MTU 1200: a larger datagram is TransportError(too_large); exactly 1200 bytes passes', async () => {
    const { dialer, atListener } = await pair();
    expect(dialer.mtu).toBe(UDP_MTU_BYTES);
    dialer.send(packet(frame(0)));
    const big = new Uint8Array(1201);
    expect(errorCodeOf(() => dialer.send(big), TransportError)).toBe('too_large');
    dialer.send(new Uint8Array(1200).fill(7));
    await until(() => atListener.length === 2);
    expect(atListener[1]!.length).toBe(1200);
  });

  it('a second sender is dropped and counted (foreign_source) and seen by onCandidate; the pinned peer is untouched', async () => {
    const { listener, dialer, atListener, url } = await pair();
    dialer.send(packet(frame(0)));
    await until(() => atListener.length === 1);
    const pinned = listener.peer;
    const intruder = await openUdpLink(url, { role: 'dial' });
    open.push(intruder);
    const candidates: number[] = [];
    listener.onCandidate((_d, from) => candidates.push(from.port));
    intruder.send(packet(frame(5)));
    intruder.send(packet(frame(6)));
    await until(() => listener.stats.dropped.foreign_source === 2);
    expect(atListener).toHaveLength(1);
    expect(listener.peer).toEqual(pinned);
    expect(candidates).toEqual([intruder.localAddress.port, intruder.localAddress.port]);
  });

  it('repin() lets the peer move once (NAT rebinding), to a source that sends a valid packet', async () => {
    const { listener, dialer, atListener, url } = await pair();
    dialer.send(packet(frame(0)));
    await until(() => atListener.length === 1);
    const moved = await openUdpLink(url, { role: 'dial' });
    open.push(moved);
    listener.repin();
    moved.send(new Uint8Array([0xff, 0xff, 0xff])); // not a link packet: does not move the pin
    dialer.send(packet(frame(1))); // the old peer is still served meanwhile
    await until(() => atListener.length === 2);
    moved.send(packet(frame(2)));
    await until(() => atListener.length === 3);
    expect(listener.peer?.port).toBe(moved.localAddress.port);
    dialer.send(packet(frame(3))); // the old address is now foreign
    await until(() => listener.stats.dropped.foreign_source === 2);
    expect(listener.stats.peerChanges).toBe(2);
    expect(atListener).toHaveLength(3);
  });

  it('followPeer: the pin follows any source with a valid packet (for links authenticated per packet)', async () => {
    const listener = await openUdpLink('udp://127.0.0.1:0', { role: 'listen', followPeer: true });
    open.push(listener);
    const got: Uint8Array[] = [];
    listener.onDatagram((d) => got.push(d));
    const url = `udp://127.0.0.1:${listener.localAddress.port}`;
    const a = await openUdpLink(url, { role: 'dial' });
    const b = await openUdpLink(url, { role: 'dial' });
    open.push(a, b);
    a.send(packet(frame(0)));
    await until(() => got.length === 1);
    b.send(new Uint8Array([0x09, 0xff])); // garbage never moves it
    b.send(packet(frame(1)));
    await until(() => got.length === 2);
    expect(listener.peer?.port).toBe(b.localAddress.port);
    expect(listener.stats.dropped.foreign_source).toBe(1);
  });

  it('manual pinning: nothing is delivered until pin(); candidates arrive with their source', async () => {
    const listener = await openUdpLink('udp://127.0.0.1:0', { role: 'listen', pinning: 'manual' });
    open.push(listener);
    const got: Uint8Array[] = [];
    const candidates: Array<{ address: string; port: number }> = [];
    listener.onDatagram((d) => got.push(d));
    listener.onCandidate((_d, from) => candidates.push(from));
    const dialer = await openUdpLink(`udp://127.0.0.1:${listener.localAddress.port}`, { role: 'dial' });
    open.push(dialer);
    dialer.send(packet(frame(0)));
    await until(() => candidates.length === 1);
    expect(got).toHaveLength(0);
    expect(listener.state).toBe('connecting');
    listener.pin(candidates[0]!);
    expect(listener.state).toBe('up');
    dialer.send(packet(frame(1)));
    await until(() => got.length === 1);
    expect(() => dialer.pin(candidates[0]!)).toThrow(InvalidStateError);
  });

  it('garbage and oversized datagrams: counted, never delivered to pin, never a crash', async () => {
    const listener = await openUdpLink('udp://127.0.0.1:0', { role: 'listen' });
    open.push(listener);
    const got: Uint8Array[] = [];
    listener.onDatagram((d) => got.push(d));
    const port = listener.localAddress.port;
    const raw = await rawSocket();
    await sendRaw(raw, new Uint8Array([0x09, 0xff]), port); // compact header cut inside its session id: not a packet
    await sendRaw(raw, new Uint8Array(0), port); // keepalive before any peer
    await sendRaw(raw, new Uint8Array(1500), port); // above the MTU
    await until(() => listener.stats.dropped.malformed + listener.stats.dropped.foreign_source + listener.stats.dropped.too_large === 3);
    expect(listener.stats.dropped).toMatchObject({ malformed: 1, foreign_source: 1, too_large: 1 });
    expect(listener.state).toBe('connecting');
    // Once pinned, the link hands on whatever its peer sends (up to the MTU); the session layer judges.
    await sendRaw(raw, packet(frame(0)), port);
    await until(() => got.length === 1);
    await sendRaw(raw, new Uint8Array([0x09, 0xff]), port);
    await sendRaw(raw, new Uint8Array(1201), port);
    await until(() => got.length === 2 && listener.stats.dropped.too_large === 2);
    const session = new LinkSession(31);
    try {
      await session.onPacket(got[1]!); // a corrupt packet: LinkSession shrugs it off
    } finally {
      session.close();
    }
  });

  it('seeded garbage (2000 random datagrams, 0–1300 bytes): counted, rarely pins, never crashes the link or the session', async () => {
    const listener = await openUdpLink('udp://127.0.0.1:0', { role: 'listen' });
    open.push(listener);
    const got: Uint8Array[] = [];
    listener.onDatagram((d) => got.push(d));
    let sent = 0;
    let sentAtPin = -1;
    listener.onState((st) => {
      if (st === 'up' && sentAtPin < 0) sentAtPin = sent;
    });
    const raw = await rawSocket();
    const rnd = mulberry32(99);
    for (; sent < 2000; ) {
      const n = rnd() < 0.5 ? Math.floor(rnd() * 8) : Math.floor(rnd() * 1301);
      await sendRaw(raw, new Uint8Array(n).map(() => Math.floor(rnd() * 256)), listener.localAddress.port);
      sent++;
      if (sent % 20 === 0) await settle(2); // (a socket buffer holds ~200 KB)
    }
    const s = listener.stats;
    await until(() => got.length + s.keepalivesIn + s.dropped.malformed + s.dropped.foreign_source + s.dropped.too_large === 2000);
    expect(s.dropped.too_large).toBeGreaterThan(0);
    // Pinning on a packet that parses is no authentication (the handshake of issue #20 is), but
    // random bytes must not pin at once: it took this seed's garbage ~290 datagrams.
    expect(sentAtPin).toBeGreaterThan(100);
    const session = new LinkSession(31);
    try {
      for (const d of got) await session.onPacket(d);
      expect(session.rejects.malformed).toBeGreaterThan(got.length / 2);
    } finally {
      session.close();
    }
  });

  it('sends a 0-byte keepalive when idle, counted as control traffic; the receiver counts and drops it', async () => {
    const { listener, dialer, atListener } = await pair({ role: 'dial', keepaliveMs: 40 });
    dialer.send(packet(frame(0))); // pins the listener, so it accepts keepalives from us
    await until(() => atListener.length === 1);
    await until(() => listener.stats.keepalivesIn >= 3, 5000);
    expect(atListener).toHaveLength(1);
    expect(dialer.stats.datagramsOut).toBe(1);
    expect(dialer.stats.controlPacketsOut).toBeGreaterThanOrEqual(3);
    expect(dialer.stats.wireBytesOut).toBe(dialer.stats.payloadBytesOut + 28 * (1 + dialer.stats.controlPacketsOut));
    expect(listener.stats.datagramsIn).toBe(1);
    expect(listener.stats.controlPacketsOut).toBe(0); // listening links do not keep alive by default
  });

  it('sends no keepalive while traffic flows', async () => {
    const { dialer, atListener } = await pair({ role: 'dial', keepaliveMs: 250 });
    for (let i = 0; i < 30; i++) {
      dialer.send(packet(frame(i)));
      await settle(20);
    }
    await until(() => atListener.length === 30);
    expect(dialer.stats.controlPacketsOut).toBe(0);
  });

  it('a dial to a closed port counts send errors (ICMP) and stays usable', async () => {
    const raw = await rawSocket();
    const port = (raw.address() as { port: number }).port;
    await new Promise<void>((r) => raw.close(() => r()));
    open.pop();
    const dialer = await openUdpLink(`udp://127.0.0.1:${port}`, { role: 'dial' });
    open.push(dialer);
    for (let i = 0; i < 4; i++) {
      dialer.send(packet(frame(i)));
      await settle(20);
    }
    expect(dialer.stats.sendErrors).toBeGreaterThan(0);
    expect(dialer.state).toBe('up');
  });

  it('close is idempotent; use after close throws InvalidStateError; nothing is delivered after close', async () => {
    const { listener, dialer, atListener } = await pair();
    const states: string[] = [];
    dialer.onState((s) => states.push(s));
    dialer.send(packet(frame(0)));
    await until(() => atListener.length === 1);
    await Promise.all([listener.close(), listener.close()]);
    await dialer.close();
    await dialer.close();
    expect(dialer.state).toBe('closed');
    expect(states).toEqual(['closed']);
    expect(() => dialer.send(packet(frame(1)))).toThrow(InvalidStateError);
    expect(() => listener.repin()).toThrow(InvalidStateError);
  });

  it('refuses what cannot work: a port in use, dialing port 0, a bad MTU', async () => {
    const first = await openUdpLink('udp://127.0.0.1:0', { role: 'listen' });
    open.push(first);
    const taken = `udp://127.0.0.1:${first.localAddress.port}`;
    await expect(openUdpLink(taken, { role: 'listen' })).rejects.toMatchObject({ name: 'TransportError', code: 'refused' });
    await expect(openUdpLink('udp://127.0.0.1:0', { role: 'dial' })).rejects.toBeInstanceOf(UsageError);
    await expect(openUdpLink('udp://127.0.0.1:0', { role: 'listen', mtu: 1500 })).rejects.toBeInstanceOf(UsageError);
    await expect(openUdpLink('udp://127.0.0.1:0', { role: 'listen', keepaliveMs: -1 })).rejects.toBeInstanceOf(UsageError);
  });
});
