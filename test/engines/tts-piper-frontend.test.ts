import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ModelError } from '../../src/core/errors.ts';
import {
  CmuLexicon, DEFAULT_CMUDICT_PATH, letterToSound, numberToWords, parsePiperVoiceConfig, phonemesToIds, phonemizeText,
} from '../../src/engines/tts/piper/index.ts';
import { FIXTURE_SYMBOLS, fixtureVoiceConfig } from './tts-piper/fixtures.ts';
import { CMUDICT, needs } from '../fixtures/components.ts';
import { errorCodeOf } from '../fixtures/errors.ts';

const TINY_DICT = ['the DH AH', 'the(2) DH IY', 'radio R EY D IY OW', 'water W AO T ER', 'return R IH T ER N', 'channel CH AE N AH L',
  'sixteen S IH K S T IY N', 'twelve T W EH L V', 'twenty T W EH N T IY', 'one W AH N', 'point P OY N T', 'five F AY V',
  'abandon AH0 B AE1 N D AH0 N'].join('\n');
const tiny = CmuLexicon.parse(TINY_DICT);
const map = parsePiperVoiceConfig(JSON.stringify(fixtureVoiceConfig())).phonemeIdMap;
const id = (s: string) => FIXTURE_SYMBOLS.indexOf(s);

describe('Piper front end: text → IPA', () => {
  it('maps CMUdict ARPAbet to espeak-style IPA with stress before the vowel', () => {
    const w = phonemizeText('The radio, channel 16!', tiny);
    expect(w.map((x) => x.text)).toEqual(['The', 'radio,', 'channel', '16!']);
    expect(w[0]!.phonemes).toBe('ðə'); // function word: no stress, schwa
    expect(w[1]!.phonemes).toBe('ɹˈeɪdioʊ,');
    expect(w[2]!.phonemes).toBe('tʃˈænəl');
    expect(w[3]!.phonemes).toBe('sɪkstˈiːn!'); // -teen numbers stressed last
  });

  it('keeps stress digits when the dictionary has them; flaps t before an unstressed vowel', () => {
    expect(phonemizeText('abandon', tiny)[0]!.phonemes).toBe('əbˈændən');
    expect(phonemizeText('water', tiny)[0]!.phonemes).toBe('wˈɔːɾɚ');
    expect(phonemizeText('return', tiny)[0]!.phonemes).toBe('ɹɪtˈɜːn');
  });

  it('spells numbers, decimals, ordinals and years', () => {
    expect(numberToWords('12')).toEqual(['twelve']);
    expect(numberToWords('1,205')).toEqual(['one', 'thousand', 'two', 'hundred', 'five']);
    expect(numberToWords('3.05')).toEqual(['three', 'point', 'zero', 'five']);
    expect(numberToWords('21st')).toEqual(['twenty', 'first']);
    expect(numberToWords('1984')).toEqual(['nineteen', 'eighty', 'four']);
    expect(numberToWords('2000000')).toEqual(['two', 'million']);
    expect(numberToWords('abc')).toEqual([]);
    expect(phonemizeText('21.5', tiny)[0]!.phonemes).toBe('twˈɛnti wˈʌn pˈɔɪnt fˈaɪv');
  });

  it('falls back to letter-to-sound rules, and spells acronyms', () => {
    expect(letterToSound('brightline')).toEqual(['B', 'R', 'AY', 'T', 'L', 'AY', 'N']);
    expect(letterToSound('shape')).toEqual(['SH', 'EY', 'P']);
    expect(letterToSound('bcd')).toEqual(['B', 'IY1', 'S', 'IY1', 'D', 'IY1']);
    expect(phonemizeText('NATO', tiny)[0]!.phonemes).toBe('ˈɛnˈeɪtˈiːˈoʊ');
    expect(phonemizeText('\\ "', tiny).map((w) => w.phonemes)).toEqual(['', '']);
  });

  if (needs({ ...CMUDICT, available: existsSync(DEFAULT_CMUDICT_PATH) })) it('reads the Debian pocketsphinx CMUdict', () => {
    const lex = CmuLexicon.load();
    expect(lex.size).toBeGreaterThan(100_000);
    expect(phonemizeText('the radio is on channel sixteen', lex).map((w) => w.phonemes).join(' ')).toBe('ðə ɹˈeɪdioʊ ɪz ˈɑːn tʃˈænəl sɪkstˈiːn');
  });
});

describe('Piper front end: IPA → ids', () => {
  it('lays ids out as ^ _ p _ p _ … $ with a space phoneme between words', () => {
    const r = phonemesToIds(phonemizeText('the radio', tiny), map);
    const want = ['^', '_', 'ð', '_', 'ə', '_', ' ', '_', 'ɹ', '_', 'ˈ', '_', 'e', '_', 'ɪ', '_', 'd', '_', 'i', '_', 'o', '_', 'ʊ', '_', '$'].map(id);
    expect(r.ids).toEqual(want);
    expect(r.wordSpans).toEqual([[2, 6], [8, 24]]);
    expect(r.missing).toEqual([]);
  });

  it('skips and reports phonemes the voice lacks; silent words get empty spans', () => {
    const small = new Map([['_', [0]], ['^', [1]], ['$', [2]], [' ', [3]], ['t', [4]]]);
    const r = phonemesToIds([{ text: 'x', phonemes: 'tx' }, { text: '-', phonemes: '' }, { text: 'y', phonemes: 't' }], small);
    expect(r.ids).toEqual([1, 0, 4, 0, 3, 0, 4, 0, 2]);
    expect(r.missing).toEqual(['x']);
    expect(r.wordSpans).toEqual([[2, 4], [4, 4], [6, 8]]);
  });

  it('rejects voice configs without the special symbols or a sample rate', () => {
    const cfg = fixtureVoiceConfig();
    const noPad = { ...cfg, phoneme_id_map: { '^': [1], '$': [2] } };
    for (const bad of ['{', JSON.stringify(noPad), JSON.stringify({ ...cfg, audio: {} })]) {
      expect(errorCodeOf(() => parsePiperVoiceConfig(bad), ModelError)).toBe('bad_model');
    }
    const ok = parsePiperVoiceConfig(JSON.stringify(cfg));
    expect([ok.sampleRateHz, ok.noiseScale, ok.lengthScale, ok.noiseW]).toEqual([22050, 0.667, 1, 0.8]);
  });
});
