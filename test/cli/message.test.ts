import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, it } from 'vitest';
import { decodeWav, encodeWav, type MonoAudio } from '../../src/audio/index.ts';
import { MESSAGE_CHANNEL_IDS, MessageIncompleteError, type MessageChannelId } from '../../src/codec/message/index.ts';
import { decodeSpeakerProfile, encodeSpeakerProfile } from '../../src/codec/speaker/index.ts';
import type { TextModel } from '../../src/codec/text/index.ts';
import { createAsrEngine } from '../../src/engines/asr/registry.ts';
import type { AsrEngine, AsrResult } from '../../src/engines/asr/types.ts';
import { loadDefaultTextModel } from '../../src/pipeline/codecs.ts';
import { encodeMessageAudio, type MessageEncodeResult } from '../../src/pipeline/message-encode.ts';
import { readMessage } from '../../src/pipeline/message-decode.ts';
import { partsFromBytes, partsFromSmsText, type ReceivedPart } from '../../src/pipeline/message-parts.ts';
import { festivalSpeech } from '../engines/asr.conformance.ts';
import { describeWith, FESTIVAL, POCKETSPHINX_ADDON, POCKETSPHINX_MODEL, TEXT_MODEL } from '../fixtures/components.ts';
import { seeded } from '../fixtures/seeded.ts';

const BIN = fileURLToPath(new URL('../../bin/stcts.js', import.meta.url));
const SENTENCES = [
  'The ship will reach the harbour at seven.',
  'Keep the radio on channel sixteen.',
  'We have fuel for two more days and water for five.',
  'The wind is from the north at twenty knots.',
  'Call the coast guard if you do not hear from us by noon.',
  'The engine stopped twice this morning but it runs again.',
  'Tell my family that everyone on board is well.',
  'We saw three other boats near the island yesterday.',
];

function run(args: string[], stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
    p.stdin.end(stdin ?? '');
  });
}

