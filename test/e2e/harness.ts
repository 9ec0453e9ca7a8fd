/**
 * Helpers for the headless-Chromium tests of the browser client (issue #8): Festival speech as the
 * fake microphone, Chromium through playwright-core, a fake daemon core that echoes, and
 * recognition of what a page played.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeWav, encodeWav } from '../../src/audio/wav.ts';
import { resample } from '../../src/audio/resample.ts';
import type { MonoAudio } from '../../src/audio/pcm.ts';
import type { LocalClientServer, LocalEndpoint, LocalEndpointHost } from '../../src/daemon/types.ts';
import { createAsrEngine, transcribeAudio } from '../../src/engines/asr/registry.ts';

export const CHROMIUM = process.env['STCTS_CHROMIUM'] ?? '/usr/bin/chromium';
export const HAVE_CHROMIUM = existsSync(CHROMIUM);
export const HAVE_TEXT2WAVE = existsSync('/usr/bin/text2wave');
export const HAVE_POCKETSPHINX =
  existsSync('/usr/share/pocketsphinx/model/en-us/en-us.lm.bin') && existsSync(new URL('../../native/pocketsphinx/build/Release/stcts_pocketsphinx.node', import.meta.url));

/** Festival speech of `text` followed by `silenceMs` of silence, 16 kHz. */
export function festivalSpeech(text: string, silenceMs = 2500): MonoAudio {
  const dir = mkdtempSync(join(tmpdir(), 'stcts-e2e-'));
  const txt = join(dir, 'in.txt');
  const wav = join(dir, 'out.wav');
  writeFileSync(txt, text);
  execFileSync('text2wave', ['-o', wav, txt]);
  const a = decodeWav(new Uint8Array(readFileSync(wav)));
  const speech = a.sampleRateHz === 16000 ? a.samples : resample(a, 16000).samples;
  const out = new Float32Array(speech.length + Math.round(silenceMs * 16));
  out.set(speech);
  return { samples: out, sampleRateHz: 16000 };
}

/** Writes audio as a 16-bit WAV (what Chromium's fake capture device reads) and returns its path. */
export function writeWavFile(audio: MonoAudio, name = 'mic.wav'): string {
  const dir = mkdtempSync(join(tmpdir(), 'stcts-e2e-'));
  const path = join(dir, name);
  writeFileSync(path, encodeWav(audio));
  return path;
}

/** Launches headless Chromium whose microphone plays `micWav` in a loop. */
export async function launchChromium(micWav: string) {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${micWav}`,
      '--autoplay-policy=no-user-gesture-required',
      '--no-sandbox',
    ],
  });
}

/** Words recognized by pocketsphinx in `audio` (upper case). */
export async function recognizeWords(audio: MonoAudio): Promise<string[]> {
  const engine = await createAsrEngine('pocketsphinx');
  try {
    const results = await transcribeAudio(engine, audio);
    return results.flatMap((r) => r.text.split(/\s+/)).filter(Boolean).map((w) => w.toUpperCase());
  } finally {
    await engine.close();
  }
}

/** Fraction of `expected` words found (each found word used once). */
export function fractionFound(expected: string[], found: string[]): number {
  const pool = found.map((w) => w.toUpperCase());
  let hits = 0;
  for (const w of expected) {
    const i = pool.indexOf(w.toUpperCase());
    if (i >= 0) {
      hits++;
      pool.splice(i, 1);
    }
  }
  return hits / expected.length;
}

/** Decodes what a page recorded (window.stcts.recording()). */
export function decodeRecording(r: { sampleRateHz: number; base64: string }): MonoAudio {
  const bytes = Buffer.from(r.base64, 'base64');
  const pcm = new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length >> 1);
  return { samples: Float32Array.from(pcm, (v) => v / 32768), sampleRateHz: r.sampleRateHz };
}

/**
 * A stand-in for the daemon core: records the endpoint's microphone, and from `echoAfterMs` on
 * plays it back (1 s blocks) so a page hears itself; sends a transcript and a link event.
 */
export class EchoHost implements LocalEndpointHost {
  readonly mic: Int16Array[] = [];
  readonly endpoints: LocalEndpoint[] = [];
  constructor(private readonly echoAfterMs = 0) {}

  micAudio(): MonoAudio {
    const n = this.mic.reduce((a, c) => a + c.length, 0);
    const out = new Float32Array(n);
    let o = 0;
    for (const c of this.mic) for (let i = 0; i < c.length; i++) out[o++] = (c[i] as number) / 32768;
    return { samples: out, sampleRateHz: 16000 };
  }

  async attach(endpoint: LocalEndpoint): Promise<void> {
    this.endpoints.push(endpoint);
    endpoint.event({ type: 'link', peer: 'echo', state: 'connected', bitsPerSecondOut: 0, bitsPerSecondIn: 0, bitsOutTotal: 0, bitsInTotal: 0 });
    endpoint.event({ type: 'transcript', direction: 'in', text: 'ECHO READY', atMs: Date.now() });
    const t0 = Date.now();
    let block: Int16Array[] = [];
    let blockLen = 0;
    for await (const chunk of endpoint.mic) {
      this.mic.push(chunk);
      if (Date.now() - t0 < this.echoAfterMs) continue;
      block.push(chunk);
      blockLen += chunk.length;
      if (blockLen >= 16000) {
        const f = new Float32Array(blockLen);
        let o = 0;
        for (const c of block) for (let i = 0; i < c.length; i++) f[o++] = (c[i] as number) / 32768;
        block = [];
        blockLen = 0;
        await endpoint.play(f, 16000);
      }
    }
  }
}

/** An HTTP server that hands everything to a LocalClientServer (as the daemon does). */
export async function serveLocalClients(local: LocalClientServer): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (!local.handleRequest(req, res)) res.writeHead(404).end();
  });
  server.on('upgrade', (req, socket, head) => {
    if (!local.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    server,
    url: `http://127.0.0.1:${port}/`,
    close: async () => {
      await local.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
