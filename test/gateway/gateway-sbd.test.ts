import { afterAll, beforeAll, expect, it } from 'vitest';
import { decodeMessage, decodePart, encodePart, messageProsodyCoder, MessageWriter, reassembleMessage, splitMessage } from '../../src/codec/message/index.ts';
import type { TextModel } from '../../src/codec/text/index.ts';
import { messageSessionId } from '../../src/gateway/sbd-terminator.ts';
import { parseGatewayConfig, shorePcm, startGateway, type GatewayNode, type ShorePcm } from '../../src/gateway/index.ts';
import { MO_STREAM } from '../../src/gateway/subjects.ts';
import { loadDefaultTextModel } from '../../src/pipeline/codecs.ts';
import { encodeMoMessage } from '../../src/transport/links/sbd/index.ts';
import { sampleMessage } from '../codec/message/sample-message.ts';
import { describeWith, NATS_SERVER, TEXT_MODEL } from '../fixtures/components.ts';
import { deliverMo, FakeIridiumModem, FakeIridiumMtServer } from '../fixtures/iridium-directip.ts';
import { FakeAsr, toneBursts } from '../daemon/fakes.ts';
import { talk } from './talk-fixture.ts';
import { WebSocket } from 'ws';
import { NatsServerFixture } from './nats-fixture.ts';
import crc32 from 'node:zlib';

const AURORA = '300234010753370';
const BOREALIS = '300234010753371';
const TEXTS = ['THE SHIP WILL REACH THE HARBOUR AT SEVEN', 'KEEP THE RADIO ON CHANNEL SIXTEEN', 'WE HAVE FUEL FOR TWO MORE DAYS', 'THE WIND IS FROM THE NORTH AT TWENTY KNOTS', 'CALL THE COAST GUARD IF YOU DO NOT HEAR FROM US BY NOON'];

const SECOND = ['MAYDAY RELAY FROM THE FISHING VESSEL', 'WE ARE TAKING ON WATER AND NEED A PUMP'];
function twoPhraseMessage(model: TextModel): Uint8Array {
  const w = new MessageWriter(model, 'balanced', messageProsodyCoder('balanced'));
  SECOND.forEach((text, i) => w.phrase({ startMs: 400 + i * 3500, text }));
  return w.finish();
}

const NUMBERS = ['ONE', 'TWO', 'THREE', 'FOUR', 'FIVE', 'SIX'];
/** FakeAsr's phrases as words a voice message can carry (each word with its times: the prosody needs them). */
class WordsAsr extends FakeAsr {
  override async *transcribe(pcm: AsyncIterable<Int16Array>) {
    for await (const r of super.transcribe(pcm)) {
      const n = NUMBERS[Number(r.text.split(' ')[1]) - 1]!;
      const mid = (r.startMs + r.endMs) / 2;
      yield { ...r, text: `PHRASE ${n}`, words: [{ word: 'PHRASE', startMs: r.startMs, endMs: mid, confidence: 1 }, { word: n, startMs: mid, endMs: r.endMs - 10, confidence: 1 }] };
    }
  }
}
const SAID = ['PHRASE ONE', 'PHRASE TWO', 'PHRASE THREE'];

const config = (nats: string, extra = '') => parseGatewayConfig(`
nats: { servers: ['${nats}'] }
terminators: [{ kind: sbd-directip, listen: '127.0.0.1:0', allow_from: ['127.0.0.1'], read_timeout_ms: 1000 }]
vessels:
  - { name: mv-aurora, imei: '${AURORA}' }
  - { name: mv-borealis, imei: '${BOREALIS}' }
lease: { ttl_ms: 1500, heartbeat_ms: 500 }
${extra}`);

/** Every rendered item of a session, to its End. */
async function rendered(node: GatewayNode, sessionId: number, timeoutMs = 20_000): Promise<ShorePcm[]> {
  const got: ShorePcm[] = [];
  for await (const p of shorePcm(node.jet.js, sessionId, AbortSignal.timeout(timeoutMs))) got.push(p);
  return got;
}

/** The key the terminator gives a multi-part message (id + crc32 of the joined message). */
const multiKey = (id: number, message: Uint8Array) => `${id}-${(crc32.crc32(message) >>> 0).toString(16).padStart(8, '0')}`;

