/**
 * Voice-message benchmark (issue #16) on a corpus: one message per speaker (that speaker's
 * utterances in corpus order, 1 s of silence between them), pocketsphinx, one mode.
 *   node --import tsx scripts/bench-message.ts [--corpus /work/shared/corpus/dev] [--mode balanced] [--json]
 * Reports seconds of speech per 160 SMS characters (total speech seconds × 160 ÷ total characters
 * over the messages), with the speaker profile in the message and with a known profile (the
 * receiver holds this speaker's profile: a 12-bit reference), bytes per second of speech for sbd and
 * meshtastic, the same speech as a .stc session for comparison, and whether every message
 * round-trips exactly (decoded transcript = encoded transcript) through its parts. "Speech
 * seconds" are the utterances' own durations (the inserted 1 s gaps are not counted).
 * The recognizer runs once per speaker; every channel variant replays its results
 * (`--asr-cache FILE` keeps them in FILE, so a second run skips the recognizer).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { readCorpus, loadUtteranceAudio } from '../src/eval/corpus.ts';
import { concatSession } from '../src/eval/concat-session.ts';
import { resample } from '../src/audio/index.ts';
import { CODEC_MODES, type CodecMode } from '../src/codec/frame/index.ts';
import { SMS_PART_CHARS, type MessageChannelId } from '../src/codec/message/index.ts';
import { createAsrEngine } from '../src/engines/asr/registry.ts';
import type { AsrEngine, AsrResult } from '../src/engines/asr/types.ts';
import { loadDefaultTextModel } from '../src/pipeline/codecs.ts';
import { encodeAudio } from '../src/pipeline/encode-file.ts';
import { encodeMessageAudio, type MessageEncodeResult } from '../src/pipeline/message-encode.ts';
import { readMessage } from '../src/pipeline/message-decode.ts';
import { partsFromBytes, partsFromSmsText } from '../src/pipeline/message-parts.ts';

const args = process.argv.slice(2);
const flag = (name: string, dflt: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : dflt);
const corpusDir = flag('--corpus', '/work/shared/corpus/dev');
const mode = flag('--mode', 'balanced') as CodecMode;
if (!CODEC_MODES.includes(mode)) throw new Error(`--mode must be one of ${CODEC_MODES.join('|')}`);
const json = args.includes('--json');
const cachePath = args.includes('--asr-cache') ? flag('--asr-cache', '') : undefined;
const cache: Record<string, AsrResult[]> = cachePath && existsSync(cachePath) ? JSON.parse(readFileSync(cachePath, 'utf8')) : {};

/** Replays recorded results (the recognizer ran once); drains the PCM like a real engine. */
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

async function record(asr: AsrEngine, audio: Parameters<typeof encodeMessageAudio>[0]): Promise<AsrResult[]> {
  const out: AsrResult[] = [];
  const pcm = Int16Array.from(audio.samples, (v) => Math.max(-32768, Math.min(32767, Math.round(v * 32767))));
  async function* chunks() {
    for (let i = 0; i < pcm.length; i += 1600) yield pcm.subarray(i, i + 1600);
  }
  for await (const r of asr.transcribe(chunks())) out.push(r);
  return out;
}

function roundTrips(r: MessageEncodeResult, model: Awaited<ReturnType<typeof loadDefaultTextModel>>, known: Uint8Array[]): boolean {
  const received = r.channel === 'sms'
    ? partsFromSmsText(r.parts.map((p) => p.text).reverse().join('\n'), 'bench')
    : r.parts.slice().reverse().flatMap((p) => partsFromBytes(p.bytes, 'bench', 'binary'));
  const m = readMessage(received, model, { knownProfiles: known });
  const transcript = m.decoded.items.flatMap((i) => (i.type === 'phrase' ? [i.text] : [])).join(' ');
  return m.decoded.complete && transcript === r.transcript;
}

