import { describe, expect, it } from 'vitest';
import { AEAD_OVERHEAD_BYTES, AeadPacketOpener, AeadPacketSealer } from '../../../src/transport/secure/aead-packet.ts';
import { HS_MSG1, HS_MSG2, HS_REFUSAL, LINK_PROLOGUE, LinkHandshakeInitiator, LinkHandshakeResponder, noisePskOf, trafficSecretsOf } from '../../../src/transport/secure/link-handshake.ts';
import { generateKeyPair, XXpsk3Handshake } from '../../../src/transport/secure/noise.ts';
import { cred, node, pskHex, runHandshake } from './harness.ts';

const A = node('ship-a', 1);
const B = node('ship-b', 2);
const C = node('shore', 3);
// Pair keys: A–C = 1, A–B = 2, B–C = 3. The fleet key (the old global security.key) = 9.
const FLEET_KEY = Buffer.from(pskHex(9), 'hex');
const text = (s: string) => new TextEncoder().encode(s);

function aToC(o: Parameters<typeof runHandshake>[2] = {}) {
  const i = new LinkHandshakeInitiator(A, cred('shore', 1), 0);
  const r = new LinkHandshakeResponder(C, [cred('ship-a', 1), cred('ship-b', 3)], 0);
  return runHandshake(i, r, o);
}

