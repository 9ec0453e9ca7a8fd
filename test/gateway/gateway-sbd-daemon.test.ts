import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { crc32 } from 'node:zlib';
import { decodePart, reassembleMessage } from '../../src/codec/message/index.ts';
import type { Daemon } from '../../src/daemon/index.ts';
import { messageSessionId } from '../../src/gateway/sbd-terminator.ts';
import { parseGatewayConfig, shorePcm, startGateway, type GatewayNode, type ShorePcm } from '../../src/gateway/index.ts';
import { loadDefaultTextModel } from '../../src/pipeline/codecs.ts';
import { describeWith, FESTIVAL, NATS_SERVER, POCKETSPHINX_ADDON, POCKETSPHINX_MODEL, SOCAT, TEXT_MODEL } from '../fixtures/components.ts';
import { deliverMo, FakeIridiumModem, FakeIridiumMtServer } from '../fixtures/iridium-directip.ts';
import { readWavFile } from '../../src/audio/wav.ts';
import { talk } from './talk-fixture.ts';
import { startSbdPty, type SbdPty } from '../fixtures/sbd-pty.ts';
import { receivedMessages, sayToWav, startSbdDaemon } from '../fixtures/sbd-daemon.ts';
import { until } from '../fixtures/wait.ts';
import { NatsServerFixture } from './nats-fixture.ts';

const IMEI = '300234010753370';

/**
 * Ship to shore over Iridium SBD end to end: a vessel's edge daemon (`peers[].url: sbd:`) sends a
 * voice message through its modem (the 9602 emulator on a socat pseudo-terminal: no real modem
 * here); what the modem's sessions deliver is handed, as Iridium's ground station would, to the
 * gateway's DirectIP terminator; a worker renders it and a shore client hears it.
 */
describeWith('edge daemon → SBD modem → DirectIP → gateway worker', [SOCAT, FESTIVAL, POCKETSPHINX_ADDON, POCKETSPHINX_MODEL, NATS_SERVER, TEXT_MODEL], () => {
  let dir: string;
  let pty: SbdPty;
  let daemon: Daemon | undefined;
  let nats: NatsServerFixture;
  let gateway: GatewayNode;
  let mt: FakeIridiumMtServer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stcts-gw-sbd-'));
    pty = await startSbdPty(dir);
    nats = await NatsServerFixture.start();
    mt = await FakeIridiumMtServer.start();
    gateway = await startGateway(parseGatewayConfig(`
nats: { servers: ['${nats.url}'] }
terminators: [{ kind: sbd-directip, listen: '127.0.0.1:0', allow_from: ['127.0.0.1'], mt_server: '127.0.0.1:${mt.port}' }]
vessels: [{ name: mv-aurora, imei: '${IMEI}' }]
workers: { count: 1, tts: tone }
shore: { listen: '127.0.0.1:0' }
`), { textModel: await loadDefaultTextModel() });
  }, 60_000);
  afterAll(async () => {
    await daemon?.close();
    await gateway?.close();
    await nats?.stop();
    await mt?.close();
    pty?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a recording POSTed to the vessel daemon is heard on shore, phrase by phrase, once', async () => {
    const wav = sayToWav(join(dir, 'in.wav'), 'Position fifty four north, two west. All well on board. We expect to reach the harbour at seven tomorrow morning, with fuel for two more days.');
    daemon = await startSbdDaemon(dir, pty.dte, 'shore');
    // The ground station: each MO session the modem completes goes to the gateway over DirectIP.
    const iridium = new FakeIridiumModem(IMEI);
    let forwarded = 0;
    const confirmations: Array<boolean | 'closed'> = [];
    const port = (gateway.terminators[0] as unknown as { port: number }).port;
    const pump = setInterval(() => {
      while (forwarded < pty.emu.delivered.length) {
        const mo = pty.emu.delivered[forwarded++]!;
        void deliverMo(port, iridium.session(mo).bytes).then((c) => confirmations.push(c));
      }
    }, 50);
    try {
      const res = await fetch(`http://127.0.0.1:${daemon.httpPort}/messages?peer=shore`, { method: 'POST', body: readFileSync(wav) });
      expect(res.status).toBe(202);
      const queued = (await res.json()) as { parts: number; transcript: string; messageId: number | null };
      await until(() => confirmations.length === queued.parts, 60_000);
      expect(confirmations).toEqual(Array(queued.parts).fill(true));
      const parts = pty.emu.delivered.map(decodePart);
      const message = reassembleMessage(parts).message;
      const key = queued.parts === 1 ? `s-${(crc32(pty.emu.delivered[0]!) >>> 0).toString(16).padStart(8, '0')}` : `${parts[0]!.messageId}-${(crc32(message) >>> 0).toString(16).padStart(8, '0')}`;
      const got: ShorePcm[] = [];
      for await (const p of shorePcm(gateway.jet.js, messageSessionId('mv-aurora', key), AbortSignal.timeout(30_000))) got.push(p);
      expect(got.at(-1)).toMatchObject({ end: true });
      expect(got.at(-1)?.error).toBeUndefined();
      const speech = got.filter((p) => !p.end);
      expect(speech.length).toBeGreaterThanOrEqual(1);
      expect(speech.map((p) => p.seq)).toEqual(speech.map((_, i) => i));
      expect(speech.map((p) => p.text).join(' ')).toBe(queued.transcript);
    } finally {
      clearInterval(pump);
    }
  }, 180_000);

  it('a shore talk to the vessel (real recognizer on the worker) reaches its daemon through Iridium MT and the modem, once', async () => {
    expect(daemon).toBeDefined(); // started by the test above
    const audio = await readWavFile(sayToWav(join(dir, 'talk.wav'), 'Aurora, this is shore. Your berth is number four. Call us on channel sixteen when you arrive.'));
    const pcm = Int16Array.from(audio.samples, (x) => Math.max(-32768, Math.min(32767, Math.round(x * 32767))));
    // Iridium's side: each MT message it queued reaches the modem (SBDRING, then the daemon's session).
    let handed = 0;
    const pump = setInterval(() => {
      while (handed < mt.queued.length) pty.emu.queueMt(mt.queued[handed++]!.payload);
    }, 50);
    try {
      const msgs = await talk(gateway.shore!.port, 'mv-aurora', pcm);
      expect(msgs.at(-1)).toMatchObject({ type: 'end', via: 'sbd' });
      expect(msgs.at(-1)).not.toHaveProperty('error');
      const said = msgs.filter((m) => m.type === 'phrase').map((m) => m.text).join(' ');
      expect(said).toMatch(/NUMBER/);
      const lines = await receivedMessages(dir, 60_000, 500);
      expect(lines).toEqual([expect.objectContaining({ peer: 'shore', transcript: said })]);
    } finally {
      clearInterval(pump);
    }
  }, 180_000);
});
