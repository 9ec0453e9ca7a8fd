/**
 * One tab's WebRTC audio through mediasoup (issue #8):
 *
 *   browser mic ─► WebRtcTransport(send) ─► Producer ─► Consumer on PlainTransport "in" ─► RTP/UDP
 *     ─► this process: Opus decode (48 kHz) ─► 16 kHz ─► endpoint mic
 *   endpoint.play ─► 48 kHz frames ─► Opus encode ─► RTP/UDP ─► PlainTransport "out" (comedia)
 *     ─► Producer ─► Consumer on WebRtcTransport(recv) ─► browser playback
 *
 * The plain transports and the UDP sockets are on 127.0.0.1.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { TransportError } from '../../core/errors.ts';
import type { MediasoupService, MsPlainTransport, MsWebRtcTransport } from './mediasoup-service.ts';
import { OPUS_FRAME_SAMPLES, OpusDecoder48k, OpusEncoder48k } from './opus.ts';
import type { SignalMethod, TransportParams } from './protocol.ts';
import { buildRtp, isRtcp, parseRtp, sequenceGap } from './rtp.ts';
import { IntegerResampler, floatToS16, s16ToFloat } from './stream-resampler.ts';

type Producer = Awaited<ReturnType<MsWebRtcTransport['produce']>>;
type Consumer = Awaited<ReturnType<MsWebRtcTransport['consume']>>;

/** Payload type of the daemon's outgoing Opus stream on the plain transport. */
const OUT_PAYLOAD_TYPE = 100;
/** A gap of up to this many lost packets is filled with silence to keep timing; larger gaps are skipped. */
const MAX_CONCEALED_PACKETS = 10;

/** Counters for /metrics. */
export interface WebRtcBridgeStats {
  rtpIn: number;
  rtpOut: number;
  rtpLost: number;
  rtpInvalid: number;
}

function transportParams(t: MsWebRtcTransport): TransportParams {
  return { id: t.id, iceParameters: t.iceParameters, iceCandidates: t.iceCandidates, dtlsParameters: t.dtlsParameters };
}

async function bindLoopback(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      s.off('error', reject);
      resolve();
    });
  });
  return s;
}

export class WebRtcBridge {
  readonly stats: WebRtcBridgeStats = { rtpIn: 0, rtpOut: 0, rtpLost: 0, rtpInvalid: 0 };
  private browserProducer: Producer | undefined;
  private toNodeConsumer: Consumer | undefined;
  private browserConsumer: Consumer | undefined;
  private nodeProducer: Producer | undefined;
  private inPayloadType = -1;
  private lastInSeq = -1;
  private readonly decoder = new OpusDecoder48k();
  private readonly encoder = new OpusEncoder48k();
  private readonly down = new IntegerResampler('down', 3);
  private readonly outSsrc = randomInt(1, 0x7fffffff);
  private outSeq = randomInt(0, 0xffff);
  private readonly outTimestampBase = randomInt(0, 0x7fffffff);
  private lastOutFrameIndex = -2;
  private closed = false;

  private constructor(
    private readonly service: MediasoupService,
    private readonly sendTransport: MsWebRtcTransport,
    private readonly recvTransport: MsWebRtcTransport,
    private readonly plainIn: MsPlainTransport,
    private readonly plainOut: MsPlainTransport,
    private readonly udpIn: Socket,
    private readonly udpOut: Socket,
    private readonly onMic: (pcm16k: Int16Array) => void,
  ) {
    udpIn.on('message', (msg) => this.onRtp(msg));
  }

  /** Creates the transports for one tab; `onMic` receives 16 kHz s16 chunks (20 ms). */
  static async create(service: MediasoupService, announcedAddress: string, onMic: (pcm16k: Int16Array) => void): Promise<WebRtcBridge> {
    const created: Array<{ close(): void }> = [];
    try {
      const send = await service.createWebRtcTransport(announcedAddress);
      created.push(send);
      const recv = await service.createWebRtcTransport(announcedAddress);
      created.push(recv);
      const plainIn = await service.createPlainTransport(false);
      created.push(plainIn);
      const plainOut = await service.createPlainTransport(true);
      created.push(plainOut);
      const udpIn = await bindLoopback();
      created.push(udpIn);
      const udpOut = await bindLoopback();
      created.push(udpOut);
      await plainIn.connect({ ip: '127.0.0.1', port: udpIn.address().port });
      const bridge = new WebRtcBridge(service, send, recv, plainIn, plainOut, udpIn, udpOut, onMic);
      bridge.nodeProducer = await plainOut.produce({
        kind: 'audio',
        rtpParameters: {
          codecs: [{ mimeType: 'audio/opus', payloadType: OUT_PAYLOAD_TYPE, clockRate: 48000, channels: 2, parameters: { useinbandfec: 1 } }],
          encodings: [{ ssrc: bridge.outSsrc }],
        },
      });
      return bridge;
    } catch (err) {
      for (const c of created.reverse()) c.close();
      throw err;
    }
  }

