import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { decodeWav, encodeWav } from '../../src/audio/index.ts';
import { decodeMessage, decodePart, encodePart, reassembleMessage, splitMessage } from '../../src/codec/message/index.ts';
import { silentLogger } from '../../src/core/log.ts';
import { startSbdPeer, type ReceivedVoiceMessage, type SbdPeer, type SbdPeerOptions } from '../../src/daemon/sbd-peer.ts';
import { startSbdPeers } from '../../src/daemon/sbd-peers.ts';
import { loadDefaultTextModel } from '../../src/pipeline/codecs.ts';
import { describeWith, FESTIVAL, POCKETSPHINX_ADDON, POCKETSPHINX_MODEL, SOCAT, TEXT_MODEL } from '../fixtures/components.ts';
import { startSbdPty, type SbdPty } from '../fixtures/sbd-pty.ts';
import { until } from '../fixtures/wait.ts';

const BIN = fileURLToPath(new URL('../../bin/stcts.js', import.meta.url));
const TEXT = 'The ship will reach the harbour at seven. Keep the radio on channel sixteen.';

/** A message of `n` bytes (a header's 0 bit first) as SBD parts with id `id`. */
function syntheticParts(n: number, id: number, maxPartBytes = 340): { message: Uint8Array; parts: Uint8Array[] } {
  const message = Uint8Array.from({ length: n }, (_, i) => (i === 0 ? 0x09 : (i * 31 + id) & 255));
  return { message, parts: splitMessage(message, maxPartBytes, id).map(encodePart) };
}

/** A decoder that does not speak: writes a short silent WAV and reports the bytes it got. */
function fakeDecoder(seen: Uint8Array[]): SbdPeerOptions['decode'] {
  return async (message, wavPath) => {
    seen.push(message);
    writeFileSync(wavPath, encodeWav({ samples: new Float32Array(160), sampleRateHz: 16000 }));
    return { transcript: `bytes ${message.length}`, durationMs: 10 };
  };
}

