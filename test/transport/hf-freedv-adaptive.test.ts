import { describe, expect, it } from 'vitest';
import { CODEC2_ADDON, describeWith } from '../fixtures/components.ts';
import { meanPower } from '../../src/transport/hf/index.ts';
import { channelSnrDb, FreedvLink, FreedvModem, ModeChooser, readModeRequest, SimulatedHfAudio, writeModeRequest } from '../../src/transport/links/freedv/index.ts';

describe('adaptive FreeDV mode choice (header byte, chooser)', () => {
  it('the header byte carries the wish; foreign bytes are refused', () => {
    expect(readModeRequest(writeModeRequest(2, Uint8Array.of(9)))).toBe(2);
    expect(readModeRequest(writeModeRequest(undefined, Uint8Array.of(9)))).toBe(-1);
    expect(readModeRequest(Uint8Array.of(0x81, 1))).toBeUndefined();
    expect(readModeRequest(new Uint8Array(0))).toBeUndefined();
  });

  it('steps down as the SNR falls and up again only 1 dB above the threshold', () => {
    // The auto set with FSK's level at 0.66: every mode reaches the channel with the same mean power.
    const c = new ModeChooser(['datac0', 'fsk_ldpc_200', 'fsk_ldpc'], { fsk_ldpc_200: 0.66, fsk_ldpc: 0.66 });
    const fsk200 = (snrDb: number) => 8.4 + 0.89 * (snrDb + 4); // the estimate FSK at 200 baud reads
    expect(channelSnrDb('fsk_ldpc_200', fsk200(-4.5))).toBeCloseTo(-4.5, 6);
    expect(c.request()).toBeUndefined();
    for (let i = 0; i < 3; i++) c.heard(0, 3);
    expect(c.request()).toBe(0);
    for (let i = 0; i < 3; i++) c.heard(0, -3.4); // under DATAC0's −3, over 200-baud FSK's −5
    expect(c.request()).toBe(1);
    c.heard(2, 9.3); // one 100-baud FSK estimate of +9.3 ≈ −5.8 dB after better frames: the median holds
    expect(channelSnrDb('fsk_ldpc', 9.3)).toBeCloseTo(-5.8, 1);
    expect(c.request()).toBe(1);
    c.heard(2, 9.3); // a second one moves the median: down
    expect(c.request()).toBe(2);
    for (let i = 0; i < 3; i++) c.heard(1, fsk200(-4.5)); // above −5 but not by 1 dB
    expect(c.request()).toBe(2);
    for (let i = 0; i < 3; i++) c.heard(1, fsk200(-3.9));
    expect(c.request()).toBe(1);
  });

  it('frames lost to their CRC or datagrams missing a fragment count against the mode, whatever the SNR read', () => {
    // CCIR poor: the frames that got through read a fine SNR while most datagrams lost a fragment.
    const c = new ModeChooser(['datac0', 'fsk_ldpc_200', 'fsk_ldpc'], { fsk_ldpc_200: 0.66, fsk_ldpc: 0.66 });
    for (let i = 0; i < 3; i++) c.heard(1, 8.4 + 0.89 * 1.5); // 200-baud FSK at −2.5 dB
    expect(c.request()).toBe(1);
    c.lost(1);
    expect(c.request()).toBe(1); // one loss in three: hold
    c.lost(1);
    expect(c.request()).toBe(2); // two: down to 100 baud
    for (let i = 0; i < 3; i++) c.heard(2, 10.9 + 0.88 * 1); // −3 dB
    expect(c.request()).toBe(1); // and back up once frames come cleanly again
  });

  it('carries an SNR heard in one mode over to the others by their mean powers', () => {
    // Levels 1: FSK bursts carry 3.6 dB more than DATAC0 ones. FSK heard at −2.4 dB means DATAC0
    // would get −6 dB on the same channel: stay in FSK (before: DATAC0 was asked for).
    const c = new ModeChooser(['datac0', 'fsk_ldpc']);
    for (let i = 0; i < 3; i++) c.heard(1, 10.9 + 0.88 * 1.6);
    expect(c.request()).toBe(1);
    const d = new ModeChooser(['datac0', 'fsk_ldpc']);
    for (let i = 0; i < 3; i++) d.heard(1, 10.9 + 0.88 * 6); // FSK at +2: DATAC0 at −1.6
    expect(d.request()).toBe(0);
  });
});

describeWith('adaptive FreeDV link over a channel whose SNR drops mid-call', [CODEC2_ADDON], () => {
  it('DATAC0 at +6 dB, then −6 dB: both ends move to FSK_LDPC and datagrams keep arriving', async () => {
    const probe = new FreedvModem({ mode: 'datac0' });
    const signalPower = meanPower(await probe.modulate(new Uint8Array(0)));
    await probe.close();
    const audio = new SimulatedHfAudio({ channel: { kind: 'awgn', snrDb: 6, seed: 11, signalPower } });
    const modes = ['datac0', 'fsk_ldpc'] as const;
    const a = new FreedvLink(audio.a, { mode: 'datac0', modes, holdoffJitterMs: 200, seed: 1 });
    const b = new FreedvLink(audio.b, { mode: 'datac0', modes, holdoffJitterMs: 200, seed: 2 });
    try {
      const got = new Set<number>();
      let acked = -1;
      b.onDatagram((d) => {
        got.add(d[0]!);
        b.send(Uint8Array.of(0xac, d[0]!));
      });
      a.onDatagram((d) => (acked = Math.max(acked, d[1]!)));
      // A stop-and-wait sender on top: the next datagram after the ack, a resend after 25 s.
      let next = 0;
      let sentAt = -1e9;
      const deliveredAfterDrop: number[] = [];
      const before = { modes: [] as string[] };
      for (let step = 0; step < 10 * 240 && deliveredAfterDrop.length < 3; step++) {
        const t = audio.timeSamples / 8;
        if (t >= 60_000 && before.modes.length === 0) {
          before.modes = [...a.stats.modesUsed];
          audio.setSnrDb(-6);
        }
        if (acked >= next) {
          if (t >= 60_000) deliveredAfterDrop.push(next);
          next++;
        }
        if (next < 40 && (acked < next && a.queued === 0 && !audio.a.transmitting && (sentAt < 0 || t - sentAt > 25_000 || acked === next - 1) && t - sentAt > 1000)) {
          if (sentAt < 0 || t - sentAt > 25_000 || !got.has(next)) {
            a.send(Uint8Array.of(next, 1, 2, 3, 4, 5));
            sentAt = t;
          }
        }
        await audio.step();
      }
      expect(before.modes).toEqual(['datac0']); // at +6 dB nothing needed more
      expect(a.stats.modesUsed).toEqual(['datac0', 'fsk_ldpc']);
      expect(b.stats.modesUsed).toContain('fsk_ldpc');
      expect(a.stats.txMode).toBe('fsk_ldpc');
      expect(deliveredAfterDrop.length).toBeGreaterThanOrEqual(3);
      // Collisions happen in the transition only: B's DATAC0 acks at −6 dB are inaudible to A (no
      // sync), so A keys over them until both are in FSK_LDPC (47 steps of 0.1 s here, measured).
      expect(audio.collisions).toBeLessThan(120);
    } finally {
      await a.close();
      await b.close();
      audio.close();
    }
  }, 300_000);
});
