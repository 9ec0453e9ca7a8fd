import { describe, expect, it } from 'vitest';
import { CODEC2_ADDON, describeWith } from '../fixtures/components.ts';
import { EncodeError, InvalidStateError, TransportError } from '../../src/core/errors.ts';
import { meanPower } from '../../src/transport/hf/index.ts';
import { DatagramReassembler, fragmentDatagram, FreedvLink, FreedvModem, maxDatagramBytes, SimulatedHfAudio, type FreedvLinkOptions } from '../../src/transport/links/freedv/index.ts';
import { isOver, markOver } from '../../src/transport/links/freedv/fragments.ts';
import { UsageError } from '../../src/core/errors.ts';
import { mulberry32 } from '../../src/transport/prng.ts';

const bytes = (n: number, seed: number) => {
  const r = mulberry32(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
};
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('FreeDV datagram fragments', () => {
  it('round-trips datagrams of 0 … max bytes through 14-byte frames', () => {
    const r = new DatagramReassembler();
    for (const n of [0, 1, 11, 12, 13, 47, maxDatagramBytes(14)]) {
      const d = bytes(n, n);
      const frames = fragmentDatagram(d, 14);
      expect(frames.every((f) => f.length === 14)).toBe(true);
      const out = frames.map((f) => r.push(f));
      expect(out.slice(0, -1).every((o) => o === undefined)).toBe(true);
      expect(hex(out.at(-1)!)).toBe(hex(d));
    }
    expect(() => fragmentDatagram(new Uint8Array(maxDatagramBytes(14) + 1), 14)).toThrow(EncodeError);
  });

  it('a lost middle fragment drops its datagram only; fillers are skipped', () => {
    const r = new DatagramReassembler();
    const a = fragmentDatagram(bytes(30, 1), 14); // 3 frames
    const b = fragmentDatagram(bytes(20, 2), 14); // 2 frames
    const got = [a[0]!, a[2]!, new Uint8Array(14), b[0]!, b[1]!].map((f) => r.push(f)).filter((d) => d !== undefined);
    expect(got.map(hex)).toEqual([hex(bytes(20, 2))]);
    expect(r.dropped.incomplete).toBeGreaterThan(0);
    expect(r.fillers).toBe(1);
  });
});

describe('FreeDV "over" bit (the last frame of a turn)', () => {
  it('rides in the fragment header without changing the datagram; a filler may carry it', () => {
    const r = new DatagramReassembler();
    const d = bytes(30, 4);
    const frames = fragmentDatagram(d, 14);
    expect(frames.some(isOver)).toBe(false);
    const last = markOver(frames.at(-1)!);
    expect(isOver(last)).toBe(true);
    expect(isOver(frames.at(-1)!)).toBe(false); // markOver copies
    const out = [...frames.slice(0, -1), last].map((f) => r.push(f));
    expect(hex(out.at(-1)!)).toBe(hex(d));
    const filler = markOver(new Uint8Array(14));
    expect(isOver(filler)).toBe(true);
    expect(r.push(filler)).toBeUndefined();
    expect(r.fillers).toBe(1);
    expect(r.dropped.malformed).toBe(0);
    // The largest OFDM frame (DATAC1, 510 bytes) still fits the 11-bit length.
    const big = bytes(2 * 508, 5);
    expect(hex(new DatagramReassembler().push(markOver(fragmentDatagram(big, 510)[1]!)) ?? new Uint8Array(0))).toBe('');
    const r2 = new DatagramReassembler();
    const parts = fragmentDatagram(big, 510);
    expect(hex([r2.push(parts[0]!), r2.push(markOver(parts[1]!))].at(-1)!)).toBe(hex(big));
  });
});

async function pair(o: Partial<FreedvLinkOptions>, snrDb: number, seed = 3) {
  const probe = new FreedvModem({ mode: o.mode ?? 'datac0' });
  const signalPower = meanPower(await probe.modulate(new Uint8Array(0)));
  await probe.close();
  const audio = new SimulatedHfAudio({ channel: { kind: 'awgn', snrDb, seed, signalPower } });
  const a = new FreedvLink(audio.a, o);
  const b = new FreedvLink(audio.b, o);
  return { audio, a, b };
}

describeWith('FreeDV link over a simulated HF channel', [CODEC2_ADDON], () => {
  it('DATAC0 at +10 dB: datagrams both ways, batched into turns, half duplex without collisions', async () => {
    const { audio, a, b } = await pair({ mode: 'datac0' }, 10);
    try {
      const atB: string[] = [];
      const atA: string[] = [];
      const sent = [1, 12, 40, 5].map((n, i) => bytes(n, 10 + i));
      b.onDatagram((d) => {
        atB.push(hex(d));
        b.send(Uint8Array.of(0xac, d.length)); // an "ack" for each
      });
      a.onDatagram((d) => atA.push(hex(d)));
      for (const d of sent) a.send(d);
      await audio.run(40, () => atA.length === sent.length);
      expect(atB).toEqual(sent.map(hex));
      expect(atA).toEqual(sent.map((d) => hex(Uint8Array.of(0xac, d.length))));
      // 1 + 1 + 4 + 1 = 7 frames ≤ 8 per turn: A's four datagrams went out in one turn, B's acks in one or two.
      expect(a.stats.turns).toBe(1);
      expect(b.stats.turns).toBeLessThanOrEqual(2);
      expect(audio.collisions).toBe(0);
      expect(a.stats.datagramsOut).toBe(4);
      expect(b.stats.datagramsIn).toBe(4);
      expect(b.stats.lastSnrDb).toBeGreaterThan(3);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('FSK_LDPC at −6 dB: six datagrams in one turn and six acks back, without keying over the peer', async () => {
    // FSK_LDPC reports no sync during a burst: without the longer holdoff the receiver keyed up
    // between two of the sender's frames (29 colliding steps, 3 of 6 delivered, measured).
    const { audio, a, b } = await pair({ mode: 'fsk_ldpc' }, -6, 9);
    try {
      let acks = 0;
      b.onDatagram((d) => b.send(Uint8Array.of(1, d[0]!)));
      a.onDatagram(() => acks++);
      for (let i = 0; i < 6; i++) a.send(Uint8Array.of(i, 2, 3, 4, 5, 6, 7, 8));
      await audio.run(60, () => acks === 6);
      expect(acks).toBe(6);
      expect(b.stats.datagramsIn).toBe(6);
      expect(audio.collisions).toBe(0);
      expect(a.stats.turns).toBe(1);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('the peer answers a turn as soon as it hears its over frame, not after the holdoff; so does the sender', async () => {
    // Listen before talk alone waited holdoffMs (600 ms) after every turn, twice per exchange.
    const { audio, a, b } = await pair({ mode: 'datac0', holdoffMs: 600 }, 10);
    try {
      let answered = 0;
      b.onDatagram((d) => b.send(Uint8Array.of(0xac, d[0]!)));
      a.onDatagram(() => {
        answered++;
        if (answered === 1) a.send(bytes(5, 2)); // A has more: it goes at once after B's over
      });
      a.send(bytes(5, 1));
      const edges: Array<{ who: 'A' | 'B'; on: boolean; ms: number }> = [];
      let was = [false, false];
      for (let i = 0; i < 200 && answered < 2; i++) {
        await audio.step();
        const now = [audio.a.transmitting, audio.b.transmitting];
        for (const [k, who] of (['A', 'B'] as const).entries()) if (now[k] !== was[k]) edges.push({ who, on: now[k]!, ms: (audio.timeSamples * 1000) / 8000 });
        was = now;
      }
      expect(answered).toBe(2);
      expect(edges.map((e) => `${e.who}${e.on ? '+' : '-'}`)).toEqual(['A+', 'A-', 'B+', 'B-', 'A+', 'A-', 'B+', 'B-']);
      const gap = (i: number) => edges[i + 1]!.ms - edges[i]!.ms;
      // A's turn ended → B keyed; B's ended → A keyed: postamble + tail + 100 ms, well under 600 ms.
      expect(gap(1)).toBeLessThan(450);
      expect(gap(3)).toBeLessThan(450);
      expect(audio.collisions).toBe(0);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('fsk_ldpc_200: datagrams both ways at twice the 100-baud rate; bad transmit levels are usage errors', async () => {
    const { audio, a, b } = await pair({ mode: 'fsk_ldpc_200' }, 0, 5);
    try {
      let acks = 0;
      b.onDatagram((d) => b.send(Uint8Array.of(1, d[0]!)));
      a.onDatagram(() => acks++);
      for (let i = 0; i < 3; i++) a.send(Uint8Array.of(i, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
      await audio.run(30, () => acks === 3);
      expect(acks).toBe(3);
      expect(a.stats.turns).toBe(1);
      // 3 datagrams of 15 bytes = 6 frames of 0.72 s after one 0.5-s preamble (100 baud: 1.44 s and 1 s).
      expect(a.stats.airtimeMsOut).toBeCloseTo(100 + 500 + 6 * 720 + 20, -1);
      expect(audio.collisions).toBe(0);
    } finally {
      await a.close();
      await b.close();
    }
    expect(() => new FreedvLink(audio.a, { mode: 'datac0', levels: { datac0: 0 } })).toThrow(UsageError);
    expect(() => new FreedvLink(audio.a, { mode: 'datac0', levels: { fsk_ldpc: 5 } })).toThrow(UsageError);
  });

  it('the cost model is the airtime really keyed for one datagram', async () => {
    const { audio, a, b } = await pair({ mode: 'datac0', txDelayMs: 150, txTailMs: 50 }, 10);
    try {
      let got = 0;
      b.onDatagram(() => got++);
      a.send(bytes(20, 1)); // 2 frames
      await audio.run(10, () => got === 1);
      expect(got).toBe(1);
      expect(a.stats.airtimeMsOut).toBeCloseTo(a.cost.packetCost(20).airtimeMs, 6);
      expect(a.cost.packetCost(20).airtimeMs).toBeCloseTo(150 + 2 * (110 + 440 + 110) + 50, 0); // two 1-frame bursts
      expect(a.cost.halfDuplex).toBe(true);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('MTU, close() idempotent, send after close throws', async () => {
    const { a, b } = await pair({ mode: 'datac0', maxFramesPerTurn: 4 }, 10);
    expect(a.mtu).toBe(4 * 12);
    expect(() => a.send(new Uint8Array(a.mtu + 1))).toThrow(TransportError);
    await a.close();
    await a.close();
    await b.close();
    expect(a.state).toBe('closed');
    expect(() => a.send(new Uint8Array(1))).toThrow(InvalidStateError);
  });
});
