import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { DecodeError, EngineUnavailableError, InvalidStateError, TransportError } from '../../src/core/errors.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { DaemonEvent, LocalEndpoint, LocalEndpointHost } from '../../src/daemon/types.ts';
import { builtWorkerPath, locateMediasoupWorker } from '../../src/daemon/web/mediasoup-loader.ts';
import { OpusDecoder48k, OpusEncoder48k } from '../../src/daemon/web/opus.ts';
import { encodePcmMessage, parseClientMessage, parsePcmMessage } from '../../src/daemon/web/protocol.ts';
import { buildRtp, isRtcp, parseRtp, sequenceGap } from '../../src/daemon/web/rtp.ts';
import { WebClientServer } from '../../src/daemon/web/server.ts';
import { IntegerResampler } from '../../src/daemon/web/stream-resampler.ts';
import { WebEndpoint } from '../../src/daemon/web/web-endpoint.ts';
import { serveLocalClients } from '../e2e/harness.ts';
import { until as waitUntil } from '../fixtures/wait.ts';
import { describeWith, mediasoupWorker, REQUIRE_WEBRTC, required } from '../fixtures/components.ts';

function sine(freqHz: number, rateHz: number, n: number, amp = 0.5): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * freqHz * i) / rateHz));
}
function rms(x: Float32Array, from = 0): number {
  let s = 0;
  for (let i = from; i < x.length; i++) s += (x[i] as number) ** 2;
  return Math.sqrt(s / Math.max(1, x.length - from));
}
function chunked(r: IntegerResampler, x: Float32Array, chunk: number): Float32Array {
  const parts: Float32Array[] = [];
  for (let i = 0; i < x.length; i += chunk) parts.push(r.process(x.subarray(i, i + chunk)));
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

describe('RTP', () => {
  it('round-trips and skips CSRCs, extensions and padding', () => {
    const payload = Uint8Array.from([1, 2, 3, 4, 5]);
    const p = buildRtp({ payloadType: 111, marker: true, sequenceNumber: 65535, timestamp: 0xfffffff0, ssrc: 0x12345678, payload });
    expect(parseRtp(p)).toMatchObject({ payloadType: 111, marker: true, sequenceNumber: 65535, timestamp: 0xfffffff0, ssrc: 0x12345678 });
    // One CSRC, a one-word extension, 3 bytes of padding.
    const fancy = new Uint8Array([0xb1, 111, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 9, 9, 9, 9, 0xbe, 0xde, 0, 1, 7, 7, 7, 7, 42, 43, 0, 0, 3]);
    expect([...parseRtp(fancy).payload]).toEqual([42, 43]);
  });
  it('refuses short, oversized, wrong-version and badly padded packets', () => {
    expect(() => parseRtp(new Uint8Array(8))).toThrow(expect.objectContaining({ code: 'truncated' }));
    expect(() => parseRtp(new Uint8Array(2000))).toThrow(expect.objectContaining({ code: 'too_large' }));
    expect(() => parseRtp(new Uint8Array(12))).toThrow(DecodeError);
    const badPad = new Uint8Array([0xa0, 111, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 1, 200]);
    expect(() => parseRtp(badPad)).toThrow(expect.objectContaining({ code: 'malformed' }));
  });
  it('tells RTCP apart and counts sequence gaps across the wrap', () => {
    expect(isRtcp(new Uint8Array([0x80, 200, 0, 6]))).toBe(true);
    expect(isRtcp(new Uint8Array([0x80, 111, 0, 6]))).toBe(false);
    expect(sequenceGap(10, 11)).toBe(0);
    expect(sequenceGap(65535, 2)).toBe(2);
    expect(sequenceGap(11, 10)).toBeLessThan(0);
    expect(sequenceGap(11, 11)).toBeLessThan(0);
  });
});

describe('streaming resampler', () => {
  it('48 kHz → 16 kHz keeps a 1 kHz tone and removes a 10 kHz one, whatever the chunking', () => {
    const keep = chunked(new IntegerResampler('down', 3), sine(1000, 48000, 48000), 960);
    expect(keep.length).toBeGreaterThanOrEqual(15990);
    expect(keep.length).toBeLessThanOrEqual(16000);
    expect(rms(keep, 200)).toBeCloseTo(0.5 / Math.SQRT2, 2);
    const alias = chunked(new IntegerResampler('down', 3), sine(10000, 48000, 48000), 997);
    expect(rms(alias, 200)).toBeLessThan(0.005);
    // Chunk sizes do not change the output.
    const other = chunked(new IntegerResampler('down', 3), sine(1000, 48000, 48000), 333);
    expect(Array.from(other.subarray(0, keep.length)).every((v, i) => Math.abs(v - (keep[i] as number)) < 1e-6)).toBe(true);
  });
  it('16 kHz → 48 kHz keeps a tone without images', () => {
    const up = chunked(new IntegerResampler('up', 3), sine(1000, 16000, 16000), 320);
    expect(up.length).toBe(48000);
    expect(rms(up, 600)).toBeCloseTo(0.5 / Math.SQRT2, 2);
    const expected = sine(1000, 48000, 48000);
    // Compare with the ideal tone after the filter delay (an integer number of samples).
    let best = Infinity;
    for (let d = 0; d < 200; d++) {
      let e = 0;
      for (let i = 2000; i < 40000; i++) e += ((up[i + d] as number) - (expected[i] as number)) ** 2;
      best = Math.min(best, Math.sqrt(e / 38000));
    }
    expect(best).toBeLessThan(0.01);
  });
});

describe('control protocol', () => {
  it('parses the messages the page sends', () => {
    expect(parseClientMessage('{"type":"hello","transport":"ws","mode":"ptt","peer":"shore"}', 1000)).toEqual({ type: 'hello', transport: 'ws', mode: 'ptt', peer: 'shore' });
    expect(parseClientMessage('{"type":"hello"}', 1000)).toEqual({ type: 'hello', transport: 'auto', mode: 'hands-free' });
    expect(parseClientMessage('{"type":"talk","on":true}', 1000)).toEqual({ type: 'talk', on: true });
    expect(parseClientMessage('{"type":"request","id":3,"method":"produce","data":{"kind":"audio"}}', 1000)).toMatchObject({ id: 3, method: 'produce' });
  });
  it('refuses oversized and malformed messages with typed errors', () => {
    const big = JSON.stringify({ type: 'talk', on: true, pad: 'x'.repeat(2000) });
    expect(() => parseClientMessage(big, 1000)).toThrow(expect.objectContaining({ code: 'too_large' }));
    for (const bad of ['nope', '[]', '{"type":"dance"}', '{"type":"hello","transport":"carrier-pigeon"}', '{"type":"talk","on":"yes"}', '{"type":"request","id":-1,"method":"produce"}', '{"type":"request","id":1,"method":"rm -rf"}']) {
      expect(() => parseClientMessage(bad, 1000), bad).toThrow(TransportError);
      expect(() => parseClientMessage(bad, 1000), bad).toThrow(expect.objectContaining({ code: 'protocol' }));
    }
    expect(() => parsePcmMessage(new Uint8Array(3), 100)).toThrow(expect.objectContaining({ code: 'protocol' }));
    expect(() => parsePcmMessage(new Uint8Array(102), 100)).toThrow(expect.objectContaining({ code: 'too_large' }));
    const pcm = Int16Array.from([0, 1, -1, 32767, -32768]);
    expect([...parsePcmMessage(encodePcmMessage(pcm), 100)]).toEqual([...pcm]);
  });
});

describe('Opus through opusscript', () => {
  it('encodes and decodes a 20 ms frame at 48 kHz', () => {
    const enc = new OpusEncoder48k();
    const dec = new OpusDecoder48k();
    const tone = Int16Array.from(sine(440, 48000, 960 * 10), (v) => Math.round(v * 20000));
    let out: Int16Array = new Int16Array(0);
    for (let f = 0; f < 10; f++) out = dec.decode(enc.encode(tone.subarray(f * 960, (f + 1) * 960)));
    expect(out.length).toBe(960);
    expect(rms(Float32Array.from(out, (v) => v / 32768))).toBeGreaterThan(0.2);
    enc.close();
    dec.close();
    expect(() => enc.encode(tone.subarray(0, 960))).toThrow(InvalidStateError);
  });
});

describe('WebEndpoint', () => {
  it('plays out in 20 ms frames at real-time pace and applies backpressure', async () => {
    const frames: number[] = [];
    const ep = new WebEndpoint('t', { playRateHz: 16000, audio: (f, i) => frames.push(i), event: () => true }, true, { playBufferMs: 100 });
    const t0 = Date.now();
    await ep.play(new Float32Array(16000 * 0.5), 16000); // 500 ms into a 100 ms buffer
    const waited = Date.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(300);
    expect(frames.length).toBeGreaterThanOrEqual(15);
    expect(frames.every((f, i) => i === 0 || f > (frames[i - 1] as number))).toBe(true);
    await ep.close();
    await expect(ep.play(new Float32Array(10), 16000)).rejects.toThrow(InvalidStateError);
  });
  it('replaces the microphone with silence while push-to-talk is released', async () => {
    const ep = new WebEndpoint('t', { playRateHz: 16000, audio: () => {}, event: () => true }, false);
    ep.pushMic(Int16Array.from([5, 5, 5]));
    ep.talking = true;
    ep.pushMic(Int16Array.from([7, 7]));
    await ep.close();
    const got: number[][] = [];
    for await (const c of ep.mic) got.push([...c]);
    expect(got).toEqual([[0, 0, 0], [7, 7]]);
  });
});

describe('mediasoup loader', () => {
  it('names the build script when MEDIASOUP_WORKER_BIN points nowhere', () => {
    expect(() => locateMediasoupWorker({ MEDIASOUP_WORKER_BIN: '/nonexistent/mediasoup-worker' })).toThrow(EngineUnavailableError);
    expect(() => locateMediasoupWorker({ MEDIASOUP_WORKER_BIN: '/nonexistent/mediasoup-worker' })).toThrow(/build-mediasoup/);
  });
  it('uses an executable MEDIASOUP_WORKER_BIN as given', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stcts-ms-'));
    const bin = join(dir, 'mediasoup-worker');
    writeFileSync(bin, '#!/bin/sh\n');
    chmodSync(bin, 0o755);
    expect(locateMediasoupWorker({ MEDIASOUP_WORKER_BIN: bin })).toMatchObject({ path: bin, source: 'env' });
    expect(builtWorkerPath('3.19.3', '/r')).toBe('/r/.cache/mediasoup-worker/3.19.3/mediasoup-worker');
  });
});

