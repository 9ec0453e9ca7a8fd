// Writes the golden wire-format vectors test/vectors/*.stc with the decoded form beside each as .json.
// Run after a deliberate wire-format change: node --import tsx scripts/gen-vectors.ts
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeFrameStream, framesToJson, type Frame } from '../src/codec/frame/index.ts';
import { sampleEmbeddingSession, sampleSession } from '../test/codec/frame/sample-frames.ts';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'vectors');


const vectors: Record<string, Frame[]> = {
  'session-basic': sampleSession(),
  'header-only': sampleSession().slice(0, 1),
  'speaker-embedding': sampleEmbeddingSession(),
};
for (const [name, frames] of Object.entries(vectors)) {
  writeFileSync(join(dir, `${name}.stc`), encodeFrameStream(frames));
  writeFileSync(join(dir, `${name}.json`), framesToJson(frames));
  console.log(`wrote test/vectors/${name}.stc`);
}
