/**
 * Prosody & speaker-profile benchmark on the dev corpus.
 *   npx tsx scripts/bench-prosody.ts [--corpus /work/shared/corpus/dev] [--uniform] [--fresh-state]
 * Word timings come from the pocketsphinx engine (src/engines/asr); with --uniform, or when the
 * engine is unavailable, each utterance is one phrase whose transcript words are spread uniformly
 * over the voiced region (stated in the output).
 * Reports per mode: prosody bit/s (information content of the in-band part; high also counts the
 * detail frame bytes), F0 correlation between analysed log-F0 and the decoded contour on voiced
 * frames (analysis domain), RMS error in semitones; and speaker-profile bytes / same-vs-different
 * speaker distances.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readWavFile } from '../src/audio/index.ts';
import type { MonoAudio } from '../src/audio/pcm.ts';
import { RangeEncoder } from '../src/codec/range/index.ts';
import {
  advanceProsodyState, encodePhraseProsody, encodeProsodyDetail, hzToSt, initialProsodyState, quantizePhraseProsody, renderProsody,
  type PhraseAnalysis, type ProsodyMode, type ProsodyWord,
} from '../src/codec/prosody/index.ts';
import { encodeSpeakerProfile, decodeSpeakerProfile, type SpeakerProfile } from '../src/codec/speaker/index.ts';
import { trackF0 } from '../src/engines/prosody/index.ts';
import { speakerDistance, SpeakerProfileAccumulator } from '../src/engines/speaker/index.ts';

const args = process.argv.slice(2);
const corpus = args.includes('--corpus') ? args[args.indexOf('--corpus') + 1]! : '/work/shared/corpus/dev';
const forceUniform = args.includes('--uniform');
const freshState = args.includes('--fresh-state');
const MODES: ProsodyMode[] = ['minimal', 'balanced', 'high'];

interface Utt { id: string; speaker: string; text: string; audio: MonoAudio }
interface Phrase { startMs: number; words: ProsodyWord[] }

async function phrasesFor(utts: Utt[]): Promise<{ phrases: Map<string, Phrase[]>; source: string }> {
  const phrases = new Map<string, Phrase[]>();
  if (!forceUniform) {
    try {
      const { createAsrEngine, transcribeAudio } = await import('../src/engines/asr/index.ts');
      const asr = await createAsrEngine('pocketsphinx');
      try {
        for (const u of utts) {
          const res = await transcribeAudio(asr, u.audio);
          phrases.set(u.id, res.filter((r) => r.words.length > 0).map((r) => ({
            startMs: r.words[0]!.startMs,
            words: r.words.map((w) => ({ word: w.word, startMs: w.startMs - r.words[0]!.startMs, endMs: w.endMs - r.words[0]!.startMs })),
          })));
        }
      } finally { await asr.close(); }
      return { phrases, source: 'pocketsphinx word timings (ASR words, ASR phrases)' };
    } catch (e) {
      console.error(`ASR unavailable (${(e as Error).message}); falling back to uniform word spacing`);
    }
  }
  for (const u of utts) {
    const f0 = trackF0(u.audio).f0Hz;
    const first = f0.findIndex((v) => v > 0);
    let last = f0.length - 1;
    while (last > 0 && !(f0[last]! > 0)) last--;
    const words = u.text.toLowerCase().split(/\s+/).filter(Boolean);
    const span = Math.max(1, last - first) * 10;
    phrases.set(u.id, [{ startMs: first * 10, words: words.map((word, i) => ({ word, startMs: (i * span) / words.length, endMs: ((i + 1) * span) / words.length - 20 })) }]);
  }
  return { phrases, source: 'UNIFORM word spacing over the voiced region (no forced alignment)' };
}

function profileMedianF0(audio: MonoAudio): number {
  const acc = new SpeakerProfileAccumulator();
  acc.add(audio);
  return decodeSpeakerProfile(encodeSpeakerProfile(acc.profile())).medianF0Hz;
}

function pearson(a: number[], b: number[]): number {
  const n = a.length;
  const ma = a.reduce((s, v) => s + v, 0) / n, mb = b.reduce((s, v) => s + v, 0) / n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) { sab += (a[i]! - ma) * (b[i]! - mb); saa += (a[i]! - ma) ** 2; sbb += (b[i]! - mb) ** 2; }
  return sab / Math.sqrt(saa * sbb || 1);
}

async function main(): Promise<void> {
  const tsv = (await readFile(join(corpus, 'transcripts.tsv'), 'utf8')).trim().split('\n').slice(1);
  const utts: Utt[] = [];
  for (const line of tsv) {
    const [id, speaker, , text] = line.split('\t');
    utts.push({ id: id!, speaker: speaker!, text: text!, audio: await readWavFile(join(corpus, `${id}.wav`)) });
  }
  const totalSec = utts.reduce((s, u) => s + u.audio.samples.length / u.audio.sampleRateHz, 0);
  const t0 = performance.now();
  const tracks = new Map(utts.map((u) => [u.id, trackF0(u.audio)]));
  const f0Sec = (performance.now() - t0) / 1000;
  const { phrases, source } = await phrasesFor(utts);
  const nPhrases = [...phrases.values()].reduce((s, p) => s + p.length, 0);
  console.log(`corpus ${corpus}: ${utts.length} utterances, ${totalSec.toFixed(1)} s, ${nPhrases} phrases; timings: ${source}`);
  console.log(`trackF0: ${f0Sec.toFixed(2)} s for ${totalSec.toFixed(1)} s of audio (${(f0Sec / totalSec).toFixed(3)}× real time)`);

  for (const mode of MODES) {
    let inbandBits = 0, detailBits = 0;
    const corrs: number[] = [];
    let se = 0, nse = 0;
    const pooledA: number[] = [], pooledB: number[] = [];
    // Coding state: one session per speaker (--fresh-state: fresh per utterance, the worst case).
    const states = new Map<string, ReturnType<typeof initialProsodyState>>();
    for (const u of utts) {
      // A session's prediction starts at its speaker profile's median F0 (the profile precedes the
      // first phrase on the wire; here: the profile of the speaker's first utterance, decoded from 32 bytes).
      let state = (freshState ? undefined : states.get(u.speaker)) ?? initialProsodyState(profileMedianF0(u.audio), mode);
      const track = tracks.get(u.id)!;
      const orig: number[] = [], dec: number[] = [];
      for (const ph of phrases.get(u.id)!) {
        const off = Math.round(ph.startMs / 10);
        const a: PhraseAnalysis = { words: ph.words, f0Hz: track.f0Hz.subarray(off), f0FrameMs: 10 };
        const { prosody, detail } = quantizePhraseProsody(a, mode, state);
        const enc = new RangeEncoder();
        encodePhraseProsody(prosody, enc, ph.words.length, state);
        inbandBits += enc.infoBits.get('prosody') ?? 0;
        state = advanceProsodyState(state, prosody);
        if (detail) detailBits += encodeProsodyDetail(detail).bits;
        const r = renderProsody(prosody, ph.words.map((w) => w.word), { detail });
        const s0 = ph.words[0]!.startMs, s1 = ph.words[ph.words.length - 1]!.endMs;
        for (let f = Math.ceil(s0 / 10); f * 10 < s1 && f < a.f0Hz.length; f++) {
          const hz = a.f0Hz[f]!;
          if (!(hz > 0)) continue;
          const j = Math.min(r.f0Hz.length - 1, Math.floor(((f * 10 - s0) / (s1 - s0)) * r.f0Hz.length));
          orig.push(hzToSt(hz)); dec.push(hzToSt(r.f0Hz[j]!));
        }
      }
      states.set(u.speaker, state);
      if (orig.length > 20) {
        corrs.push(pearson(orig, dec));
        orig.forEach((v, i) => { se += (v - dec[i]!) ** 2; nse++; pooledA.push(v); pooledB.push(dec[i]!); });
      }
    }
    const mean = corrs.reduce((s, v) => s + v, 0) / corrs.length;
    const med = corrs.slice().sort((a, b) => a - b)[corrs.length >> 1]!;
    console.log(
      `${mode.padEnd(8)} in-band ${(inbandBits / totalSec).toFixed(2)} bit/s (${(inbandBits / nPhrases).toFixed(1)} bits/phrase)` +
      (detailBits ? ` + detail frames ${(detailBits / totalSec).toFixed(2)} bit/s = ${((inbandBits + detailBits) / totalSec).toFixed(2)} bit/s` : '') +
      ` | log-F0 corr within utterance: mean ${mean.toFixed(3)}, median ${med.toFixed(3)}; pooled ${pearson(pooledA, pooledB).toFixed(3)}; RMS err ${Math.sqrt(se / nse).toFixed(2)} st`,
    );
  }

  // Speaker profiles: one per speaker (all utterances), plus per-utterance for distances.
  const bySpeaker = new Map<string, SpeakerProfileAccumulator>();
  const perUtt: Array<{ speaker: string; p: SpeakerProfile }> = [];
  for (const u of utts) {
    const acc = bySpeaker.get(u.speaker) ?? new SpeakerProfileAccumulator();
    bySpeaker.set(u.speaker, acc);
    acc.add(u.audio);
    const one = new SpeakerProfileAccumulator();
    one.add(u.audio);
    perUtt.push({ speaker: u.speaker, p: decodeSpeakerProfile(encodeSpeakerProfile(one.profile())) });
  }
  for (const [spk, acc] of bySpeaker) {
    const p = acc.profile();
    const bytes = encodeSpeakerProfile(p);
    console.log(`speaker ${spk}: ${bytes.length} bytes; F0 ${p.medianF0Hz.toFixed(0)} Hz, range ${p.f0RangeSemitones.toFixed(1)} st, formant scale ${p.formantScale.toFixed(3)}, tilt ${p.spectralTiltDbPerOctave.toFixed(1)} dB/oct, HNR ${p.hnrDb.toFixed(1)} dB, ${p.syllablesPerSecond.toFixed(2)} syl/s`);
  }
  const same: number[] = [], diff: number[] = [];
  for (let i = 0; i < perUtt.length; i++) for (let j = i + 1; j < perUtt.length; j++) (perUtt[i]!.speaker === perUtt[j]!.speaker ? same : diff).push(speakerDistance(perUtt[i]!.p, perUtt[j]!.p));
  const avg = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  console.log(`speaker distance (per-utterance profiles, decoded from 32 bytes): same-speaker mean ${avg(same).toFixed(2)} (${same.filter((d) => d > 1).length}/${same.length} > 1), different-speaker mean ${avg(diff).toFixed(2)} (${diff.filter((d) => d <= 1).length}/${diff.length} ≤ 1)`);
}

await main();