class RecordingHost implements LocalEndpointHost {
  readonly mic: number[] = [];
  endpoint: LocalEndpoint | undefined;
  async attach(endpoint: LocalEndpoint): Promise<void> {
    this.endpoint = endpoint;
    endpoint.event({ type: 'transcript', direction: 'in', text: 'HELLO SHIP', atMs: 1 });
    for await (const c of endpoint.mic) this.mic.push(...c);
  }
}

function openClient(url: string): Promise<{ ws: WebSocket; messages: unknown[]; binary: Buffer[]; closed: Promise<number> }> {
  const ws = new WebSocket(url.replace('http', 'ws') + 'ws');
  const messages: unknown[] = [];
  const binary: Buffer[] = [];
  const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
  ws.on('message', (d: Buffer, isBinary) => (isBinary ? binary.push(d) : messages.push(JSON.parse(d.toString()))));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, messages, binary, closed }));
    ws.once('error', reject);
  });
}

const until = (cond: () => boolean, ms = 5000) => waitUntil(cond, ms, 10);

describe('WebClientServer (WebSocket PCM, no browser)', () => {
  it('serves the page and the bundle, and carries PCM and events', async () => {
    const host = new RecordingHost();
    const srv = await serveLocalClients(new WebClientServer(host, { transport: 'ws', log: silentLogger }));
    try {
      const page = await fetch(srv.url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('app.js');
      const app = await fetch(srv.url + 'app.js');
      expect(app.status).toBe(200);
      expect((await app.text()).length).toBeGreaterThan(10_000); // mediasoup-client is inside
      expect((await fetch(srv.url + 'nope')).status).toBe(404);
      const c = await openClient(srv.url);
      c.ws.send(JSON.stringify({ type: 'hello', transport: 'auto', mode: 'hands-free' }));
      await until(() => c.messages.length >= 2);
      expect(c.messages[0]).toMatchObject({ type: 'welcome', transport: 'ws', sampleRateHz: 16000 });
      expect(c.messages[1]).toEqual({ type: 'event', event: { type: 'transcript', direction: 'in', text: 'HELLO SHIP', atMs: 1 } satisfies DaemonEvent });
      c.ws.send(encodePcmMessage(Int16Array.from([1, 2, 3, 4])));
      await until(() => host.mic.length === 4);
      expect(host.mic).toEqual([1, 2, 3, 4]);
      await host.endpoint!.play(new Float32Array(320).fill(0.25), 16000);
      await until(() => c.binary.length >= 1);
      expect(c.binary[0]!.length).toBe(640);
      expect(c.binary[0]!.readInt16LE(0)).toBe(Math.round(0.25 * 32767));
      c.ws.close();
      await c.closed;
    } finally {
      await srv.close();
    }
  });
  it('closes a page that sends an oversized or malformed message, with an error event', async () => {
    const local = new WebClientServer(new RecordingHost(), { transport: 'ws', maxAudioMessageBytes: 1000, log: silentLogger });
    const srv = await serveLocalClients(local);
    try {
      const a = await openClient(srv.url);
      a.ws.send(JSON.stringify({ type: 'hello', transport: 'ws' }));
      await until(() => a.messages.length >= 1);
      a.ws.send(new Uint8Array(1002));
      expect(await a.closed).toBe(1009);
      expect(a.messages.at(-1)).toMatchObject({ type: 'event', event: { type: 'error', code: 'too_large' } });
      const b = await openClient(srv.url);
      b.ws.send('{"type":"teleport"}');
      expect(await b.closed).toBe(1008);
      expect(b.messages.at(-1)).toMatchObject({ type: 'event', event: { type: 'error', code: 'protocol' } });
      expect(local.metricsLines()).toContain('stcts_web_rejected_messages_total 2');
    } finally {
      await srv.close();
    }
  });
});

// Required under STCTS_E2E_REQUIRE_WEBRTC=1 too (issue #19: it used to skip regardless).
describeWith('WebClientServer with mediasoup', [required(mediasoupWorker(), REQUIRE_WEBRTC)], () => {
  it('offers WebRTC transports, and ends the calls when the worker dies', async () => {
    const local = new WebClientServer(new RecordingHost(), { log: silentLogger });
    const srv = await serveLocalClients(local);
    try {
      expect(await local.warmUp()).toBe(true);
      expect(local.metricsLines()).toContain('stcts_web_mediasoup_up 1');
      const c = await openClient(srv.url);
      c.ws.send(JSON.stringify({ type: 'hello', mode: 'ptt' }));
      await until(() => c.messages.length >= 1);
      const welcome = c.messages[0] as { transport: string; routerRtpCapabilities: { codecs: Array<{ mimeType: string }> }; sendTransport: { iceCandidates: Array<{ protocol: string }> } };
      expect(welcome.transport).toBe('webrtc');
      expect(welcome.routerRtpCapabilities.codecs.map((k) => k.mimeType)).toContain('audio/opus');
      expect(welcome.sendTransport.iceCandidates.map((k) => k.protocol).sort()).toEqual(['tcp', 'udp']);
      // A bad signalling request is answered with an error, not a crash.
      c.ws.send(JSON.stringify({ type: 'request', id: 7, method: 'connectTransport', data: { direction: 'sideways' } }));
      await until(() => c.messages.some((m) => (m as { id?: number }).id === 7));
      expect(c.messages.find((m) => (m as { id?: number }).id === 7)).toMatchObject({ ok: false, error: { code: 'protocol' } });
      const pid = local.connectedClients()[0]!.bridge!['service'].worker.pid as number;
      process.kill(pid, 'SIGKILL');
      expect(await c.closed).toBe(1000);
      expect(c.messages.at(-1)).toMatchObject({ type: 'event', event: { type: 'error', code: 'webrtc_failed' } });
      // The next page gets a new worker.
      const d = await openClient(srv.url);
      d.ws.send(JSON.stringify({ type: 'hello' }));
      await until(() => d.messages.length >= 1, 10_000);
      expect(d.messages[0]).toMatchObject({ type: 'welcome', transport: 'webrtc' });
      d.ws.close();
    } finally {
      await srv.close();
    }
  }, 30_000);
});
