import { afterEach, describe, expect, it } from 'vitest';
import type { Frame } from '../../../src/codec/frame/index.ts';
import { TransportError } from '../../../src/core/errors.ts';
import { LinkSession } from '../../../src/transport/link-session.ts';
import { arqTuning } from '../../../src/transport/links/arq-tuning.ts';
import { dialSession, listenSessions, PLAIN_LINK_WARNING, type SessionCarrier } from '../../../src/transport/links/connect.ts';
import type { PacketCostModel } from '../../../src/transport/links/types.ts';
import { LinkPacer } from '../../../src/transport/reliability/pacer.ts';
import { SecureDatagramLink } from '../../../src/transport/secure/index.ts';
import { until } from '../../fixtures/wait.ts';
import { kissChannel } from '../../fixtures/kiss-channel.ts';

/** `stcts send/receive --psk-file` over udp:// (issue #20 item 6): the Noise handshake, then sealed packets. */
const SESSION = 0x2345;
const KEY = '5c0e1f2a9b3d4c6e7f8091a2b3c4d5e6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c';
const OTHER = '0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0';
const phrase = (seq: number): Frame => ({ version: 1, sessionId: SESSION, seq, time: 10, payload: { type: 'text', coding: 'lm', coded: new Uint8Array(8 + (seq % 5)).fill(seq) } });
const tuned = (cost: PacketCostModel): LinkSession => {
  const t = arqTuning(cost);
  return new LinkSession(SESSION, { sender: { ...t.sender, pacer: new LinkPacer(20_000, cost) }, receiver: t.receiver, cost });
};
const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
});

async function listen(psk: string | undefined, warnings: string[] = [], errors: TransportError[] = []): Promise<{ carrier: SessionCarrier; url: string; rx: () => LinkSession | undefined }> {
  let rx: LinkSession | undefined;
  let where = '';
  const carrier = await listenSessions('udp://127.0.0.1:0', (_id, cost) => (rx = tuned(cost)), {
    budgetBitsPerSecond: 20_000,
    ...(psk ? { security: { psk } } : {}),
    onWarning: (m) => warnings.push(m),
    onError: (e) => errors.push(e),
    onListening: (w) => (where = w),
  });
  open.push(carrier);
  const port = /udp:\/\/127\.0\.0\.1:(\d+)/.exec(where)?.[1];
  expect(port).toBeDefined();
  return { carrier, url: `udp://127.0.0.1:${port}`, rx: () => rx };
}

async function read(session: LinkSession, n: number): Promise<number[]> {
  const got: number[] = [];
  for await (const f of session.frames()) {
    got.push(f.seq);
    if (got.length === n) break;
  }
  return got;
}

