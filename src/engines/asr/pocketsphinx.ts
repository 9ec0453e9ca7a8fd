import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { VadOptions } from '../../audio/vad.ts';
import { createVad, type VadId } from '../vad/index.ts';
import type { Pcm16k } from '../../audio/pcm.ts';
import { EngineUnavailableError, InvalidStateError } from '../../core/errors.ts';
import type { AsrEngine, AsrHooks, AsrResult, AsrWord } from './types.ts';
import { recognizePhrases } from './phrase-stream.ts';

export interface PocketsphinxOptions {
  /** Acoustic model directory. Env STCTS_PS_HMM; default Debian's en-us. */
  hmm: string;
  /** Language model. Env STCTS_PS_LM. */
  lm: string;
  /** Pronunciation dictionary. Env STCTS_PS_DICT. */
  dict: string;
  /** Alternatives per utterance (0 = none). Default 0. */
  nbest: number;
  vad: Partial<VadOptions>;
  /** Phrase detector: Silero (default when it loads) or the energy VAD. Env STCTS_VAD. */
  vadId: VadId;
  /** Start decoding a phrase at the VAD's tentative end (see VadOptions.tentativeSilenceMs). Default true. */
  speculative: boolean;
  /**
   * Extra pocketsphinx flags. Default `-maxhmmpf 3000` (at most 3000 active HMMs per frame): on the dev
   * corpus (VAD phrases) VAD + recognition take RTF 0.156 instead of 0.238 for WER 0.301 instead of
   * 0.291; decoding time is most of the live link's latency (issue #7). Tighter settings
   * (`-topn 2`, `-maxwpf 5`) were faster still but cost 4 WER points.
   * Re-checked two-fold (issue #17; `node --import tsx scripts/tune-asr.ts --json`: dev speakers split
   * 237 4446 260 6930 / 1580 5142 2830, coordinate search over -lw, -bestpathlw, -wip, -beam/-wbeam,
   * -fwdflat/-bestpath, -maxhmmpf): each fold's best setting lowered its tuning half's errors but raised
   * the held-out half's (0.259 → 0.276 and 0.295 → 0.316), so this default stays (dev WER 0.282).
   */
  decoderFlags: Record<string, string>;
}

const MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';

export function defaultPocketsphinxOptions(): PocketsphinxOptions {
  return {
    hmm: process.env.STCTS_PS_HMM ?? `${MODEL_DIR}/en-us`,
    lm: process.env.STCTS_PS_LM ?? `${MODEL_DIR}/en-us.lm.bin`,
    dict: process.env.STCTS_PS_DICT ?? `${MODEL_DIR}/cmudict-en-us.dict`,
    nbest: 0,
    vad: {},
    vadId: (process.env.STCTS_VAD as VadId | undefined) ?? 'auto',
    speculative: true,
    decoderFlags: { '-maxhmmpf': '3000' },
  };
}

const ADDON_PATH = fileURLToPath(new URL('../../../native/pocketsphinx/build/Release/stcts_pocketsphinx.node', import.meta.url));
const FILLER = /^(<s>|<\/s>|<sil>|\[NOISE\]|\+\+.*\+\+|\[.*\])$/i;

interface NativeDecoder {
  decode(pcm: Int16Array, nbest: number): Promise<{ text: string; words: Array<{ word: string; startFrame: number; endFrame: number; prob: number }>; nbest: string[] }>;
  close(): void;
  readonly frameRate: number;
}

function loadAddon(o: PocketsphinxOptions): NativeDecoder {
  for (const [what, path] of [['acoustic model', o.hmm], ['language model', o.lm], ['dictionary', o.dict]] as const) {
    if (!existsSync(path)) throw new EngineUnavailableError('pocketsphinx', `pocketsphinx ${what} not found at ${path}`, 'apt-get install pocketsphinx-en-us, or set STCTS_PS_HMM/STCTS_PS_LM/STCTS_PS_DICT');
  }
  if (!existsSync(ADDON_PATH)) {
    throw new EngineUnavailableError('pocketsphinx', 'the pocketsphinx addon is not built', 'apt-get install libpocketsphinx-dev libsphinxbase-dev pkg-config build-essential, then node scripts/build-native.mjs');
  }
  const addon = createRequire(import.meta.url)(ADDON_PATH) as { Decoder: new (o: { hmm: string; lm: string; dict: string; extra: string[] }) => NativeDecoder };
  return new addon.Decoder({ hmm: o.hmm, lm: o.lm, dict: o.dict, extra: Object.entries(o.decoderFlags).flat() });
}

/** Upper-case words without fillers and `(2)` pronunciation variants: the LibriSpeech/ASR style. */
export function cleanWord(w: string): string | undefined {
  if (FILLER.test(w)) return undefined;
  return w.replace(/\(\d+\)$/, '').toUpperCase();
}

/**
 * pocketsphinx (Debian, N-API addon): the VAD (Silero, or the energy VAD) cuts the stream into phrases as they end;
 * each phrase is decoded on the thread pool and yielded with word times (stream-relative ms) and
 * posteriors. One phrase is decoded at a time per engine.
 */
export class PocketsphinxEngine implements AsrEngine {
  readonly id = 'pocketsphinx';
  private decoder: NativeDecoder | undefined;
  private busy: Promise<unknown> = Promise.resolve();

  constructor(readonly options: PocketsphinxOptions = defaultPocketsphinxOptions()) {
    this.decoder = loadAddon(options);
  }

  /** Decodes one complete phrase; times relative to the phrase start. */
  async decodePhrase(pcm: Int16Array): Promise<{ text: string; words: AsrWord[]; nbest: string[] }> {
    const dec = this.decoder;
    if (!dec) throw new InvalidStateError('PocketsphinxEngine used after close()');
    const run = this.busy.then(() => dec.decode(pcm, this.options.nbest));
    this.busy = run.catch(() => {});
    const r = await run;
    const msPerFrame = 1000 / dec.frameRate;
    const words: AsrWord[] = [];
    for (const w of r.words) {
      const word = cleanWord(w.word);
      if (word) words.push({ word, startMs: w.startFrame * msPerFrame, endMs: (w.endFrame + 1) * msPerFrame, confidence: Math.max(0, Math.min(1, w.prob)) });
    }
    return { text: words.map((w) => w.word).join(' '), words, nbest: r.nbest.map((h) => h.split(' ').map(cleanWord).filter(Boolean).join(' ')) };
  }

  async *transcribe(pcm: AsyncIterable<Pcm16k>, signal?: AbortSignal, hooks?: AsrHooks): AsyncIterable<AsrResult> {
    const vad = await createVad(this.options.vadId, this.options.vad);
    yield* recognizePhrases(pcm, vad, async ({ pcm: audio, offsetMs }) => {
      const r = await this.decodePhrase(audio);
      if (!r.text) return undefined;
      const words = r.words.map((w) => ({ ...w, startMs: w.startMs + offsetMs, endMs: w.endMs + offsetMs }));
      return { text: r.text, startMs: words[0]?.startMs ?? offsetMs, endMs: words.at(-1)?.endMs ?? offsetMs + audio.length / 16, words, nbest: r.nbest };
    }, { speculative: this.options.speculative, onTentative: hooks?.onTentative, signal });
  }

  /** Idempotent. */
  async close(): Promise<void> {
    await this.busy;
    this.decoder?.close();
    this.decoder = undefined;
  }
}