const utts = await readCorpus(corpusDir);
const speakers = [...new Set(utts.map((u) => u.speaker))];
const model = await loadDefaultTextModel();
let asrEngine: AsrEngine | undefined;
const asr = async () => (asrEngine ??= await createAsrEngine('pocketsphinx'));
const infoBits: Record<string, number> = {};
const channels: MessageChannelId[] = ['sms', 'sbd', 'meshtastic'];
type Variant = 'profile' | 'known';
const totals: Record<string, { bytes: number; chars: number; parts: number; messageBytes: number }> = {};
const perSpeaker: unknown[] = [];
let speechSeconds = 0;
let messageSeconds = 0;
let stcBytes = 0;
let allExact = true;
const t0 = performance.now();
try {
  for (const spk of speakers) {
    const mine = utts.filter((u) => u.speaker === spk);
    const audios = await Promise.all(mine.map(async (u) => {
      const a = await loadUtteranceAudio(u);
      return { id: u.id, speaker: u.speaker, transcript: u.transcript, audio: a.sampleRateHz === 16000 ? a : resample(a, 16000) };
    }));
    const { audio } = concatSession(audios, 1000);
    const seconds = audios.reduce((s, u) => s + u.audio.samples.length / 16000, 0);
    speechSeconds += seconds;
    messageSeconds += audio.samples.length / 16000;
    process.stderr.write(`speaker ${spk}: ${mine.length} utterances, ${seconds.toFixed(1)} s${cache[spk] ? '' : ' — recognizing'}\n`);
    const results = (cache[spk] ??= await record(await asr(), audio));
    const stc = await encodeAudio(audio, replay(results), { mode, coding: 'lm', sessionId: 1 });
    stcBytes += stc.bytes;
    const row: Record<string, unknown> = { speaker: spk, utterances: mine.length, speechSeconds: Number(seconds.toFixed(2)), stcBytes: stc.bytes };
    let profile: Uint8Array | undefined;
    for (const variant of ['profile', 'known'] as Variant[]) {
      const known = variant === 'known' && profile ? [profile] : [];
      for (const channel of channels) {
        const r = await encodeMessageAudio(audio, replay(results), { channel, mode, knownProfiles: known, messageId: 1 }, model);
        profile ??= r.profile;
        const exact = roundTrips(r, model, known);
        allExact &&= exact;
        const key = `${channel}/${variant}`;
        const t = (totals[key] ??= { bytes: 0, chars: 0, parts: 0, messageBytes: 0 });
        t.bytes += r.wireBytes;
        t.chars += r.chars ?? 0;
        t.parts += r.parts.length;
        t.messageBytes += r.message.length;
        row[key] = { bytes: r.wireBytes, ...(r.chars !== undefined ? { chars: r.chars } : {}), parts: r.parts.length, profileByHash: r.profileByHash, exact };
        if (channel === 'sms' && variant === 'profile') row.transcript = r.transcript;
        if (channel === 'sms') for (const [k, v] of Object.entries(r.infoBits)) infoBits[`${variant}.${k}`] = (infoBits[`${variant}.${k}`] ?? 0) + v;
      }
    }
    perSpeaker.push(row);
  }
} finally {
  await asrEngine?.close();
}
if (cachePath) writeFileSync(cachePath, JSON.stringify(cache));

const sms = (v: Variant) => (speechSeconds * SMS_PART_CHARS) / totals[`sms/${v}`]!.chars;
const bps = (c: MessageChannelId, v: Variant) => totals[`${c}/${v}`]!.bytes / speechSeconds;
const report = {
  corpus: corpusDir,
  mode,
  messages: speakers.length,
  utterances: utts.length,
  speechSeconds: Number(speechSeconds.toFixed(2)),
  messageSeconds: Number(messageSeconds.toFixed(2)),
  smsSecondsPer160Chars: { profile: Number(sms('profile').toFixed(2)), knownProfile: Number(sms('known').toFixed(2)) },
  /** The same over the messages' audio including the inserted 1 s gaps (for comparison only). */
  smsSecondsPer160CharsWithGaps: { profile: Number(((messageSeconds * SMS_PART_CHARS) / totals['sms/profile']!.chars).toFixed(2)), knownProfile: Number(((messageSeconds * SMS_PART_CHARS) / totals['sms/known']!.chars).toFixed(2)) },
  smsChars: { profile: totals['sms/profile']!.chars, knownProfile: totals['sms/known']!.chars },
  smsParts: { profile: totals['sms/profile']!.parts, knownProfile: totals['sms/known']!.parts },
  bytesPerSecond: Object.fromEntries(channels.map((c) => [c, { profile: Number(bps(c, 'profile').toFixed(3)), knownProfile: Number(bps(c, 'known').toFixed(3)) }])),
  messageBytes: { profile: totals['sms/profile']!.messageBytes, knownProfile: totals['sms/known']!.messageBytes },
  stcSessionBytes: stcBytes,
  /** Information content per coded channel over all messages (sms runs), bytes. */
  infoBytes: Object.fromEntries(Object.entries(infoBits).map(([k, v]) => [k, Number((v / 8).toFixed(1))])),
  roundTripExact: allExact,
  elapsedSeconds: Number(((performance.now() - t0) / 1000).toFixed(1)),
  perSpeaker,
};
if (json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
else {
  process.stdout.write(`${report.messages} messages, ${report.speechSeconds} s of speech (${report.messageSeconds} s with the 1 s gaps), mode ${mode}\n`);
  process.stdout.write(`SMS: ${report.smsSecondsPer160Chars.profile} s of speech per 160 characters with the profile, ${report.smsSecondsPer160Chars.knownProfile} with a known profile\n`);
  for (const c of channels) process.stdout.write(`${c}: ${report.bytesPerSecond[c]!.profile} B/s with the profile, ${report.bytesPerSecond[c]!.knownProfile} B/s with a known profile\n`);
  process.stdout.write(`.stc sessions of the same phrases: ${stcBytes} bytes; messages: ${report.messageBytes.profile} bytes\nround trip exact: ${allExact}\n`);
}
