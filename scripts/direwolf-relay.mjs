#!/usr/bin/env node
/**
 * The "radio channel" between two direwolf instances (issue #14; how and why: ../shared/notes/links.md).
 *
 * direwolf 1.6 writes its transmit audio to an ALSA `file` PCM whose `file "|…"` pipes the raw
 * samples (signed 16-bit little-endian, mono) into this program's stdin. The ALSA `null` slave is not
 * paced, so a whole transmission arrives here at once; this program plays it out at real time as UDP
 * datagrams to the other instance's `ADEVICE UDP:<port>` input, and sends zeros while idle (otherwise
 * the receiver's carrier detect stays busy after a burst and it never answers).
 *
 * Transmissions are told apart by the gaps between direwolf's writes. A seeded share of them is
 * destroyed: everything after the first 20 % (the TXDELAY flags) is replaced by white noise, so the
 * far receiver syncs on the flags and then loses the frame to its CRC, as on a faded channel.
 *
 * Half duplex (optional): a simplex radio hears nothing while it transmits. With `--hear-port P`
 * (where this relay learns that the far station is transmitting) and `--tell HOST:PORT` (where it
 * tells the other relay that its own station is), audio reaching a station while that station
 * transmits is replaced by silence, so two transmissions that overlap are both lost (a collision),
 * as on the air; the log marks such transmissions `collided`.
 *
 * Usage (from an .asoundrc, absolute paths):
 *   node direwolf-relay.mjs --to 127.0.0.1:PORT [--rate 48000] [--control FILE] [--log FILE]
 *                           [--hear-port PORT --tell 127.0.0.1:PORT]
 * --control: JSON `{"destroyShare":0.2,"seed":1}`, re-read (when changed) at every transmission;
 *   a changed file restarts the random sequence from its seed.
 * --log: one JSON line per transmission `{"n","startMs","durationMs","destroyed","collided","bytes"}`, where
 *   startMs is the wall-clock time its first sample was sent and durationMs its length at real time.
 */
import { createSocket } from 'node:dgram';
import { appendFileSync, readFileSync, statSync } from 'node:fs';

const args = new Map();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i], process.argv[i + 1]);
const to = args.get('--to');
if (!to || !/^[^:]+:\d+$/.test(to)) {
  process.stderr.write('direwolf-relay: --to HOST:PORT is required\n');
  process.exit(2);
}
const [host, portText] = to.split(':');
const port = Number(portText);
const rateHz = Number(args.get('--rate') ?? 48000);
const controlPath = args.get('--control');
const logPath = args.get('--log');

/** 10 ms of samples per datagram (960 bytes at 48 kHz): small enough for any socket buffer. */
const FRAME_MS = 10;
const FRAME_BYTES = Math.round((rateHz * FRAME_MS) / 1000) * 2;
/** direwolf writes a transmission in one rush; a pause this long between writes starts a new one. */
const GAP_MS = 15;
/** The part of a destroyed transmission left intact (its key-up flags), fraction of its length. */
const KEEP_FRACTION = 0.2;
const NOISE_AMPLITUDE = 12000;
/** Cap on audio held back (60 s at the rate): a runaway writer cannot eat the memory. */
const MAX_QUEUED_BYTES = rateHz * 2 * 60;

const mulberry32 = (seed) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

let control = { destroyShare: 0, seed: 1 };
let controlStamp = '';
let random = mulberry32(1);
const noise = mulberry32(0x5eed);

function refreshControl() {
  if (!controlPath) return;
  try {
    const st = statSync(controlPath);
    const stamp = `${st.mtimeMs}:${st.size}`;
    if (stamp === controlStamp) return;
    controlStamp = stamp;
    const c = JSON.parse(readFileSync(controlPath, 'utf8'));
    const share = Number(c.destroyShare ?? 0);
    control = { destroyShare: Number.isFinite(share) ? Math.min(1, Math.max(0, share)) : 0, seed: Number(c.seed ?? 1) | 0 };
    random = mulberry32(control.seed);
  } catch {
    // No or unreadable control file: keep the last good settings.
  }
}

/** Transmissions waiting or playing: { chunks: Buffer[], bytes, sent, destroyed, n, startMs }. */
const queue = [];
let queuedBytes = 0;
let lastWriteMs = -Infinity;
let count = 0;