describe('secured UDP links (stcts send/receive --psk-file over udp://)', () => {
  it('handshakes, then carries every frame once and in order; both ends are SecureDatagramLinks, no warning', async () => {
    const warnings: string[] = [];
    const l = await listen(KEY, warnings);
    const tx = await dialSession(l.url, tuned, { budgetBitsPerSecond: 20_000, security: { psk: KEY }, onWarning: (m) => warnings.push(m) });
    open.push(tx);
    for (let seq = 0; seq < 20; seq++) tx.session.send(phrase(seq));
    await until(() => l.rx() !== undefined, 5000);
    expect(await read(l.rx()!, 20)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(tx.link).toBeInstanceOf(SecureDatagramLink);
    expect(l.carrier.link).toBeInstanceOf(SecureDatagramLink);
    const sec = l.carrier.link as SecureDatagramLink;
    expect(sec.remote?.remoteName).toBe('stcts');
    expect(sec.openerStats!.accepted).toBeGreaterThan(0);
    // 10 bytes of packet protection on the secured MTU.
    expect(sec.mtu).toBe(1200 - 10);
    expect(warnings).toEqual([]);
  });

  it('a wrong key: the receiver refuses the handshake (auth_failed at message 3), the sender is told (message R) and stops, nothing is delivered', async () => {
    const errors: TransportError[] = [];
    const l = await listen(KEY, [], errors);
    const fatal: TransportError[] = [];
    const tx = await dialSession(l.url, tuned, { budgetBitsPerSecond: 20_000, security: { psk: OTHER }, onFatal: (e) => fatal.push(e) });
    open.push(tx);
    tx.session.send(phrase(0));
    await until(() => errors.length > 0, 5000);
    expect(errors[0]).toBeInstanceOf(TransportError);
    expect(errors[0]!.code).toBe('auth_failed');
    // The receiver's refusal (message R) is authenticated by this handshake's keys: the sender stops, fatally.
    await until(() => fatal.length > 0, 5000);
    expect(fatal[0]).toMatchObject({ code: 'auth_failed', details: { refused: true } });
    expect(tx.link!.state).toBe('down');
    expect(l.rx()).toBeUndefined();
    expect((l.carrier.link as SecureDatagramLink).remote).toBeUndefined();
  });

  it('a plain sender gets nothing through a secured receiver; plain links warn on both ends', async () => {
    const l = await listen(KEY);
    const warnings: string[] = [];
    const tx = await dialSession(l.url, tuned, { budgetBitsPerSecond: 20_000, onWarning: (m) => warnings.push(m) });
    open.push(tx);
    for (let seq = 0; seq < 5; seq++) tx.session.send(phrase(seq));
    await new Promise((r) => setTimeout(r, 400));
    expect(l.rx()).toBeUndefined();
    expect(l.carrier.link!.stats.dropped.foreign_source).toBeGreaterThan(0);
    expect(warnings).toEqual([PLAIN_LINK_WARNING]);
    const plainWarnings: string[] = [];
    await listen(undefined, plainWarnings);
    expect(plainWarnings).toEqual([PLAIN_LINK_WARNING]);
  });
});

describe('secured KISS links: encrypted without a callsign, authenticate-only in amateur mode (#20 item 6)', () => {
  const words = 'POSITION FORTY ONE NORTH';
  const utf8Phrase = (seq: number): Frame => ({ version: 1, sessionId: SESSION, seq, time: 10, payload: { type: 'text', coding: 'utf8', coded: new TextEncoder().encode(`${words} ${seq}`) } });

  async function call(amateur: boolean): Promise<{ got: number[]; clear: boolean; remote: string | undefined }> {
    const channel = await kissChannel();
    open.push(channel);
    let rx: LinkSession | undefined;
    const calls = (me: string, peer: string) => (amateur ? { kiss: { callsign: me, peerCallsign: peer } } : {});
    const listener = await listenSessions(channel.url, (_id, cost) => (rx = tuned(cost)), { budgetBitsPerSecond: 20_000, security: { psk: KEY }, ...calls('N0CALL-2', 'N0CALL-1') });
    open.push(listener);
    const tx = await dialSession(channel.url, tuned, { budgetBitsPerSecond: 20_000, security: { psk: KEY }, ...calls('N0CALL-1', 'N0CALL-2') });
    open.push(tx);
    for (let seq = 0; seq < 4; seq++) tx.session.send(utf8Phrase(seq));
    await until(() => rx !== undefined, 10_000);
    const got = await read(rx!, 4);
    return { got, clear: channel.heard().includes(Buffer.from(words)), remote: (listener.link as SecureDatagramLink).remote?.remoteName };
  }

  it('without a callsign the words never cross the channel in the clear', async () => {
    const r = await call(false);
    expect(r.got).toEqual([0, 1, 2, 3]);
    expect(r.remote).toBe('stcts');
    expect(r.clear).toBe(false);
  });

  it('with callsigns the words cross in the clear, yet only the key holder is accepted (authenticated handshake and tags)', async () => {
    const r = await call(true);
    expect(r.got).toEqual([0, 1, 2, 3]);
    expect(r.remote).toBe('stcts');
    expect(r.clear).toBe(true);
  });
});
