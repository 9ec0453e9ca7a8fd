import { ConfigError, UsageError } from '../core/errors.ts';
import { checkKeyStrength, readKeyFile } from '../daemon/config.ts';
import type { LinkOptions } from '../transport/emulator.ts';
import { arqTuning, kissCost, udpCost, webSocketCost, type LinkUrlOptions, type PacketCostModel } from '../transport/links/index.ts';
import { numberFlag, stringFlag, type ParsedArgs } from './args.ts';

/** Flags shared by `stcts relay` and `stcts sim` that describe the emulated link. */
export const LINK_FLAGS = ['bps', 'loss', 'burst', 'delay-ms', 'jitter-ms', 'seed', 'outage'];

export const LINK_FLAGS_USAGE = `  --bps N           link rate, bit/s (default 300)
  --loss P          mean packet loss 0..1 (default 0)
  --burst K         mean loss burst in packets; 1 = random loss, >1 = Gilbert–Elliott (default 1)
  --delay-ms D      one-way delay (default 0)      --jitter-ms J   ± jitter (default 0)
  --outage S:D      an outage starting at S seconds lasting D seconds (repeatable as S:D,S:D)
  --seed N          random seed (default 1)`;

export function linkOptionsFrom(p: ParsedArgs): Partial<LinkOptions> {
  const o: Partial<LinkOptions> = {
    bitsPerSecond: numberFlag(p, 'bps', { min: 1 }) ?? 300,
    lossRate: numberFlag(p, 'loss', { min: 0, max: 0.99 }) ?? 0,
    meanBurstPackets: numberFlag(p, 'burst', { min: 1 }) ?? 1,
    delayMs: numberFlag(p, 'delay-ms', { min: 0 }) ?? 0,
    jitterMs: numberFlag(p, 'jitter-ms', { min: 0 }) ?? 0,
    seed: numberFlag(p, 'seed') ?? 1,
  };
  const outage = stringFlag(p, 'outage');
  if (outage) {
    o.outages = outage.split(',').map((w) => {
      const m = /^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(w);
      if (!m) throw new UsageError(`--outage takes START_S:DURATION_S, got '${w}'`);
      return { startMs: Number(m[1]) * 1000, durationMs: Number(m[2]) * 1000 };
    });
  }
  return o;
}

export function hostPort(s: string | undefined, flag: string): { host: string; port: number } {
  const m = s ? /^(.*):(\d+)$/.exec(s) : null;
  if (!m) throw new UsageError(`--${flag} takes HOST:PORT`);
  return { host: m[1] || '127.0.0.1', port: Number(m[2]) };
}

export const PSK_FLAG_USAGE = `  --psk-file F      pre-shared key (≥ 128 bits as hex or base64, mode 600: \`openssl rand -hex 32 > F; chmod 600 F\`;
                    the other end uses the same file): mutual authentication, every packet encrypted and tagged (+10 bytes)`;

/** The key of `--psk-file F` (trimmed), or undefined without the flag. */
export function pskFrom(p: ParsedArgs): string | undefined {
  const file = stringFlag(p, 'psk-file');
  if (file === undefined) return undefined;
  // The daemon's checks (issue #20): mode 0600, no placeholder, ≥ 128 bits of hex/base64 key material.
  try {
    const key = readKeyFile(file, '--psk-file');
    checkKeyStrength(key, `--psk-file ${file}`);
    return key;
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
}

/** Link kinds `stcts sim --link` emulates with their cost model (src/transport/links/cost.ts). */
export const SIM_LINK_KINDS = ['raw', 'ws', 'udp', 'kiss-1200', 'kiss-300'] as const;
export type SimLinkKind = (typeof SIM_LINK_KINDS)[number];

export const SIM_LINK_USAGE = `  --link K          raw (packets only, default) | ws | udp (their headers on the --bps budget) |
                    kiss-1200 | kiss-300 (KISS TNC on 1200 bd AFSK / 300 bd HF AFSK: AX.25-size framing,
                    key-up and tail per packet at the modem rate, half duplex; --bps is then ignored)
  --txdelay-ms T    KISS transmitter key-up per packet (default 300, direwolf's)   --txtail-ms T (default 100)`;

/**
 * The emulated link of `stcts sim --link K`: the emulator options with the kind's cost model, and
 * the ARQ settings that follow from it (arqTuning).
 */
export function simLinkFrom(p: ParsedArgs, kind: SimLinkKind): { link: Partial<LinkOptions>; tuning: ReturnType<typeof arqTuning>; cost?: PacketCostModel } {
  const link = linkOptionsFrom(p);
  const budget = link.bitsPerSecond ?? 300;
  let cost: PacketCostModel | undefined;
  if (kind === 'ws') cost = webSocketCost({ client: true, budgetBitsPerSecond: budget });
  else if (kind === 'udp') cost = udpCost({ budgetBitsPerSecond: budget });
  else if (kind === 'kiss-1200' || kind === 'kiss-300') {
    const baud = kind === 'kiss-1200' ? 1200 : 300;
    cost = kissCost({ baud, txDelayMs: numberFlag(p, 'txdelay-ms', { min: 0, max: 2550 }) ?? 300, txTailMs: numberFlag(p, 'txtail-ms', { min: 0, max: 2550 }) ?? 100 });
    link.bitsPerSecond = baud;
  }
  if (!cost) return { link, tuning: { sender: {}, receiver: {} } };
  return { link: { ...link, cost }, tuning: arqTuning(cost), cost };
}

/** Flags of `send`/`receive` that refine a link URL. */
export const LINK_URL_FLAGS = ['callsign', 'peer-callsign', 'keepalive-ms'];

export const LINK_URL_USAGE = `  --callsign CALL   KISS amateur mode: every packet an AX.25 UI frame from CALL (e.g. N0CALL-1); no encryption
  --peer-callsign C the far station (frames from others are dropped)
  --keepalive-ms T  UDP: NAT keepalive after T ms idle (default 20000 when dialing; 0 = off)`;

/** Link options from `--callsign`, `--peer-callsign`, `--keepalive-ms` (merged over the URL's own query). */
export function linkUrlOptionsFrom(p: ParsedArgs): Pick<LinkUrlOptions, 'kiss' | 'udp'> {
  const callsign = stringFlag(p, 'callsign');
  const peer = stringFlag(p, 'peer-callsign');
  const keepaliveMs = numberFlag(p, 'keepalive-ms', { min: 0 });
  return {
    kiss: { ...(callsign ? { callsign } : {}), ...(peer ? { peerCallsign: peer } : {}) },
    udp: keepaliveMs !== undefined ? { keepaliveMs } : {},
  };
}