describe('stcts link handshake (XXpsk3 + confirmation) over a datagram link', () => {
  it('establishes per-direction keys and names both ends; measures the bytes', () => {
    const run = aToC();
    expect(run.initiator?.remoteName).toBe('shore');
    expect(run.responder?.remoteName).toBe('ship-a');
    expect(run.initiator?.remoteInstance).toBe('03'.repeat(8));
    expect(run.responder?.remoteInstance).toBe('01'.repeat(8));
    expect(Buffer.from(run.initiator!.sendSecret)).toEqual(Buffer.from(run.responder!.receiveSecret));
    expect(Buffer.from(run.initiator!.receiveSecret)).toEqual(Buffer.from(run.responder!.sendSecret));
    expect(Buffer.from(run.initiator!.sendSecret).equals(Buffer.from(run.initiator!.receiveSecret))).toBe(false);
    expect(Buffer.from(run.responder!.remoteStatic)).toEqual(Buffer.from(A.staticKey.publicKey));
    expect(run.datagrams).toBe(4);
    const total = run.bytesI2R + run.bytesR2I;
    // 49 + 97 + (1 + 48 + 2 + 6 + 5 + 8 + 16) + (1 + 1 + 5 + 8 + 16) = 49 + 97 + 86 + 31
    expect(total).toBe(263);
    expect((total * 8) / 300).toBeCloseTo(7.01, 2); // seconds of airtime at 300 bit/s
    // The names never appear in the clear.
    for (const { bytes } of run.transcript) {
      for (const name of ['ship-a', 'shore']) expect(Buffer.from(bytes).includes(Buffer.from(name))).toBe(false);
    }
  });

  it('completes over a lossy link by retransmitting lost messages (seeded 40% loss each way)', () => {
    let completed = 0;
    let retransmitted = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const run = aToC({ loss: 0.4, seed });
      if (run.initiator && run.responder) completed++;
      retransmitted += run.datagrams - 4;
    }
    expect(completed).toBeGreaterThanOrEqual(19);
    expect(retransmitted).toBeGreaterThan(20);
  });

  it('gives up at the deadline when the link is dead, with a typed timeout', () => {
    const run = aToC({ loss: 1 });
    expect(run.initiator).toBeUndefined();
    expect(run.initiatorError).toMatchObject({ code: 'timeout' });
    expect(run.endMs).toBe(60_000);
  });

  it('a wrong PSK is refused (auth_failed at the responder; the initiator never gets keys and is told by message R)', () => {
    const i = new LinkHandshakeInitiator(A, cred('shore', 7), 0);
    const r = new LinkHandshakeResponder(C, [cred('ship-a', 1)], 0);
    const run = runHandshake(i, r);
    expect(run.responderError).toMatchObject({ code: 'auth_failed' });
    expect(run.responder).toBeUndefined();
    expect(run.initiator).toBeUndefined();
    // The refusal reached the initiator at once (not its 60 s deadline): 1, 2, 3, R.
    expect(run.initiatorError).toMatchObject({ code: 'auth_failed', details: { refused: true } });
    expect(run.datagrams).toBe(4);
    expect(run.transcript.at(-1)!.bytes[0]).toBe(HS_REFUSAL);
    expect(run.transcript.at(-1)!.bytes.length).toBe(17);
  });

  it('message R is authenticated: a forged one, or the refusal of another message 3, leaves the initiator waiting', () => {
    for (const maxBadMessages of [1, 3]) {
      const i = new LinkHandshakeInitiator(A, cred('shore', 1), 0);
      const r = new LinkHandshakeResponder(C, [cred('ship-a', 1)], 0, { maxBadMessages });
      const m2 = r.receive(i.start(0).send[0]!, 1).send[0]!;
      const m3 = i.receive(m2, 2).send[0]!;
      // A blind forger: any 16 bytes after 0x55.
      const forged = new Uint8Array(17).fill(0xa5);
      forged[0] = HS_REFUSAL;
      expect(i.receive(forged, 3)).toEqual({ send: [] });
      // A third party injects a garbled message 3: the responder refuses *that* message.
      const bad = m3.slice();
      bad[bad.length - 1]! ^= 1;
      const refusal = r.receive(bad, 4);
      expect(refusal.send).toHaveLength(1);
      expect(refusal.send[0]![0]).toBe(HS_REFUSAL);
      // ...which the genuine initiator does not take as its own.
      expect(i.receive(refusal.send[0]!, 5)).toEqual({ send: [] });
      if (maxBadMessages === 1) continue; // (a WebSocket: nobody can inject, the responder stops at the first)
      const good = r.receive(m3, 6);
      expect(good.established?.remoteName).toBe('ship-a');
      expect(i.receive(good.send[0]!, 7).established?.remoteName).toBe('shore');
    }
  });

  it('message R from another handshake (a replayed refusal) does not stop a new one', () => {
    const wrong = new LinkHandshakeInitiator(A, cred('shore', 7), 0);
    const r1 = new LinkHandshakeResponder(C, [cred('ship-a', 1)], 0);
    const old = r1.receive(wrong.receive(r1.receive(wrong.start(0).send[0]!, 1).send[0]!, 2).send[0]!, 3);
    expect(old.failed).toMatchObject({ code: 'auth_failed' });
    const i = new LinkHandshakeInitiator(A, cred('shore', 1), 10);
    const r = new LinkHandshakeResponder(C, [cred('ship-a', 1)], 10);
    i.receive(r.receive(i.start(10).send[0]!, 11).send[0]!, 12);
    expect(i.receive(old.send[0]!, 13)).toEqual({ send: [] });
  });

  it('identity swap: B, holding the B–C key, cannot pose as A to C', () => {
    const i = new LinkHandshakeInitiator({ ...B, name: 'ship-a' }, cred('shore', 3), 0);
    const r = new LinkHandshakeResponder(C, [cred('ship-a', 1), cred('ship-b', 3)], 0);
    const run = runHandshake(i, r);
    expect(run.responderError).toMatchObject({ code: 'auth_failed', details: { peer: 'ship-b', claimed: 'ship-a' } });
    expect(run.responder).toBeUndefined();
  });

  it('a handshake meant for another node is refused, and the initiator checks who answered', () => {
    const r = new LinkHandshakeResponder(C, [cred('ship-a', 1)], 0);
    const run = runHandshake(new LinkHandshakeInitiator(A, cred('other-node', 1), 0), r);
    expect(run.responderError).toMatchObject({ code: 'auth_failed' });
    // C (with A's pair key) answering a dial meant for 'relay': the initiator refuses the name.
    const r2 = new LinkHandshakeResponder({ ...C, name: 'relay' }, [cred('ship-a', 1)], 0);
    const run2 = runHandshake(new LinkHandshakeInitiator(A, cred('shore', 1), 0), r2);
    expect(run2.responderError).toMatchObject({ code: 'auth_failed' }); // 'to' = shore ≠ relay
  });

  it('a fleet-key holder (and holder of its own pair keys) cannot read or forge the A–C traffic', () => {
    const run = aToC();
    const sealer = new AeadPacketSealer(run.initiator!.sendSecret);
    const recorded = sealer.seal(text('position 41N 70W'));
    const cOpener = new AeadPacketOpener(run.responder!.receiveSecret);
    // Everything B knows: the fleet key, its pair keys, its static key; as raw secrets, as Noise
    // PSKs (the old scheme that derived link keys from the fleet key is gone).
    const bKnows = [FLEET_KEY, Buffer.from(pskHex(2), 'hex'), Buffer.from(pskHex(3), 'hex'), Buffer.from(B.staticKey.privateKey)];
    const candidates = bKnows.flatMap((k) => [k.subarray(0, 32), Buffer.from(noisePskOf(k)), Buffer.from(noisePskOf(k.toString('hex')))]);
    for (const k of candidates) {
      expect('packet' in new AeadPacketOpener(k).open(recorded)).toBe(false);
      expect('packet' in cOpener.open(new AeadPacketSealer(k).seal(text('forged')))).toBe(false);
    }
    expect(cOpener.stats.accepted).toBe(0);
    expect('packet' in cOpener.open(recorded)).toBe(true);
  });

  it('forward secrecy: with the PSK and both static keys but not the ephemerals, a recording stays sealed', () => {
    const ephemeral = generateKeyPair();
    const i = new LinkHandshakeInitiator(A, cred('shore', 1), 0, { ephemeralKey: ephemeral });
    const r = new LinkHandshakeResponder(C, [cred('ship-a', 1)], 0);
    const run = runHandshake(i, r);
    const packet = new AeadPacketSealer(run.initiator!.sendSecret).seal(text('secret'));
    const [m1, m2] = run.transcript.map((t) => t.bytes);
    expect(m1![0]).toBe(HS_MSG1);
    expect(m2![0]).toBe(HS_MSG2);
    const psk = cred('shore', 1).psk;
    // The attacker replays A's side with A's static key and the PSK but its own ephemeral.
    const replica = new XXpsk3Handshake({ initiator: true, prologue: LINK_PROLOGUE, s: A.staticKey, psk });
    replica.writeMessage();
    expect(() => replica.readMessage(m2!.subarray(1))).toThrow(expect.objectContaining({ code: 'auth_failed' }));
    // Or C's side with C's static key: it needs C's ephemeral for ee/se; with its own it derives other keys.
    const asC = new XXpsk3Handshake({ initiator: false, prologue: LINK_PROLOGUE, s: C.staticKey, psk });
    asC.readMessage(m1!.subarray(1));
    asC.writeMessage();
    const m3 = run.transcript.find((t) => t.bytes[0] === 0x53)!.bytes;
    expect(() => asC.readMessage(m3.subarray(1))).toThrow(expect.objectContaining({ code: 'auth_failed' }));
    // Control: WITH A's ephemeral private key the same replay recovers the keys and reads the packet,
    // so the ephemeral key is exactly what the attacker lacks.
    const withE = new XXpsk3Handshake({ initiator: true, prologue: LINK_PROLOGUE, s: A.staticKey, psk, e: ephemeral });
    expect(Buffer.from(withE.writeMessage())).toEqual(Buffer.from(m1!.subarray(1)));
    withE.readMessage(m2!.subarray(1));
    const p3 = new Uint8Array([6, ...text('ship-a'), 5, ...text('shore'), ...A.instanceId]);
    withE.writeMessage(p3);
    const opened = new AeadPacketOpener(trafficSecretsOf(withE).initiatorToResponder).open(packet);
    expect('packet' in opened && new TextDecoder().decode(opened.packet)).toBe('secret');
  });

  it('reflection and replay fail: a packet sent back to its sender, a replayed handshake, old packets in a new connection', () => {
    const run = aToC();
    const aSeal = new AeadPacketSealer(run.initiator!.sendSecret);
    const aOpen = new AeadPacketOpener(run.initiator!.receiveSecret);
    const pkt = aSeal.seal(text('hello'));
    expect(pkt.length).toBe(5 + AEAD_OVERHEAD_BYTES);
    expect('packet' in aOpen.open(pkt)).toBe(false); // reflected to A
    // Replaying the recorded handshake to C later: message 1 gets a fresh message 2, message 3 fails.
    const later = new LinkHandshakeResponder(C, [cred('ship-a', 1)], 100_000);
    const m1 = run.transcript[0]!.bytes;
    const m3 = run.transcript.find((t) => t.bytes[0] === 0x53)!.bytes;
    const reply = later.receive(m1, 100_000);
    expect(reply.send[0]![0]).toBe(HS_MSG2);
    expect(Buffer.from(reply.send[0]!).equals(Buffer.from(run.transcript[1]!.bytes))).toBe(false);
    const step = later.receive(m3, 100_001);
    expect(step.established).toBeUndefined();
    expect(step.failed).toMatchObject({ code: 'auth_failed' });
    // A reflected message 1 to the initiator, or message 2 to the responder, is ignored.
    const i = new LinkHandshakeInitiator(A, cred('shore', 1), 0);
    const first = i.start(0).send[0]!;
    expect(i.receive(first, 1)).toEqual({ send: [] });
    // Packets of the first connection do not open in a second one between the same nodes.
    const second = aToC();
    expect('packet' in new AeadPacketOpener(second.responder!.receiveSecret).open(pkt)).toBe(false);
  });

  it('a forged message 3 injected before the genuine one does not kill the handshake on a datagram link', () => {
    for (const maxBadMessages of [1, 3]) {
      const i = new LinkHandshakeInitiator(A, cred('shore', 1), 0);
      const r = new LinkHandshakeResponder(C, [cred('ship-a', 1)], 0, { maxBadMessages });
      const m2 = r.receive(i.start(0).send[0]!, 1).send[0]!;
      const m3 = i.receive(m2, 2).send[0]!;
      const forged = m3.slice();
      forged[forged.length - 1]! ^= 1;
      const bad = r.receive(forged, 3);
      if (maxBadMessages === 1) {
        expect(bad.failed).toMatchObject({ code: 'auth_failed' });
        continue;
      }
      expect(bad.failed).toBeUndefined();
      expect(bad.send.map((d) => d[0])).toEqual([HS_REFUSAL]);
      const good = r.receive(m3, 4);
      expect(good.established?.remoteName).toBe('ship-a');
      expect(i.receive(good.send[0]!, 5).established?.remoteName).toBe('shore');
    }
  });

  it('a wrong key from a pinned static key is attributed to that peer; unpinned callers stay anonymous', () => {
    const pinnedA = { ...cred('ship-a', 1), staticKey: A.staticKey.publicKey };
    const run = runHandshake(new LinkHandshakeInitiator(A, cred('shore', 7), 0), new LinkHandshakeResponder(C, [pinnedA, cred('ship-b', 3)], 0));
    expect(run.responderError).toMatchObject({ code: 'auth_failed', details: { peer: 'ship-a' } });
    const anon = runHandshake(new LinkHandshakeInitiator(A, cred('shore', 7), 0), new LinkHandshakeResponder(C, [cred('ship-a', 1)], 0));
    expect((anon.responderError as { details?: unknown }).details).toBeUndefined();
    // Pinning on the dialer: a responder with another static key gets no message 3 (nothing to guess the PSK from).
    const i = new LinkHandshakeInitiator(A, { ...cred('shore', 1), staticKey: B.staticKey.publicKey }, 0);
    const r = new LinkHandshakeResponder(C, [cred('ship-a', 1)], 0);
    const m2 = r.receive(i.start(0).send[0]!, 1).send[0]!;
    expect(i.receive(m2, 2)).toMatchObject({ send: [], failed: { code: 'auth_failed' } });
  });
});
