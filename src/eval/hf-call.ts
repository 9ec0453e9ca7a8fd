import type { Frame } from '../codec/frame/index.ts';
import type { HfChannelKind } from '../transport/hf/channel.ts';
import { meanPower } from '../transport/hf/channel.ts';
import { ackPacket, decodeForSession } from '../transport/link-packet.ts';
import { arqTuning } from '../transport/links/arq-tuning.ts';
import { FreedvLink, type FreedvLinkOptions } from '../transport/links/freedv/link.ts';
import { FreedvModem } from '../transport/links/freedv/modem.ts';
import type { FreedvDataModeName } from '../transport/links/freedv/modes.ts';
import { SimulatedHfAudio } from '../transport/links/freedv/audio-port.ts';
import { LinkPacer, ReliableReceiver, ReliableSender, streamOf, type ReliableSenderOptions } from '../transport/reliability/index.ts';
import type { SimInput } from '../transport/sim.ts';

/**
 * One call over a simulated HF path (issue #15, `stcts hf-sim`): the sender's frames go through the
 * ARQ sender → FreeDV link A → real modem → HF channel → real demodulator → link B → ARQ receiver,
 * and B's acks come back through the same channel the other way (half duplex: listen before talk).
 * Everything runs in stream time (samples through the channel, 0.1 s steps), so a call runs as fast
 * as the two demodulators do and is deterministic for a seed.
 */

export interface HfCallOptions {
  /** The mode both ends start in (and the channel's SNR reference). */
  mode: FreedvDataModeName;
  /** Adaptive: the candidate modes (FreedvLinkOptions.modes). */
  modes?: readonly FreedvDataModeName[];
  channel: HfChannelKind;
  snrDb: number;
  seed: number;
  /** Link options of both ends (mode excluded). */
  link: Partial<Omit<FreedvLinkOptions, 'mode' | 'ptt'>>;
  /** Stream time after the last frame was available before the call is cut, ms. Default 60 000. */
  afterMs: number;
  sender: Partial<ReliableSenderOptions>;
  /** Events of the call as text lines with stream time (debugging). */
  trace?: (line: string) => void;
  /** Called every simulated second with the stream time, ms. */
  onProgress?: (timeMs: number) => void;
}

export const DEFAULT_HF_CALL_OPTIONS: Readonly<Omit<HfCallOptions, 'mode' | 'channel' | 'snrDb'>> = Object.freeze({ seed: 1, link: Object.freeze({}), afterMs: 60_000, sender: Object.freeze({}) });

export interface HfCallResult {
  /** Frames the receiver's ARQ delivered, with stream time of delivery, ms. */
  delivered: Array<{ frame: Frame; atMs: number }>;
  textDeliveredRatio: number;
  spanMs: number;
  /** Both ends' keyed airtime, s, and the channel's collisions (0.1 s steps both keyed). */
  airtimeSeconds: number;
  collisions: number;
  turns: { sender: number; receiver: number };
  retransmissions: number;
  framesIn: number;
  crcErrors: number;
  /** Median of the receiving demodulator's SNR estimates of good frames (last one per turn), dB. */
  snrEstimateDb: number;
  /** Modes either end transmitted in, and the sender's mode switches. */
  modesUsed: FreedvDataModeName[];
  modeSwitches: number;
}

/** Mean power of a burst of `mode` (what the channel's SNR is set against). */
async function burstPower(mode: FreedvDataModeName): Promise<number> {
  const probe = new FreedvModem({ mode });
  try {
    return meanPower(await probe.modulate(new Uint8Array(0)));
  } finally {
    await probe.close();
  }
}