describeWith('SBD daemon peer against the modem emulator', [SOCAT], () => {
  let dir: string;
  let pty: SbdPty;
  let peers: SbdPeer[];
  const sleeps: number[] = [];
  const modem = { backoffMs: [10, 20, 40], maxAttempts: 5, commandTimeoutMs: 3000, sessionTimeoutMs: 3000, sleep: (ms: number) => new Promise<void>((r) => { sleeps.push(ms); setTimeout(r, 1); }) };
  const start = async (o: Partial<SbdPeerOptions> = {}) => {
    const p = await startSbdPeer({ name: 'shore', url: `sbd:${pty.dte}`, stateDir: join(dir, 'state'), settleMs: 30, retryMs: 100, mailboxIntervalMs: 60_000, modem, ...o });
    peers.push(p);
    return p;
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stcts-sbd-peer-'));
    pty = await startSbdPty(dir);
    peers = [];
    sleeps.length = 0;
  });

  afterEach(async () => {
    for (const p of peers) await p.close();
    pty.close();
  });

  it('sends the parts of queued messages in order, one session each, through failed sessions with back-off', async () => {
    pty.emu.sessionOutcomes.push(32, 18);
    const peer = await start({ decode: fakeDecoder([]), checkMailboxOnOpen: false });
    const a = syntheticParts(800, 7);
    const b = syntheticParts(120, 0);
    expect(peer.enqueueParts(a.parts)).toMatchObject({ messageId: 7, parts: 3, bytes: a.parts.reduce((s, p) => s + p.length, 0) });
    expect(peer.enqueueParts(b.parts)).toMatchObject({ messageId: null, parts: 1 });
    await until(() => peer.stats().queue.parts === 0, 10_000);
    expect(pty.emu.delivered).toEqual([...a.parts, ...b.parts]);
    expect(sleeps).toEqual([10, 20]);
    expect(peer.stats()).toMatchObject({ state: 'ready', sent: { parts: 4, messages: 2, failedParts: 0 }, queue: { messages: 0 } });
  });

  it('a part whose sessions all failed stays queued and goes later, exactly once (a mailbox session in between does not send it)', async () => {
    pty.emu.sessionOutcomes.push(32, 32);
    const peer = await start({ decode: fakeDecoder([]), checkMailboxOnOpen: false, retryMs: 600, modem: { ...modem, maxAttempts: 2 } });
    const { parts } = syntheticParts(200, 0);
    peer.enqueueParts(parts);
    await until(() => peer.stats().sent.failedParts === 1, 5000);
    expect(peer.stats().lastError?.code).toBe('timeout');
    pty.emu.queueMt(syntheticParts(100, 0, 270).parts[0]!); // a ring: an AT+SBDIXA session while the part waits
    await until(() => pty.emu.commands.includes('AT+SBDIXA'), 5000);
    await until(() => peer.stats().queue.parts === 0, 5000);
    expect(pty.emu.delivered).toEqual(parts);
  });

  it('a restart sends what was queued and not sent; received parts held across it complete the message once', async () => {
    const seen: Uint8Array[] = [];
    const got: ReceivedVoiceMessage[] = [];
    pty.emu.sessionOutcomes.push(32);
    let peer = await start({ decode: fakeDecoder(seen), onMessage: (m) => got.push(m), checkMailboxOnOpen: false, modem: { ...modem, maxAttempts: 1 }, retryMs: 60_000 });
    await until(() => pty.emu.commands.includes('AT+SBDD2'), 5000); // ring alerts on
    const up = syntheticParts(900, 3);
    peer.enqueueParts(up.parts);
    const down = syntheticParts(600, 9, 270);
    pty.emu.queueMt(down.parts[2]!);
    await until(() => peer.stats().received.parts === 1 && peer.stats().sent.failedParts === 1, 5000);
    await peer.close();
    expect(pty.emu.delivered).toEqual([]);

    // The modem's MT buffer still holds part 3 (read again on open: a duplicate); the gateway has 1 and 2.
    pty.emu.gatewayQueue.push(down.parts[0]!, down.parts[1]!);
    peer = await start({ decode: fakeDecoder(seen), onMessage: (m) => got.push(m) });
    await until(() => peer.stats().queue.parts === 0 && got.length === 1, 10_000);
    await until(() => peer.stats().received.duplicates === 1, 5000);
    expect(pty.emu.delivered).toEqual(up.parts);
    expect(seen).toEqual([down.message]);
    const lines = readFileSync(join(dir, 'state', 'messages', 'in.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { messageId: string; transcript: string });
    expect(lines).toEqual([expect.objectContaining({ messageId: got[0]!.messageId, transcript: 'bytes 600' })]);
    expect(existsSync(got[0]!.wavPath)).toBe(true);
  });

  it('a message the modem took from the gateway just before a crash (still in its MT buffer, never journalled) is received on open', async () => {
    const seen: Uint8Array[] = [];
    const { message, parts } = syntheticParts(200, 0, 270);
    pty.emu.loadMtBuffer(parts[0]!);
    const peer = await start({ decode: fakeDecoder(seen), checkMailboxOnOpen: false });
    await until(() => peer.stats().received.messages === 1, 5000);
    expect(seen).toEqual([message]);
    // AT+SBDRB came before the buffers were cleared (AT+SBDD2).
    await until(() => pty.emu.commands.includes('AT+SBDD2'), 5000);
    expect(pty.emu.commands.indexOf('AT+SBDRB')).toBeLessThan(pty.emu.commands.indexOf('AT+SBDD2'));
  });

  it('survives the device going away (a USB modem unplugged) and reopens it when it is back', async () => {
    const peer = await start({ decode: fakeDecoder([]), checkMailboxOnOpen: false, modem: { ...modem, commandTimeoutMs: 300, sessionTimeoutMs: 300 } });
    await until(() => peer.stats().state === 'ready', 5000);
    pty.close();
    const { parts } = syntheticParts(150, 0);
    peer.enqueueParts(parts);
    await until(() => peer.stats().state !== 'ready', 5000);
    pty = await startSbdPty(dir);
    await until(() => peer.stats().queue.parts === 0, 10_000);
    expect(pty.emu.delivered).toEqual(parts);
    expect(peer.stats().state).toBe('ready');
  });

  it('codes one recording at a time and refuses more than maxPendingEncodes waiting (TransportError overflow)', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    let running = 0;
    let most = 0;
    const encode: SbdPeerOptions['encode'] = async (_wav, id) => {
      most = Math.max(most, ++running);
      await gate;
      running--;
      return { parts: syntheticParts(120, id).parts, messageId: null, speechSeconds: 1, transcript: 'x' };
    };
    const peer = await start({ decode: fakeDecoder([]), encode, maxPendingEncodes: 2, checkMailboxOnOpen: false });
    const a = peer.enqueueWav(new Uint8Array(4));
    const b = peer.enqueueWav(new Uint8Array(4));
    await expect(peer.enqueueWav(new Uint8Array(4))).rejects.toMatchObject({ code: 'overflow' });
    release();
    expect((await Promise.all([a, b])).map((r) => r.seq)).toEqual([0, 1]);
    expect(most).toBe(1);
  });

  it('startSbdPeers starts the sbd: peers of a config only; its handler serves /messages for them', async () => {
    const set = await startSbdPeers({
      peers: [{ name: 'shore', url: `sbd:${pty.dte}`, psk: 'x', bitsPerSecond: 300 }, { name: 'lan', url: 'ws://10.0.0.2:7700', psk: 'x', bitsPerSecond: 300 }],
      stateDir: join(dir, 'state'),
      log: silentLogger,
      peerOptions: { decode: fakeDecoder([]), settleMs: 30, checkMailboxOnOpen: false },
    });
    try {
      expect([...set.peers.keys()]).toEqual(['shore']);
      set.peers.get('shore')!.enqueueParts(syntheticParts(100, 0).parts);
      await until(() => pty.emu.delivered.length === 1, 5000);
    } finally {
      await set.close();
      await set.close();
    }
    await expect(startSbdPeers({ peers: [{ name: 'shore', url: 'sbd:/dev/x', psk: 'x', bitsPerSecond: 300 }], stateDir: undefined, log: silentLogger })).rejects.toMatchObject({ code: 'invalid_value' });
  });

  it('refuses parts of several messages, out of order, or too large for the channel', async () => {
    const peer = await start({ decode: fakeDecoder([]), channel: 'sbd-mt' });
    const { parts } = syntheticParts(900, 4, 270);
    expect(() => peer.enqueueParts([parts[1]!, parts[0]!, parts[2]!])).toThrowError(expect.objectContaining({ code: 'invalid_value' }));
    expect(() => peer.enqueueParts(syntheticParts(900, 4, 340).parts)).toThrowError(expect.objectContaining({ code: 'too_large' }));
    expect(peer.stats().queue.messages).toBe(0);
  });

  describeWith('with the real pipeline (pocketsphinx, TTS)', [FESTIVAL, POCKETSPHINX_ADDON, POCKETSPHINX_MODEL, TEXT_MODEL], () => {
    it('a synthesized recording is coded, queued and sent; the same message arriving from the gateway is decoded to a WAV and one transcript line', async () => {
      const wav = join(dir, 'in.wav');
      const say = spawnSync(process.execPath, [BIN, 'say', TEXT, '-o', wav], { encoding: 'utf8' });
      expect(say.status, say.stderr).toBe(0);
      const got: ReceivedVoiceMessage[] = [];
      pty.emu.sessionOutcomes.push(35);
      const peer = await start({ onMessage: (m) => got.push(m), checkMailboxOnOpen: false });
      const r = await peer.enqueueWav(new Uint8Array(readFileSync(wav)));
      expect(r.parts).toBeGreaterThanOrEqual(1);
      expect(r.speechSeconds).toBeGreaterThan(3);
      await until(() => peer.stats().queue.parts === 0, 20_000);
      expect(pty.emu.delivered).toHaveLength(r.parts);
      const sentMessage = reassembleMessage(pty.emu.delivered.map(decodePart)).message;
      const model = await loadDefaultTextModel();
      const transcript = decodeMessage(sentMessage, model).items.flatMap((i) => (i.type === 'phrase' ? [i.text] : [])).join(' ');
      expect(transcript.split(' ').length).toBeGreaterThan(5);

      // Down again (≤ 270-byte parts as the gateway delivers them), twice: one message, one line.
      for (const p of splitMessage(sentMessage, 270, 11).map(encodePart)) pty.emu.queueMt(p);
      await until(() => got.length === 1, 60_000);
      for (const p of splitMessage(sentMessage, 270, 11).map(encodePart)) pty.emu.queueMt(p);
      await until(() => peer.stats().received.duplicates >= 1, 10_000);
      expect(got[0]!.transcript).toBe(transcript);
      const audio = decodeWav(new Uint8Array(readFileSync(got[0]!.wavPath)));
      expect(audio.samples.length / audio.sampleRateHz).toBeGreaterThan(2);
      const lines = readFileSync(join(dir, 'state', 'messages', 'in.jsonl'), 'utf8').trim().split('\n');
      expect(lines.map((l) => JSON.parse(l) as { transcript: string }).map((l) => l.transcript)).toEqual([transcript]);
    }, 120_000);
  });
});