describeWith('gateway: Iridium SBD voice messages through DirectIP (one nats-server, tone voice)', [NATS_SERVER, TEXT_MODEL], () => {
  let nats: NatsServerFixture;
  let node: GatewayNode;
  let model: TextModel;
  let port: number;
  let stats: Record<string, number>;
  beforeAll(async () => {
    model = await loadDefaultTextModel();
    nats = await NatsServerFixture.start();
    node = await startGateway(config(nats.url, 'workers: { count: 1, tts: tone }'), { workerId: 'sbd', textModel: model });
    const t = node.terminators[0] as unknown as { port: number; stats: Record<string, number> };
    port = t.port;
    stats = t.stats;
  }, 30_000);
  afterAll(async () => {
    await node?.close();
    await nats?.stop();
  });

  it('a message in 4 parts, delivered out of order, one twice by Iridium and one resent by the modem: every phrase rendered once, in order, for the vessel the IMEI names', async () => {
    const message = sampleMessage(model);
    const parts = splitMessage(message, Math.ceil(message.length / 4) + 2, 42).map(encodePart);
    expect(parts.length).toBe(4);
    const modem = new FakeIridiumModem(AURORA);
    const before = { ...stats };
    const s2 = modem.session(parts[2]!);
    expect(await deliverMo(port, s2.bytes)).toBe(true);
    expect(await deliverMo(port, modem.session(parts[0]!).bytes)).toBe(true);
    expect(await deliverMo(port, s2.bytes)).toBe(true); // Iridium delivered the same session again
    expect(await deliverMo(port, modem.session(parts[3]!).bytes)).toBe(true);
    expect(await deliverMo(port, modem.session(parts[1]!).bytes)).toBe(true); // completes it
    expect(await deliverMo(port, modem.session(parts[1]!).bytes)).toBe(true); // the modem sent it again (new MOMSN)
    const id = messageSessionId('mv-aurora', multiKey(42, message));
    const got = await rendered(node, id);
    expect(got.at(-1)?.end).toBe(true);
    expect(got.at(-1)?.error).toBeUndefined();
    const speech = got.filter((p) => !p.end);
    expect(speech.map((p) => p.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(speech.map((p) => p.text)).toEqual(TEXTS);
    expect(speech.every((p) => p.pcm.length > 8000)).toBe(true);
    expect(stats.messages - before.messages).toBe(1);
    expect(stats.duplicates - before.duplicates).toBe(2);
    expect(stats.stored - before.stored).toBe(4);
    // A new message that reuses id 42 (the 7-bit id wraps): its parts 0, 2, 3 arrive first; the
    // stale copy of the old part 1 (resent above) must not complete it.
    const second = twoPhraseMessage(model);
    const sp = splitMessage(second, Math.ceil(second.length / 4) + 2, 42).map(encodePart);
    expect(sp.length).toBe(4);
    for (const i of [0, 2, 3, 1]) expect(await deliverMo(port, modem.session(sp[i]!).bytes)).toBe(true);
    const g2 = await rendered(node, messageSessionId('mv-aurora', multiKey(42, second)));
    expect(g2.filter((p) => !p.end).map((p) => p.text)).toEqual(SECOND);
    expect(stats.messages - before.messages).toBe(2);
    // The call left the registry once rendered.
    for (let i = 0; i < 100 && (await node.jet.calls.get(String(id)))?.operation === 'PUT'; i++) await new Promise((r) => setTimeout(r, 50));
    expect((await node.jet.calls.get(String(id)))?.operation).not.toBe('PUT');
  }, 40_000);

  it('two vessels interleave messages with the same wire id: each rendered as its own vessel\'s message', async () => {
    const message = sampleMessage(model);
    const pa = splitMessage(message, Math.ceil(message.length / 2) + 2, 9).map(encodePart);
    const a = new FakeIridiumModem(AURORA);
    const b = new FakeIridiumModem(BOREALIS);
    // Borealis sends only the first half of the same bytes (its message is incomplete) and then a single-part message.
    expect(await deliverMo(port, a.session(pa[0]!).bytes)).toBe(true);
    expect(await deliverMo(port, b.session(pa[1]!).bytes)).toBe(true);
    expect(await deliverMo(port, a.session(pa[1]!).bytes)).toBe(true);
    expect(await deliverMo(port, b.session(message).bytes)).toBe(true);
    const ga = await rendered(node, messageSessionId('mv-aurora', multiKey(9, message)));
    expect(ga.filter((p) => !p.end).map((p) => p.text)).toEqual(TEXTS);
    const single = `s-${(crc32.crc32(message) >>> 0).toString(16).padStart(8, '0')}`;
    const gb = await rendered(node, messageSessionId('mv-borealis', single));
    expect(gb.filter((p) => !p.end).map((p) => p.text)).toEqual(TEXTS);
  }, 40_000);

  it('bad input: unknown IMEI refused, garbage and truncated messages refused or timed out, a foreign source closed, a payload that is no voice message stored, a message that does not decode ends with its error', async () => {
    const before = { ...stats };
    const stranger = new FakeIridiumModem('300234010799999');
    expect(await deliverMo(port, stranger.session(sampleMessage(model)).bytes)).toBe(false);
    expect(stats.refusedImeis - before.refusedImeis).toBe(1);
    expect(await deliverMo(port, Uint8Array.of(7, 0, 3, 1, 2, 3))).toBe(false); // revision 7
    expect(await deliverMo(port, Uint8Array.of(1, 0xff, 0xff, 1))).toBe(false); // announces more than any MO message
    expect(await deliverMo(port, Uint8Array.of(1, 0, 40, 1, 0))).toBe('closed'); // then silence: closed after the read timeout
    expect(stats.malformed - before.malformed).toBe(3);
    expect(await deliverMo(port, new FakeIridiumModem(AURORA).session(sampleMessage(model)).bytes, { localAddress: '127.0.0.2' })).toBe('closed');
    expect(stats.refusedSources - before.refusedSources).toBe(1);
    const aurora = new FakeIridiumModem(AURORA);
    expect(await deliverMo(port, aurora.session(Uint8Array.of(0x81, 0x00, 1)).bytes)).toBe(true); // a "multi-part" header with one part
    expect(stats.notVoice - before.notVoice).toBe(1);
    expect(await deliverMo(port, encodeMoMessage({ header: { ...aurora.session(Uint8Array.of(1)).header, sessionStatus: 13 } }))).toBe(true);
    expect(stats.empty - before.empty).toBe(1);
    // A single-part message whose coded bytes are garbage (a 0 bit first, as a header): rendered as an End naming the error.
    const garbage = Uint8Array.from({ length: 40 }, (_, i) => (i * 37 + 11) & 0x7f);
    expect(await deliverMo(port, aurora.session(garbage).bytes)).toBe(true);
    const got = await rendered(node, messageSessionId('mv-aurora', `s-${(crc32.crc32(garbage) >>> 0).toString(16).padStart(8, '0')}`));
    expect(got).toHaveLength(1);
    expect(got[0]!.end).toBe(true);
    expect(got[0]!.error).toMatch(/^(malformed|truncated|model_mismatch|unsupported_version|invalid_value):/);
    // Everything stored came from allowed sources and known IMEIs only.
    const info = await node.jet.jsm.streams.info(MO_STREAM);
    expect(info.state.subjects ?? {}).not.toHaveProperty('stcts.v1.mo.undefined');
  }, 40_000);
});

describeWith('gateway: an SBD voice message survives the loss of the worker rendering it', [NATS_SERVER, TEXT_MODEL], () => {
  let nats: NatsServerFixture;
  const nodes: GatewayNode[] = [];
  afterAll(async () => {
    for (const n of nodes) await n.close();
    await nats?.stop();
  });

  it('worker A stops mid-message; worker B takes the lease over and renders only what is missing: each phrase stored once, in order', async () => {
    const model = await loadDefaultTextModel();
    nats = await NatsServerFixture.start();
    const terminator = await startGateway(config(nats.url, 'workers: { count: 0, tts: tone }'), { role: 'terminator', textModel: model });
    nodes.push(terminator);
    let closeA: Promise<void> | undefined;
    const a = await startGateway(config(nats.url, 'workers: { count: 1, tts: tone }'), {
      role: 'worker', workerId: 'A', textModel: model,
      onPhrase: (_s, seq, replayed) => { if (seq === 2 && !replayed) closeA ??= a.close(); },
    });
    nodes.push(a);
    const port = (terminator.terminators[0] as unknown as { port: number }).port;
    const message = sampleMessage(model);
    const modem = new FakeIridiumModem(AURORA);
    for (const p of splitMessage(message, Math.ceil(message.length / 3) + 2, 5).map(encodePart)) expect(await deliverMo(port, modem.session(p).bytes)).toBe(true);
    for (let i = 0; i < 200 && !closeA; i++) await new Promise((r) => setTimeout(r, 25));
    expect(closeA).toBeDefined();
    await closeA;
    const replayedByB: number[] = [];
    const b = await startGateway(config(nats.url, 'workers: { count: 1, tts: tone }'), { role: 'worker', workerId: 'B', textModel: model, onPhrase: (_s, seq, replayed) => { if (replayed) replayedByB.push(seq); } });
    nodes.push(b);
    const got = await rendered(b, messageSessionId('mv-aurora', multiKey(5, message)));
    expect(got.filter((p) => !p.end).map((p) => [p.seq, p.text])).toEqual(TEXTS.map((t, i) => [i, t]));
    expect(got.at(-1)?.end).toBe(true);
    expect(replayedByB.length).toBeGreaterThanOrEqual(1); // A had stored some phrases: B did not synthesize them again
    expect(replayedByB).toEqual(replayedByB.map((_, i) => i));
  }, 60_000);
});

describeWith('gateway shore → ship over Iridium SBD: a talk to an SBD-only vessel goes as a voice message through DirectIP MT', [NATS_SERVER, TEXT_MODEL], () => {
  let nats: NatsServerFixture;
  let node: GatewayNode;
  let mt: FakeIridiumMtServer;
  let model: TextModel;
  let stats: Record<string, number>;
  beforeAll(async () => {
    model = await loadDefaultTextModel();
    nats = await NatsServerFixture.start();
    mt = await FakeIridiumMtServer.start();
    node = await startGateway(parseGatewayConfig(`
nats: { servers: ['${nats.url}'] }
terminators: [{ kind: sbd-directip, listen: '127.0.0.1:0', allow_from: ['127.0.0.1'], mt_server: '127.0.0.1:${mt.port}', mt_retry_ms: 300 }]
vessels: [{ name: mv-aurora, imei: '${AURORA}' }, { name: mv-linked, psk: 'a-gateway-sbd-test-key-0123456789abcdef' }]
workers: { count: 1, tts: tone }
lease: { ttl_ms: 1500, heartbeat_ms: 500 }
shore: { listen: '127.0.0.1:0' }
`), { workerId: 'sbd-mt', textModel: model, createAsr: async () => new WordsAsr() });
    stats = (node.terminators[0] as unknown as { stats: Record<string, number> }).stats;
  }, 30_000);
  afterAll(async () => {
    await node?.close();
    await mt?.close();
    await nats?.stop();
  });

  it('the talker hears each phrase coded, then handed to Iridium; the MT parts carry the voice message to the vessel\'s IMEI (one transient refusal retried)', async () => {
    mt.statuses.push(-6); // "MT resources unavailable": retried
    const msgs = await talk(node.shore!.port, 'mv-aurora', toneBursts(3, 400, 700));
    expect(msgs[0]).toMatchObject({ type: 'talk', vessel: 'mv-aurora' });
    const session = msgs[0]!.session!;
    expect(msgs.filter((m) => m.type === 'phrase').map((m) => m.text)).toEqual(SAID);
    expect(msgs.filter((m) => m.type === 'delivered').map((m) => m.text)).toEqual(SAID);
    expect(msgs.at(-1)).toMatchObject({ type: 'end', session, via: 'sbd' });
    expect(msgs.at(-1)).not.toHaveProperty('error');
    expect(mt.queued.length).toBeGreaterThanOrEqual(1);
    expect(mt.queued.every((m) => m.imei === AURORA && m.payload.length <= 270)).toBe(true);
    const message = reassembleMessage(mt.queued.map((m) => decodePart(m.payload))).message;
    expect(decodeMessage(message, model).items.flatMap((i) => (i.type === 'phrase' ? [i.text] : []))).toEqual(SAID);
    expect(stats.mtRetries).toBeGreaterThanOrEqual(1);
    expect(stats.mtMessages).toBe(1);
    expect((await node.jet.calls.get(String(session)))?.operation).not.toBe('PUT');
  }, 60_000);

  it('an IMEI Iridium refuses ends the talk with a typed error; a talk with no speech too; a vessel with a link still talks over its link', async () => {
    const before = mt.queued.length;
    mt.statuses.push(-2); // unknown IMEI
    const refused = await talk(node.shore!.port, 'mv-aurora', toneBursts(1, 400, 700), { timeoutMs: 25_000 });
    expect(refused.at(-1)).toMatchObject({ type: 'end', via: 'sbd', error: expect.stringMatching(/^refused: .*unknown IMEI/) });
    const silent = await talk(node.shore!.port, 'mv-aurora', new Int16Array(16000), { timeoutMs: 25_000 });
    expect(silent.at(-1)).toMatchObject({ type: 'end', via: 'sbd', error: expect.stringMatching(/^invalid_value: no speech/) });
    expect(mt.queued.length).toBe(before);
    // mv-linked has a key: its talk is an ordinary link session (not SBD), waiting for the vessel to connect.
    const ws = new WebSocket(`ws://127.0.0.1:${node.shore!.port}/talk?vessel=mv-linked`);
    const first = await new Promise<{ type: string; session: number }>((resolve, reject) => { ws.on('message', (d) => resolve(JSON.parse(String(d)))); ws.on('error', reject); });
    ws.close();
    const rec = JSON.parse(new TextDecoder().decode((await node.jet.calls.get(String(first.session)))!.value)) as { via?: string; direction: string };
    expect(rec).toMatchObject({ direction: 'down' });
    expect(rec.via).toBeUndefined();
  }, 60_000);
});

describeWith('gateway SBD: JetStream away', [NATS_SERVER, TEXT_MODEL], () => {
  let nats: NatsServerFixture;
  let node: GatewayNode;
  afterAll(async () => {
    await node?.close();
    await nats?.stop();
  });

  it('a message that cannot be stored is not confirmed (Iridium delivers it again); once the server is back it is stored, confirmed and rendered once', async () => {
    const model = await loadDefaultTextModel();
    nats = await NatsServerFixture.start();
    node = await startGateway(parseGatewayConfig(`
nats: { servers: ['${nats.url}'] }
terminators: [{ kind: sbd-directip, listen: '127.0.0.1:0', allow_from: ['127.0.0.1'], store_timeout_ms: 1500 }]
vessels: [{ name: mv-aurora, imei: '${AURORA}' }]
workers: { count: 1, tts: tone }
lease: { ttl_ms: 1500, heartbeat_ms: 500 }
`), { workerId: 'sbd-away', textModel: model });
    const t = node.terminators[0] as unknown as { port: number; stats: Record<string, number> };
    const message = sampleMessage(model);
    const session = new FakeIridiumModem(AURORA).session(message);
    const restart = nats.restart(4000);
    await new Promise((r) => setTimeout(r, 300)); // the server is down now
    expect(await deliverMo(t.port, session.bytes)).toBe('closed');
    expect(t.stats.storeTimeouts).toBe(1);
    await restart;
    let answer: boolean | 'closed' = 'closed';
    for (let i = 0; i < 20 && answer !== true; i++) {
      answer = await deliverMo(t.port, session.bytes); // Iridium's redelivery of the same session
      if (answer !== true) await new Promise((r) => setTimeout(r, 500));
    }
    expect(answer).toBe(true);
    const got = await rendered(node, messageSessionId('mv-aurora', `s-${(crc32.crc32(message) >>> 0).toString(16).padStart(8, '0')}`));
    expect(got.filter((p) => !p.end).map((p) => p.text)).toEqual(TEXTS);
    expect(got.filter((p) => p.end)).toHaveLength(1);
  }, 60_000);
});
