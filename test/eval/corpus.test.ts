import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeWav } from '../../src/audio/index.ts';
import { CorpusError, readCorpus } from '../../src/eval/corpus.ts';

const wav = (seconds: number) => encodeWav({ samples: new Float32Array(16000 * seconds), sampleRateHz: 16000 });

describe('readCorpus', () => {
  it('reads transcripts.tsv in file order', async () => {
    const d = mkdtempSync(join(tmpdir(), 'corpus-'));
    writeFileSync(join(d, 'transcripts.tsv'), 'id\tspeaker\tsex\ttranscript\nb-1\t7\tF\tHELLO THERE\na-2\t8\tM\tGOOD DAY\n');
    writeFileSync(join(d, 'b-1.wav'), wav(1));
    writeFileSync(join(d, 'a-2.wav'), wav(2));
    const c = await readCorpus(d);
    expect(c.map((u) => [u.id, u.speaker, u.sex, u.transcript, u.durationSec])).toEqual([
      ['b-1', '7', 'F', 'HELLO THERE', 1],
      ['a-2', '8', 'M', 'GOOD DAY', 2],
    ]);
  });

  it('reads the LibriSpeech layout with sorted ids', async () => {
    const d = mkdtempSync(join(tmpdir(), 'libri-'));
    const ch = join(d, '12', '34');
    mkdirSync(ch, { recursive: true });
    writeFileSync(join(ch, '12-34.trans.txt'), '12-34-0002 SECOND ONE\n12-34-0001 FIRST ONE\n');
    writeFileSync(join(ch, '12-34-0001.wav'), wav(1));
    writeFileSync(join(ch, '12-34-0002.wav'), wav(1));
    const c = await readCorpus(d);
    expect(c.map((u) => [u.id, u.speaker, u.transcript])).toEqual([
      ['12-34-0001', '12', 'FIRST ONE'],
      ['12-34-0002', '12', 'SECOND ONE'],
    ]);
  });

  it.each([
    ['not_found', (d: string) => d + '/nope'],
    ['missing_audio', (d: string) => { writeFileSync(join(d, 'transcripts.tsv'), 'id\tspeaker\tsex\ttranscript\nx\t1\tF\tHI\n'); return d; }],
    ['malformed', (d: string) => { writeFileSync(join(d, 'transcripts.tsv'), 'name\twords\n'); return d; }],
  ] as const)('gives CorpusError %s', async (code, setup) => {
    const d = setup(mkdtempSync(join(tmpdir(), 'bad-')));
    await expect(readCorpus(d)).rejects.toSatisfy((e: unknown) => e instanceof CorpusError && e.code === code);
  });
});