const debug = args.get('--debug') === '1';
process.stdin.on('data', (chunk) => {
  const now = performance.now();
  if (debug) process.stderr.write(`relay: ${chunk.length} bytes at ${Date.now()} (+${(now - lastWriteMs).toFixed(1)} ms)\n`);
  let tx = queue.at(-1);
  if (!tx || now - lastWriteMs > GAP_MS || tx.sent > 0) {
    refreshControl();
    tx = { chunks: [], bytes: 0, sent: 0, destroyed: random() < control.destroyShare, n: ++count, startMs: 0 };
    queue.push(tx);
  }
  lastWriteMs = now;
  if (queuedBytes + chunk.length > MAX_QUEUED_BYTES) return;
  tx.chunks.push(chunk);
  tx.bytes += chunk.length;
  queuedBytes += chunk.length;
});
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));

const socket = createSocket('udp4');
socket.on('error', () => {}); // the receiver not yet listening (ICMP refused) is normal at start
const zeros = Buffer.alloc(FRAME_BYTES);

// Half duplex: 1 = "my station keyed up", 0 = "unkeyed", one byte per datagram on loopback.
// A station that transmits repeats "keyed" every 100 ms; silence for 300 ms means it is gone (killed).
let farKeyedUntil = 0;
const farTransmitting = () => performance.now() < farKeyedUntil;
const tell = args.get('--tell');
const tellTo = tell && /^[^:]+:\d+$/.test(tell) ? { host: tell.split(':')[0], port: Number(tell.split(':')[1]) } : undefined;
const hearPort = args.get('--hear-port');
if (hearPort) {
  const hear = createSocket('udp4');
  hear.on('error', () => {});
  hear.on('message', (m) => {
    if (m.length === 1) farKeyedUntil = m[0] === 1 ? performance.now() + 300 : 0;
  });
  hear.bind(Number(hearPort), '127.0.0.1');
}
const keyed = (on) => {
  if (tellTo) socket.send(Uint8Array.of(on ? 1 : 0), tellTo.port, tellTo.host);
};

/** Next FRAME_BYTES of the head transmission (zero-filled at its end), destroyed where it must be. */
function nextFrame() {
  const tx = queue[0];
  // Wait for the writer's rush to end before playing, so the length (and the destroyed part) is known.
  if (!tx || (queue.length === 1 && performance.now() - lastWriteMs <= GAP_MS)) return zeros;
  if (tx.sent === 0) tx.startMs = Date.now();
  const out = Buffer.alloc(FRAME_BYTES);
  let filled = 0;
  while (filled < FRAME_BYTES && tx.chunks.length > 0) {
    const head = tx.chunks[0];
    const take = Math.min(head.length, FRAME_BYTES - filled);
    head.copy(out, filled, 0, take);
    if (take === head.length) tx.chunks.shift();
    else tx.chunks[0] = head.subarray(take);
    filled += take;
  }
  if (tx.destroyed) {
    const keep = Math.floor((tx.bytes * KEEP_FRACTION) / 2) * 2;
    for (let i = 0; i < filled; i += 2) {
      if (tx.sent + i >= keep) out.writeInt16LE(Math.round((noise() * 2 - 1) * NOISE_AMPLITUDE), i);
    }
  }
  if (tx.sent % (FRAME_BYTES * 10) === 0) keyed(true);
  if (farTransmitting()) {
    // The far station is transmitting: it cannot hear this.
    tx.collided = true;
    out.fill(0);
  }
  tx.sent += filled;
  queuedBytes -= filled;
  if (tx.chunks.length === 0) {
    queue.shift();
    keyed(false);
    if (logPath) {
      const line = { n: tx.n, startMs: tx.startMs, durationMs: (tx.bytes / 2 / rateHz) * 1000, destroyed: tx.destroyed, collided: tx.collided === true, bytes: tx.bytes };
      try {
        appendFileSync(logPath, `${JSON.stringify(line)}\n`);
      } catch {
        // The log is best effort: a test that removed its folder must not stop the channel.
      }
    }
  }
  return out;
}

const t0 = performance.now();
let framesSent = 0;
setInterval(() => {
  const due = Math.floor((performance.now() - t0) / FRAME_MS);
  // After a stall (a busy machine), catch up at most 50 ms at once; drop the rest of the idle time.
  if (due - framesSent > 5 && queue.length === 0) framesSent = due - 5;
  while (framesSent < due) {
    socket.send(nextFrame(), port, host);
    framesSent++;
  }
}, 2);
