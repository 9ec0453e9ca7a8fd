import { UsageError } from '../../../core/errors.ts';
import { NoPtt, type Ptt } from '../ptt/types.ts';
import { RigctldPtt } from '../ptt/rigctld.ts';
import type { ModemAudioPort } from './audio-port.ts';
import { FreedvLink, type FreedvLinkOptions } from './link.ts';
import { FREEDV_DATA_MODES, type FreedvDataModeName } from './modes.ts';
import { alsaAudioPort, stdioAudioPort } from './stream-audio-port.ts';

/**
 * The `freedv://` link URL (issue #15 part 3):
 *   freedv://?modes=auto|datac0|datac3|datac1|fsk_ldpc_200|fsk_ldpc[,…]&audio=alsa:DEVICE|stdio|sim
 *            &ptt=rigctld://HOST:PORT|none&txdelay=MS&txtail=MS&holdoff=MS&frames=N
 * `modes=auto` is {@link FREEDV_AUTO_MODES}. `audio=stdio`: raw 8 kHz s16le mono PCM on stdin
 * (receiver) / stdout (transmitter); `alsa:plughw:1,0` through arecord/aplay; `sim`: the caller
 * hands the port (hf-sim). Defaults: modes=datac0, audio=stdio, ptt=none, txdelay=100, txtail=20.
 */

export type FreedvAudioSpec = { kind: 'alsa'; device: string } | { kind: 'stdio' } | { kind: 'sim' };
export type FreedvPttSpec = { kind: 'rigctld'; host: string; port: number } | { kind: 'none' };

export interface FreedvUrl {
  /** Candidate modes, in the order conditions worsen (datac1, datac0, datac3, fsk_ldpc_200, fsk_ldpc). */
  modes: FreedvDataModeName[];
  /** True when the URL said `modes=auto`. */
  auto: boolean;
  audio: FreedvAudioSpec;
  ptt: FreedvPttSpec;
  options: Partial<Omit<FreedvLinkOptions, 'ptt' | 'mode'>>;
}

/**
 * What `modes=auto` stands for, in the order conditions worsen (adaptive.ts MODE_MIN_SNR_DB): DATAC0
 * (short frames: low latency, to −2 dB), FSK_LDPC at 200 baud (to −4 dB), FSK_LDPC at 100 baud (to
 * −8 dB). DATAC3 is left out: at −2 dB its 3.2-s frames were slower than 200-baud FSK (median 8.2 s
 * against 6.9 s in hf-sim) and it fails at −4; DATAC1: its sync search is CPU-heavy and every
 * candidate is demodulated all the time.
 */
export const FREEDV_AUTO_MODES: readonly FreedvDataModeName[] = Object.freeze(['datac0', 'fsk_ldpc_200', 'fsk_ldpc']);

const USAGE = 'use freedv://?modes=auto|datac0|datac3|datac1|fsk_ldpc_200|fsk_ldpc[,…]&audio=alsa:DEVICE|stdio|sim&ptt=rigctld://HOST:PORT|none&txdelay=MS&txtail=MS&holdoff=MS&frames=N';
const CAPABILITY: readonly FreedvDataModeName[] = ['datac1', 'datac0', 'datac3', 'fsk_ldpc_200', 'fsk_ldpc'];

export function parseFreedvUrl(url: string): FreedvUrl {
  const bad = (why: string) => new UsageError(`${why} in link URL '${url}': ${USAGE}`);
  const m = /^freedv:(?:\/\/)?([^?#]*)(?:\?([^#]*))?$/i.exec(url);
  if (!m) throw bad('not a freedv:// URL');
  if (m[1] !== '' && m[1] !== '/') throw bad(`unexpected '${m[1]}' before '?' (everything goes in the query)`);
  const out: FreedvUrl = { modes: ['datac0'], auto: false, audio: { kind: 'stdio' }, ptt: { kind: 'none' }, options: {} };
  const int = (key: string, v: string, min: number, max: number): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min || n > max) throw bad(`${key}=${v} is not an integer ${min}–${max}`);
    return n;
  };
  const seen = new Set<string>();
  for (const [key, v] of new URLSearchParams(m[2] ?? '')) {
    if (seen.has(key)) throw bad(`${key}= given twice`);
    seen.add(key);
    switch (key) {
      case 'modes':
      case 'mode': {
        if (v.toLowerCase() === 'auto') {
          out.modes = [...FREEDV_AUTO_MODES];
          out.auto = true;
          break;
        }
        const modes = v.toLowerCase().split(',');
        for (const mode of modes) if (!(mode in FREEDV_DATA_MODES)) throw bad(`unknown mode '${mode}'`);
        if (new Set(modes).size !== modes.length) throw bad('a mode is listed twice');
        out.modes = CAPABILITY.filter((c) => modes.includes(c));
        break;
      }
      case 'audio':
        if (v === 'stdio' || v === 'sim') out.audio = { kind: v };
        else if (/^alsa:./.test(v)) out.audio = { kind: 'alsa', device: v.slice(5) };
        else throw bad(`audio=${v} is not alsa:DEVICE, stdio or sim`);
        break;
      case 'ptt': {
        if (v === 'none') {
          out.ptt = { kind: 'none' };
          break;
        }
        const r = /^rigctld:\/\/([^:/]+):(\d{1,5})\/?$/.exec(v);
        if (!r) throw bad(`ptt=${v} is not rigctld://HOST:PORT or none`);
        out.ptt = { kind: 'rigctld', host: r[1]!, port: int('ptt port', r[2]!, 1, 65535) };
        break;
      }
      case 'txdelay':
        out.options.txDelayMs = int(key, v, 0, 5000);
        break;
      case 'txtail':
        out.options.txTailMs = int(key, v, 0, 5000);
        break;
      case 'holdoff':
        out.options.holdoffMs = int(key, v, 0, 60000);
        break;
      case 'frames':
        out.options.framesPerBurst = int(key, v, 1, 8);
        break;
      default:
        throw bad(`unknown parameter '${key}'`);
    }
  }
  return out;
}

export interface OpenFreedvLinkOptions {
  /** The modem audio for `audio=sim` (e.g. one end of a SimulatedHfAudio); required there. */
  port?: ModemAudioPort;
  /** Link options over the URL's. */
  link?: Partial<Omit<FreedvLinkOptions, 'ptt' | 'mode'>>;
}

/**
 * Opens the link a `freedv://` URL names: connects the PTT first (a refused rigctld is a
 * TransportError before any audio device is opened), then the audio. With several modes (or
 * `auto`) the link is adaptive (FreedvLinkOptions.modes), starting in the first.
 */
export async function openFreedvLink(url: string, options: OpenFreedvLinkOptions = {}): Promise<FreedvLink> {
  const u = parseFreedvUrl(url);
  if (u.audio.kind === 'sim' && !options.port) throw new UsageError(`audio=sim in '${url}' needs the simulated port from the caller (hf-sim); use audio=stdio or audio=alsa:DEVICE`);
  const ptt: Ptt = u.ptt.kind === 'rigctld' ? await RigctldPtt.connect({ host: u.ptt.host, port: u.ptt.port }) : new NoPtt();
  let port: ModemAudioPort;
  try {
    port = options.port ?? (u.audio.kind === 'alsa' ? alsaAudioPort(u.audio.device) : stdioAudioPort());
  } catch (err) {
    await ptt.close();
    throw err;
  }
  return new FreedvLink(port, { ...u.options, ...options.link, mode: u.modes[0]!, ...(u.modes.length > 1 ? { modes: u.modes } : {}), ptt });
}