  /** What the page needs to create its two transports. */
  welcome(): { routerRtpCapabilities: unknown; sendTransport: TransportParams; recvTransport: TransportParams } {
    return { routerRtpCapabilities: this.service.router.rtpCapabilities, sendTransport: transportParams(this.sendTransport), recvTransport: transportParams(this.recvTransport) };
  }

  /** Whether audio has arrived from the browser over RTP (for tests and metrics). */
  get receiving(): boolean {
    return this.stats.rtpIn > 0;
  }

  /** One signalling request from the page. Throws `TransportError` `protocol` for bad requests. */
  async handle(method: SignalMethod, data: Record<string, unknown>): Promise<unknown> {
    switch (method) {
      case 'connectTransport': {
        const t = data['direction'] === 'send' ? this.sendTransport : data['direction'] === 'recv' ? this.recvTransport : undefined;
        if (!t) throw new TransportError('protocol', 'connectTransport.direction must be send or recv');
        await t.connect({ dtlsParameters: data['dtlsParameters'] as never });
        return {};
      }
      case 'produce': {
        if (this.browserProducer) throw new TransportError('protocol', 'this page already produces audio');
        if (data['kind'] !== 'audio') throw new TransportError('protocol', 'only audio can be produced');
        const producer = await this.sendTransport.produce({ kind: 'audio', rtpParameters: data['rtpParameters'] as never });
        this.browserProducer = producer;
        const consumer = await this.plainIn.consume({ producerId: producer.id, rtpCapabilities: this.service.router.rtpCapabilities });
        this.toNodeConsumer = consumer;
        this.inPayloadType = consumer.rtpParameters.codecs[0]?.payloadType ?? -1;
        return { id: producer.id };
      }
      case 'consume': {
        if (this.browserConsumer) throw new TransportError('protocol', 'this page already consumes audio');
        const rtpCapabilities = data['rtpCapabilities'] as never;
        const producerId = this.nodeProducer?.id as string;
        if (!this.service.router.canConsume({ producerId, rtpCapabilities })) throw new TransportError('protocol', 'the page cannot receive Opus');
        const consumer = await this.recvTransport.consume({ producerId, rtpCapabilities, paused: true });
        this.browserConsumer = consumer;
        return { id: consumer.id, producerId, kind: consumer.kind, rtpParameters: consumer.rtpParameters };
      }
      case 'resumeConsumer':
        await this.browserConsumer?.resume();
        return {};
    }
  }

  /** Sends one 20 ms frame of received speech (48 kHz) to the page. */
  sendFrame(frame48k: Float32Array, frameIndex: number): void {
    if (this.closed || frame48k.length !== OPUS_FRAME_SAMPLES) return;
    const payload = this.encoder.encode(floatToS16(frame48k));
    const packet = buildRtp({
      payloadType: OUT_PAYLOAD_TYPE,
      // The first packet after a silence gap starts a talkspurt (RFC 3551 §4.1).
      marker: frameIndex !== this.lastOutFrameIndex + 1,
      sequenceNumber: this.outSeq,
      timestamp: (this.outTimestampBase + frameIndex * OPUS_FRAME_SAMPLES) >>> 0,
      ssrc: this.outSsrc,
      payload,
    });
    this.outSeq = (this.outSeq + 1) & 0xffff;
    this.lastOutFrameIndex = frameIndex;
    this.udpOut.send(packet, this.plainOut.tuple.localPort, this.plainOut.tuple.localAddress);
    this.stats.rtpOut++;
  }

  private onRtp(msg: Buffer): void {
    if (this.closed || isRtcp(msg)) return;
    let packet;
    try {
      packet = parseRtp(msg);
    } catch {
      this.stats.rtpInvalid++;
      return;
    }
    if (packet.payloadType !== this.inPayloadType) {
      this.stats.rtpInvalid++;
      return;
    }
    if (this.lastInSeq >= 0) {
      const gap = sequenceGap(this.lastInSeq, packet.sequenceNumber);
      if (gap < 0) return; // late or duplicate
      if (gap > 0) {
        this.stats.rtpLost += gap;
        if (gap <= MAX_CONCEALED_PACKETS) this.deliver(new Float32Array(gap * OPUS_FRAME_SAMPLES));
      }
    }
    this.lastInSeq = packet.sequenceNumber;
    this.stats.rtpIn++;
    let pcm: Int16Array;
    try {
      pcm = this.decoder.decode(packet.payload);
    } catch {
      this.stats.rtpInvalid++;
      return;
    }
    this.deliver(s16ToFloat(pcm));
  }

  private deliver(samples48k: Float32Array): void {
    const pcm16k = this.down.process(samples48k);
    if (pcm16k.length > 0) this.onMic(floatToS16(pcm16k));
  }

  /** Closes the transports, sockets and codecs; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of [this.sendTransport, this.recvTransport, this.plainIn, this.plainOut]) t.close();
    this.udpIn.close();
    this.udpOut.close();
    this.decoder.close();
    this.encoder.close();
  }
}
