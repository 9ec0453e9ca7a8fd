// Measures the real libcodec2 modems through the HF channel simulator (issue #15): bursts decoded
// per SNR for the data modes, coded BER on test frames for the voice modes. Seeded, so a rerun gives
// the same table. Usage:
//   npx tsx scripts/measure-freedv.ts [--channel awgn|good|poor] [--bursts 30] [--voice-s 30]
//       [--modes datac0,datac3,datac1,fsk_ldpc,700d,700e,1600] [--snr=0,-2] [--frames-per-burst 1]
//       [--seed 1] [--json out.json]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { HfChannelKind } from '../src/transport/hf/index.ts';
import { runBurstTrial, runVoiceBerTrial } from '../src/transport/links/freedv/trial.ts';
import type { FreedvDataModeName, FreedvVoiceModeName } from '../src/transport/links/freedv/index.ts';

const { values } = parseArgs({
  options: {
    channel: { type: 'string', default: 'awgn' },
    bursts: { type: 'string', default: '30' },
    'voice-s': { type: 'string', default: '30' },
    modes: { type: 'string', default: 'datac0,datac3,datac1,fsk_ldpc,700d,700e,1600' },
    snr: { type: 'string' },
    json: { type: 'string' },
    seed: { type: 'string', default: '1' },
    'frames-per-burst': { type: 'string', default: '1' },
  },
});

const SNRS: Record<string, number[]> = {
  datac0: [2, 0, -1, -2, -3, -4, -6],
  datac3: [0, -2, -3, -4, -6],
  datac1: [6, 4, 2, 0],
  fsk_ldpc: [-4, -6, -8, -10],
  '700d': [2, 0, -2, -3, -4, -6],
  '700e': [2, 0, -2, -3, -4, -6],
  '1600': [2, 0, -2, -4, -6],
};
const channel = values.channel as HfChannelKind;
const seed = Number(values.seed);
const rows: Array<Record<string, unknown>> = [];
for (const mode of values.modes!.split(',')) {
  const snrs = values.snr ? values.snr.split(',').map(Number) : SNRS[mode]!;
  for (const snrDb of snrs) {
    const t0 = Date.now();
    if (mode in { '700d': 1, '700e': 1, '1600': 1 }) {
      const r = await runVoiceBerTrial({ mode: mode as FreedvVoiceModeName, channel, snrDb, durationS: Number(values['voice-s']), seed });
      rows.push({ mode, channel, snrDb, codedBer: r.codedBer, rawBer: r.rawBer, syncRatio: r.syncRatio, codedBits: r.codedBits });
      console.log(`${mode.padEnd(8)} ${channel} ${String(snrDb).padStart(4)} dB  coded BER ${(100 * r.codedBer).toFixed(2)} %  raw BER ${(100 * r.rawBer).toFixed(2)} %  sync ${(100 * r.syncRatio).toFixed(0)} %  (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    } else {
      const r = await runBurstTrial({ mode: mode as FreedvDataModeName, channel, snrDb, bursts: Number(values.bursts), framesPerBurst: Number(values['frames-per-burst']), seed });
      rows.push({ mode, channel, snrDb, framesSent: r.framesSent, framesDecoded: r.framesDecoded, ratio: r.ratio, snrEstMedianDb: r.snrEstMedianDb });
      console.log(`${mode.padEnd(8)} ${channel} ${String(snrDb).padStart(4)} dB  frames ok ${r.framesDecoded}/${r.framesSent} (${(100 * r.ratio).toFixed(0)} %)  modem SNR est ${r.snrEstMedianDb.toFixed(1)} dB  (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    }
  }
}
if (values.json) writeFileSync(values.json, JSON.stringify({ channel, seed, rows }, null, 2));