export async function runHfCall(inputs: readonly SimInput[], options: Partial<HfCallOptions> & Pick<HfCallOptions, 'mode' | 'channel' | 'snrDb'>): Promise<HfCallResult> {
  const o: HfCallOptions = { ...DEFAULT_HF_CALL_OPTIONS, ...options };
  const reference = await burstPower(o.mode);
  const audio = new SimulatedHfAudio({ channel: { kind: o.channel, snrDb: o.snrDb, seed: o.seed, signalPower: reference } });
  // Turn taking (FreedvLink.holdoffAfterOwnMs): whoever transmitted last waits longer, so the
  // peer's answer goes first; seeded jitter on top. Adaptive: every mode reaches the channel with
  // the first mode's mean power, so the SNR is the same whichever is sent (FSK bursts would
  // otherwise come 3.6 dB hotter than OFDM ones: an FSK "−7 dB" row was really −3.4 dB).
  const levels: Partial<Record<FreedvDataModeName, number>> = {};
  for (const m of o.modes ?? []) if (m !== o.mode) levels[m] = Math.sqrt(reference / (await burstPower(m)));
  const adaptive = o.modes && o.modes.length > 1 ? { modes: o.modes, levels } : {};
  const a = new FreedvLink(audio.a, { holdoffJitterMs: 300, seed: o.seed, ...o.link, mode: o.mode, ...adaptive });
  const b = new FreedvLink(audio.b, { holdoffJitterMs: 300, seed: o.seed + 1, ...o.link, mode: o.mode, ...adaptive });
  const holdoffMs = a.options.holdoffMs;
  try {
    const tuning = arqTuning(a.cost);
    const sessionId = inputs[0]?.frame.sessionId ?? 1;
    // A turn takes seconds: the first RTO must cover a full turn each way before RTT samples exist.
    const turnMs = a.cost.packetCost(a.mtu).airtimeMs;
    const tx = new ReliableSender(sessionId, {
      // The link packs what fits its next turn (the feed below): that is the pacing; a rate pacer
      // releasing one packet per frame time kept a 4FSK turn to one packet (measured).
      pacer: new LinkPacer(Number.POSITIVE_INFINITY),
      ...tuning.sender,
      maxPacketBytes: a.mtu,
      initialRtoMs: Math.round(3 * turnMs + 3 * holdoffMs),
      ...o.sender,
    });
    // The link listens before it talks (holdoff after the peer's burst): the receiver's own quiet
    // time on top of it (arqTuning: one key-up) would only delay every ack by another burst.
    const rx = new ReliableReceiver({ ...tuning.receiver, quietMs: 0 });
    const delivered: HfCallResult['delivered'] = [];
    const snrs: number[] = [];
    let now = 0;
    b.onDatagram((d) => {
      const { frames } = decodeForSession(d, sessionId, (seq) => rx.timeOf(seq));
      for (const f of rx.accept(frames, now)) delivered.push({ frame: f, atMs: now });
      o.trace?.(`${now} B got ${d.length} B (${frames.length} frames)`);
      snrs.push(b.stats.lastSnrDb);
    });
    // Turn-based loss detection: B answers after hearing A's whole turn (its over frame), so what
    // that answer does not acknowledge of A's turn was lost: resend at once instead of after an
    // RTO (~6 s on DATAC0 at −2 dB). And a turn B heard end without any datagram in it gets an
    // answer too, or A would learn nothing before its RTO.
    let aTurnAtMs = Number.NEGATIVE_INFINITY;
    let aTurnEndMs = Number.NEGATIVE_INFINITY;
    let bBuiltAtMs = Number.NEGATIVE_INFINITY;
    let emptyTurns = 0;
    a.onDatagram((d) => {
      const { ack } = decodeForSession(d, sessionId, () => undefined);
      if (ack) {
        tx.onAck(ack, now);
        if (bBuiltAtMs > aTurnEndMs) tx.declareLost(aTurnAtMs);
      }
      o.trace?.(`${now} A got ack`);
    });
    const pending = [...inputs].sort((x, y) => x.atMs - y.atMs);
    const lastAt = pending.at(-1)?.atMs ?? 0;
    let nextProgress = 1000;
    for (;;) {
      now = (audio.timeSamples * 1000) / 8000;
      while (pending.length && pending[0]!.atMs <= now) tx.submit(pending.shift()!.frame, now);
      // Hand the link only what fits its next turn, so the ARQ's timers start near the air time.
      if (a.clearToSend) {
        let bytes = a.queuedBytes;
        while (bytes < a.turnBytes) {
          const p = tx.nextPacket(now);
          if (!p) break;
          a.send(p);
          aTurnAtMs = now;
          o.trace?.(`${now} A queues ${p.length} B`);
          bytes += p.length;
        }
      }
      if (b.stats.emptyTurnsHeard > emptyTurns) {
        emptyTurns = b.stats.emptyTurnsHeard;
        rx.requestAck(now);
      }
      if (b.queued === 0 && b.clearToSend) {
        const ack = rx.takeAck(now);
        if (ack) {
          const p = ackPacket(sessionId, ack, false);
          bBuiltAtMs = now;
          b.send(p);
          o.trace?.(`${now} B queues ack ${p.length} B`);
        }
      }
      if (pending.length === 0 && tx.settled && a.queued === 0 && !audio.a.transmitting && rx.ackDueMs === undefined && b.queued === 0 && !audio.b.transmitting) break;
      if (now > lastAt + o.afterMs) break;
      const keyed = [audio.a.transmitting, audio.b.transmitting];
      await audio.step();
      if (keyed[0] && !audio.a.transmitting) aTurnEndMs = (audio.timeSamples * 1000) / 8000;
      if (o.trace && (keyed[0] !== audio.a.transmitting || keyed[1] !== audio.b.transmitting || (keyed[0] && keyed[1]))) o.trace(`${now} on air: A ${audio.a.transmitting} B ${audio.b.transmitting}`);
      if (now >= nextProgress) {
        o.onProgress?.(now);
        nextProgress += 1000;
      }
    }
    const textSent = inputs.filter((i) => streamOf(i.frame) === 'text').length;
    const textGot = new Set(delivered.filter((d) => streamOf(d.frame) === 'text').map((d) => d.frame.seq)).size;
    const sorted = snrs.filter(Number.isFinite).sort((x, y) => x - y);
    return {
      delivered,
      textDeliveredRatio: textSent ? textGot / textSent : 1,
      spanMs: now,
      airtimeSeconds: (a.stats.airtimeMsOut + b.stats.airtimeMsOut) / 1000,
      collisions: audio.collisions,
      turns: { sender: a.stats.turns, receiver: b.stats.turns },
      retransmissions: tx.stats.retransmissions,
      framesIn: b.stats.framesIn,
      crcErrors: b.stats.crcErrors,
      snrEstimateDb: sorted.length ? sorted[sorted.length >> 1]! : Number.NaN,
      modesUsed: [...new Set([...a.stats.modesUsed, ...b.stats.modesUsed])],
      modeSwitches: a.stats.modeSwitches,
    };
  } finally {
    await a.close();
    await b.close();
    audio.close();
  }
}