/** The sentences, 1 s apart: ~30 s of speech, more than one SMS with its profile. */
function speech(): MonoAudio {
  const parts = SENTENCES.map((s) => festivalSpeech(s).samples);
  const gap = 16000;
  const out = new Float32Array(parts.reduce((n, p) => n + p.length + gap, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length + gap;
  }
  return { samples: out, sampleRateHz: 16000 };
}

function replay(results: AsrResult[]): AsrEngine {
  return {
    id: 'replay',
    async *transcribe(pcm) {
      for await (const _ of pcm) { /* drain */ }
      yield* results;
    },
    async close() {},
  };
}

const received = (r: MessageEncodeResult, order: (xs: MessageEncodeResult['parts']) => MessageEncodeResult['parts'] = (x) => x): ReceivedPart[] =>
  r.channel === 'sms' ? partsFromSmsText(order(r.parts).map((p) => p.text).join('\n'), 'test') : order(r.parts).flatMap((p) => partsFromBytes(p.bytes, 'test', 'binary'));
const transcriptOf = (parts: ReceivedPart[], model: TextModel, known: Uint8Array[] = [], partial = false) =>
  readMessage(parts, model, { knownProfiles: known, partial }).decoded.items.flatMap((i) => (i.type === 'phrase' ? [i.text] : [])).join(' ');

describeWith('voice messages on synthesized speech', [FESTIVAL, POCKETSPHINX_ADDON, POCKETSPHINX_MODEL, TEXT_MODEL], () => {
  const dir = mkdtempSync(join(tmpdir(), 'stcts-message-'));
  const wav = join(dir, 'speech.wav');
  let audio: MonoAudio;
  let results: AsrResult[];
  let model: TextModel;
  beforeAll(async () => {
    audio = speech();
    writeFileSync(wav, encodeWav(audio));
    model = await loadDefaultTextModel();
    const asr = await createAsrEngine('pocketsphinx');
    try {
      const r = await encodeMessageAudio(audio, { id: 'record', transcribe: (pcm, s, h) => record(asr.transcribe(pcm, s, h)), close: async () => {} }, { channel: 'raw' }, model);
      expect(r.phrases).toBeGreaterThanOrEqual(3);
    } finally {
      await asr.close();
    }
  }, 240_000);
  async function* record(it: AsyncIterable<AsrResult>) {
    results = [];
    for await (const r of it) {
      results.push(r);
      yield r;
    }
  }

  for (const channel of MESSAGE_CHANNEL_IDS) {
    it(`${channel}: decoded transcript = encoded transcript, with the profile and with a known one; parts fit`, async () => {
      const full = await encodeMessageAudio(audio, replay(results), { channel, messageId: 9 }, model);
      expect(full.transcript).toBe(results.filter((r) => r.text.trim()).map((r) => r.text).join(' '));
      expect(full.profileByHash).toBe(false);
      expect(transcriptOf(received(full), model)).toBe(full.transcript);
      const known = await encodeMessageAudio(audio, replay(results), { channel, messageId: 9, knownProfiles: [full.profile!] }, model);
      expect(known.profileByHash).toBe(true);
      expect(full.profile).toHaveLength(12); // the compact layout (issue #17) by default
      expect(known.wireBytes).toBeLessThanOrEqual(full.wireBytes - 8);
      expect(transcriptOf(received(known), model, [full.profile!])).toBe(full.transcript);
      const limit = { sms: 125, sbd: 340, 'sbd-mt': 270, meshtastic: 233, raw: 65537 }[channel as MessageChannelId];
      for (const p of full.parts) expect(p.bytes.length).toBeLessThanOrEqual(limit);
      if (channel === 'sms') for (const p of full.parts) expect(p.text!.length).toBeLessThanOrEqual(160);
      expect(full.parts.reduce((s, p) => s + p.speechSeconds, 0)).toBeCloseTo(full.audioSeconds, 1);
    });
  }

  it('sms: parts shuffled and duplicated decode the same; a missing part is named; --partial gives the phrases before it', async () => {
    // The 32-byte profile layout makes this recording two SMS.
    const r = await encodeMessageAudio(audio, replay(results), { channel: 'sms', messageId: 3, profileLayout: 'full' }, model);
    expect(r.parts.length).toBeGreaterThanOrEqual(2);
    const rnd = seeded(5);
    const shuffled = (xs: typeof r.parts) => [...xs, xs[0]!, xs[xs.length - 1]!].map((x) => [rnd(), x] as const).sort((a, b) => a[0] - b[0]).map(([, x]) => x);
    expect(transcriptOf(received(r, shuffled), model)).toBe(r.transcript);
    const last = r.parts.length;
    const gap = received(r, (xs) => xs.filter((p) => p.number !== last));
    let err: unknown;
    try {
      readMessage(gap, model);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MessageIncompleteError);
    expect((err as MessageIncompleteError).missingParts).toEqual([last]);
    const before = transcriptOf(gap, model, [], true);
    expect(r.transcript.startsWith(before)).toBe(true);
    expect(before.length).toBeGreaterThan(0);
    expect(before.length).toBeLessThan(r.transcript.length);
  });

  for (const mode of ['minimal', 'high'] as const) {
    it(`mode ${mode} round-trips (high: word-level detail in the message too)`, async () => {
      const r = await encodeMessageAudio(audio, replay(results), { channel: 'sbd', mode }, model);
      const m = readMessage(received(r), model);
      expect(m.decoded.header.mode).toBe(mode);
      const phrases = m.decoded.items.flatMap((i) => (i.type === 'phrase' ? [i] : []));
      expect(phrases.map((p) => p.text).join(' ')).toBe(r.transcript);
      if (mode === 'high') expect(phrases.every((p) => p.detail && p.detail.length > 0)).toBe(true);
    });
  }

  it('--known-profiles: a close profile of the same speaker is named by hash, a distant one is not', async () => {
    const full = await encodeMessageAudio(audio, replay(results), { channel: 'raw' }, model);
    const p = decodeSpeakerProfile(full.profile!);
    const close = encodeSpeakerProfile({ ...p, hnrDb: p.hnrDb + 1, syllablesPerSecond: p.syllablesPerSecond + 0.2 });
    const far = encodeSpeakerProfile({ ...p, medianF0Hz: p.medianF0Hz * 1.8, formantScale: p.formantScale * 1.2 });
    const snapped = await encodeMessageAudio(audio, replay(results), { channel: 'raw', knownProfiles: [far, close] }, model);
    expect(snapped.profileByHash).toBe(true);
    expect(snapped.profile).toEqual(close);
    const m = readMessage(received(snapped), model, { knownProfiles: [far, close] });
    expect(m.decoded.items[0]).toMatchObject({ type: 'profile', byHash: true, profile: close });
    const notSnapped = await encodeMessageAudio(audio, replay(results), { channel: 'raw', knownProfiles: [far] }, model);
    expect(notSnapped.profileByHash).toBe(false);
  });

  it('sms base64 fallback round-trips', async () => {
    const r = await encodeMessageAudio(audio, replay(results), { channel: 'sms', smsAlphabet: 'base64' }, model);
    for (const p of r.parts) expect(p.text!).toMatch(/^![A-Za-z0-9+/]+$/);
    expect(transcriptOf(received(r), model)).toBe(r.transcript);
  });

  it('CLI: encode --for sms, inspect --json, decode text pasted on stdin, binary parts as OUT.1…', async () => {
    const sms = join(dir, 'msg.sms');
    const prof = join(dir, 'profiles.txt');
    const enc = await run(['message', 'encode', wav, '--for', 'sms', '-o', sms, '--save-profile', prof, '--profile-layout', 'full', '--json', '--quiet']);
    expect(enc.code, enc.stderr).toBe(0);
    const report = JSON.parse(enc.stdout) as { transcript: string; parts: Array<{ chars: number; speechSeconds: number }> };
    expect(report.parts.length).toBeGreaterThanOrEqual(2);
    expect(report.parts.every((p) => p.chars <= 160 && p.speechSeconds >= 0)).toBe(true);
    const lines = readFileSync(sms, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(report.parts.length);

    const ins = await run(['message', 'inspect', sms, '--json']);
    expect(ins.code, ins.stderr).toBe(0);
    const j = JSON.parse(ins.stdout) as { transcript: string; parts: unknown[]; bytes: number; speechSeconds: number };
    expect(j.transcript).toBe(report.transcript);
    expect(j.parts).toHaveLength(lines.length);
    expect(j.bytes).toBeGreaterThan(0);
    expect(j.speechSeconds).toBeGreaterThan(5);

    // As a phone pastes it: parts reversed, lines folded, spaces added.
    const pasted = lines.reverse().map((l) => `  ${l.replace(/(.{50})/g, '$1\n')} `).join('\n\n');
    const out = join(dir, 'out.wav');
    const dec = await run(['message', 'decode', '-o', out, '--quiet'], pasted);
    expect(dec.code, dec.stderr).toBe(0);
    const decoded = decodeWav(new Uint8Array(readFileSync(out)));
    expect(decoded.samples.length / decoded.sampleRateHz).toBeGreaterThan(5);

    const bin = join(dir, 'msg');
    const mesh = await run(['message', 'encode', wav, '--for', 'meshtastic', '-o', bin, '--known-profiles', prof, '--profile-layout', 'full', '--quiet']);
    expect(mesh.code, mesh.stderr).toBe(0);
    expect(mesh.stdout).toMatch(/part 1\/1: \d+ bytes, [\d.]+ s of speech/);
    expect(existsSync(`${bin}.1`)).toBe(true);
    const ins2 = await run(['message', 'inspect', `${bin}.1`, '--json', '--known-profiles', prof]);
    expect(ins2.code, ins2.stderr).toBe(0);
    const j2 = JSON.parse(ins2.stdout) as { transcript: string; profiles: Array<{ byHash: boolean; known: boolean }>; warnings: string[] };
    expect(j2.transcript).toBe(report.transcript);
    expect(j2.profiles[0]).toMatchObject({ byHash: true, known: true });
    expect(j2.warnings).toEqual([]);

    const missing = await run(['message', 'decode', '-o', join(dir, 'x.wav')], lines[0]!);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/\[truncated\].*part/);
    expect(existsSync(join(dir, 'x.wav'))).toBe(false);
  }, 300_000);
});
