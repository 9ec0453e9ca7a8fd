/**
 * The stcts browser page (issue #8): push-to-talk or hands-free, live transcript of both directions,
 * link state and bits used, playback of received speech. Audio goes over WebRTC through the
 * daemon's mediasoup, or as 16 kHz PCM over the control WebSocket when the daemon says so (or with
 * `?transport=ws`). Bundled by esbuild (src/daemon/web/bundle.ts) as /app.js.
 *
 * URL parameters: transport=auto|webrtc|ws, mode=ptt|hands-free, peer=NAME, autostart=1 (start
 * without a click; for kiosks and tests), record=1 (keep received audio for tests: window.stcts).
 */
import { Device } from 'mediasoup-client';

type DaemonEvent =
  | { type: 'transcript'; direction: 'in' | 'out'; text: string; atMs: number }
  | { type: 'link'; peer: string; state: 'connected' | 'connecting' | 'disconnected'; bitsPerSecondOut: number; bitsPerSecondIn: number; bitsOutTotal: number; bitsInTotal: number; kind?: string; rtoMs?: number; lossIn?: number }
  | { type: 'phrase'; session: number; seq: number; state: 'queued' | 'sent' | 'acknowledged'; text: string; atMs: number }
  | { type: 'error'; code: string; message: string };

interface Welcome {
  type: 'welcome';
  clientId: string;
  transport: 'webrtc' | 'ws';
  reason?: string;
  sampleRateHz: number;
  routerRtpCapabilities?: any;
  sendTransport?: any;
  recvTransport?: any;
}

const params = new URLSearchParams(location.search);
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  start: $<HTMLButtonElement>('start'),
  talk: $<HTMLButtonElement>('talk'),
  status: $<HTMLDivElement>('status'),
  lines: $<HTMLOListElement>('lines'),
  link: $<HTMLDivElement>('link'),
  linkState: $<HTMLSpanElement>('link-state'),
  linkBits: $<HTMLSpanElement>('link-bits'),
  linkQuality: $<HTMLSpanElement>('link-quality'),
  remote: $<HTMLAudioElement>('remote'),
};
const MAX_LINES = 500;
const MAX_RECORD_SECONDS = 600;

/** What tests read (and a console user can inspect). */
const state = {
  transport: '' as '' | 'webrtc' | 'ws',
  reason: '',
  clientId: '',
  connected: false,
  ended: false,
  events: [] as DaemonEvent[],
  recordRateHz: 0,
  recorded: [] as Float32Array[],
  recordedSamples: 0,
  errors: [] as string[],
};
(window as any).stcts = {
  state,
  /** Received audio recorded so far as base64 s16le, with its rate (record=1). */
  recording(): { sampleRateHz: number; base64: string } {
    const pcm = new Int16Array(state.recordedSamples);
    let o = 0;
    for (const c of state.recorded) for (let i = 0; i < c.length; i++) pcm[o++] = Math.max(-32768, Math.min(32767, Math.round(c[i]! * 32767)));
    let bin = '';
    const bytes = new Uint8Array(pcm.buffer);
    for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return { sampleRateHz: state.recordRateHz, base64: btoa(bin) };
  },
};

let mode: 'ptt' | 'hands-free' = params.get('mode') === 'hands-free' ? 'hands-free' : 'ptt';
let talking = false;
let ws: WebSocket | undefined;
let micTrack: MediaStreamTrack | undefined;
let audioCtx: AudioContext | undefined;
let nextRequestId = 1;
const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();

function setStatus(text: string): void {
  ui.status.textContent = text;
}

function addLine(kind: 'in' | 'out' | 'error', text: string): void {
  const li = document.createElement('li');
  li.className = kind;
  const t = document.createElement('time');
  t.textContent = new Date().toLocaleTimeString();
  li.append(t, document.createTextNode(kind === 'out' ? `you: ${text}` : kind === 'in' ? text : `⚠ ${text}`));
  ui.lines.append(li);
  while (ui.lines.children.length > MAX_LINES) ui.lines.firstElementChild?.remove();
  li.scrollIntoView({ block: 'end' });
}

/** This client's phrases on their way (issue #14): the line and its state badge, by session and seq. */
const phraseLines = new Map<string, HTMLSpanElement>();
const PHRASE_STATE_TEXT = { queued: 'queued', sent: 'sent', acknowledged: 'acknowledged ✓' } as const;
let lastQueuedText: string | undefined;

function onPhrase(e: Extract<DaemonEvent, { type: 'phrase' }>): void {
  const key = `${e.session}:${e.seq}`;
  let badge = phraseLines.get(key);
  if (!badge) {
    if (e.state !== 'queued') return; // (a page opened mid-call)
    addLine('out', e.text);
    lastQueuedText = e.text;
    badge = document.createElement('span');
    ui.lines.lastElementChild?.append(' ', badge);
    phraseLines.set(key, badge);
    while (phraseLines.size > MAX_LINES) phraseLines.delete(phraseLines.keys().next().value as string);
  }
  badge.className = `phrase-state ${e.state}`;
  badge.textContent = PHRASE_STATE_TEXT[e.state];
}

function formatBits(bits: number): string {
  return bits >= 8_000_000 ? `${(bits / 8_000_000).toFixed(1)} MB` : bits >= 8000 ? `${(bits / 8000).toFixed(1)} kB` : `${bits} bit`;
}

function onEvent(e: DaemonEvent): void {
  state.events.push(e);
  if (state.events.length > 2000) state.events.splice(0, 1000);
  if (e.type === 'phrase') onPhrase(e);
  else if (e.type === 'transcript') {
    // Our own phrase already has its line (from its 'queued' event).
    if (e.direction === 'out' && e.text === lastQueuedText) lastQueuedText = undefined;
    else addLine(e.direction, e.text);
  } else if (e.type === 'error') {
    state.errors.push(`${e.code}: ${e.message}`);
    addLine('error', `${e.code}: ${e.message}`);
  } else {
    ui.link.className = `link ${e.state}`;
    ui.linkState.textContent = `${e.peer}: ${e.state}`;
    ui.linkBits.textContent = `↑ ${Math.round(e.bitsPerSecondOut)} bit/s (${formatBits(e.bitsOutTotal)})  ↓ ${Math.round(e.bitsPerSecondIn)} bit/s (${formatBits(e.bitsInTotal)})`;
    const quality = [e.kind ? `${e.kind} link` : '', e.rtoMs !== undefined ? `RTO ${(e.rtoMs / 1000).toFixed(1)} s` : '', e.lossIn !== undefined ? `loss ${(100 * e.lossIn).toFixed(1)} %` : ''];
    ui.linkQuality.textContent = quality.filter((q) => q).join(' · ');
  }
}

function request(method: string, data: Record<string, unknown>): Promise<any> {
  const id = nextRequestId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    ws!.send(JSON.stringify({ type: 'request', id, method, data }));
  });
}

function setTalking(on: boolean, force = false): void {
  const effective = mode === 'hands-free' || on;
  ui.talk.setAttribute('aria-pressed', String(on && mode === 'ptt'));
  if (effective === talking && !force) return;
  talking = effective;
  // WebRTC: a disabled track sends silence. WebSocket PCM: the capture worklet checks `talking`.
  if (micTrack) micTrack.enabled = talking || state.transport === 'ws';
  if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'talk', on: talking }));
}

function applyMode(m: 'ptt' | 'hands-free'): void {
  mode = m;
  ui.talk.classList.toggle('hands-free', m === 'hands-free');
  ui.talk.textContent = m === 'hands-free' ? 'Hands-free: listening' : 'Hold to talk (space)';
  setTalking(false, true);
}

/** Records what the page plays (test hook), from any node producing the received audio. */
async function attachRecorder(ctx: AudioContext, source: AudioNode): Promise<void> {
  const rec = new AudioWorkletNode(ctx, 'stcts-recorder');
  state.recordRateHz = ctx.sampleRate;
  rec.port.onmessage = (e) => {
    if (state.recordedSamples > MAX_RECORD_SECONDS * ctx.sampleRate) return;
    const chunk = e.data as Float32Array;
    state.recorded.push(chunk);
    state.recordedSamples += chunk.length;
  };
  source.connect(rec);
  rec.connect(ctx.destination);
}

async function startWebRtc(w: Welcome, mic: MediaStream): Promise<void> {
  let device: Device;
  try {
    device = await Device.factory();
  } catch {
    device = new Device({ handlerName: 'Chrome111' }); // e.g. HeadlessChrome user agents
  }
  await device.load({ routerRtpCapabilities: w.routerRtpCapabilities });
  const send = device.createSendTransport(w.sendTransport);
  send.on('connect', ({ dtlsParameters }, ok, fail) => void request('connectTransport', { direction: 'send', dtlsParameters }).then(() => ok(), fail));
  send.on('produce', ({ kind, rtpParameters }, ok, fail) => void request('produce', { kind, rtpParameters }).then((r) => ok({ id: r.id }), fail));
  const recv = device.createRecvTransport(w.recvTransport);
  (window as any).stcts.transports = { send, recv };
  recv.on('connect', ({ dtlsParameters }, ok, fail) => void request('connectTransport', { direction: 'recv', dtlsParameters }).then(() => ok(), fail));
  micTrack = mic.getAudioTracks()[0]!;
  micTrack.enabled = talking;
  await send.produce({ track: micTrack, codecOptions: { opusStereo: false, opusDtx: false, opusFec: true } });
  const c = await request('consume', { rtpCapabilities: device.rtpCapabilities });
  const consumer = await recv.consume({ id: c.id, producerId: c.producerId, kind: 'audio', rtpParameters: c.rtpParameters });
  const stream = new MediaStream([consumer.track]);
  ui.remote.srcObject = stream; // Chrome only feeds remote WebRTC audio to WebAudio when an element plays it too
  void ui.remote.play().catch(() => {});
  await request('resumeConsumer', {});
  if (params.get('record') === '1' && audioCtx) await attachRecorder(audioCtx, audioCtx.createMediaStreamSource(stream));
}

async function startWsPcm(mic: MediaStream): Promise<void> {
  const ctx = audioCtx!;
  micTrack = mic.getAudioTracks()[0]!;
  const capture = new AudioWorkletNode(ctx, 'stcts-capture');
  capture.port.onmessage = (e) => {
    if (talking && ws?.readyState === WebSocket.OPEN && ws.bufferedAmount < 64_000) ws.send(e.data as ArrayBuffer);
  };
  ctx.createMediaStreamSource(mic).connect(capture);
  capture.connect(ctx.destination); // keeps it rendering; it outputs silence
  const player = new AudioWorkletNode(ctx, 'stcts-player', { outputChannelCount: [1] });
  player.connect(ctx.destination);
  ws!.addEventListener('message', (e) => {
    if (e.data instanceof ArrayBuffer) player.port.postMessage(e.data, [e.data]);
  });
  if (params.get('record') === '1') await attachRecorder(ctx, player);
}

async function start(): Promise<void> {
  ui.start.disabled = true;
  setStatus('Starting…');
  audioCtx = new AudioContext();
  await audioCtx.audioWorklet.addModule('worklet.js');
  void audioCtx.resume();
  const mic = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, channelCount: 1 } });
  const url = new URL('ws', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  ws.onopen = () => {
    state.connected = true;
    const hello: Record<string, unknown> = { type: 'hello', transport: params.get('transport') ?? 'auto', mode };
    if (params.get('peer')) hello.peer = params.get('peer');
    ws!.send(JSON.stringify(hello));
  };
  ws.onclose = (e) => {
    state.connected = false;
    state.ended = true;
    setStatus(`Disconnected (${e.code}${e.reason ? `: ${e.reason}` : ''}). Reload to start again.`);
    ui.talk.disabled = true;
  };
  ws.addEventListener('message', (e) => {
    if (typeof e.data !== 'string') return;
    const m = JSON.parse(e.data);
    if (m.type === 'event') onEvent(m.event);
    else if (m.type === 'response') {
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (m.ok) p?.resolve(m.data);
      else p?.reject(new Error(`${m.error.code}: ${m.error.message}`));
    } else if (m.type === 'welcome') {
      const w = m as Welcome;
      state.transport = w.transport;
      state.clientId = w.clientId;
      state.reason = w.reason ?? '';
      const go = w.transport === 'webrtc' ? startWebRtc(w, mic) : startWsPcm(mic);
      go.then(
        () => {
          setStatus(`Connected over ${w.transport === 'webrtc' ? 'WebRTC (mediasoup)' : 'WebSocket PCM'}${w.reason ? ` — ${w.reason}` : ''}.`);
          ui.talk.disabled = false;
          applyMode(mode);
        },
        (err: Error) => {
          state.errors.push(err.message);
          setStatus(`Audio setup failed: ${err.message}`);
        },
      );
    } else if (m.type === 'ended') setStatus(`Call ended: ${m.reason}`);
  });
}

for (const input of document.querySelectorAll<HTMLInputElement>('input[name="mode"]')) {
  input.checked = input.value === mode;
  input.addEventListener('change', () => applyMode(input.value as 'ptt' | 'hands-free'));
}
ui.start.addEventListener('click', () => void start().catch((err: Error) => setStatus(`Cannot start: ${err.message}`)));
ui.talk.addEventListener('pointerdown', () => setTalking(true));
for (const ev of ['pointerup', 'pointerleave', 'pointercancel']) ui.talk.addEventListener(ev, () => setTalking(false));
document.addEventListener('keydown', (e) => {
  if (e.code === 'Space' && !e.repeat && !ui.talk.disabled) {
    e.preventDefault();
    setTalking(true);
  }
});
document.addEventListener('keyup', (e) => {
  if (e.code === 'Space') setTalking(false);
});
if (params.get('autostart') === '1') void start().catch((err: Error) => {
  state.errors.push(err.message);
  setStatus(`Cannot start: ${err.message}`);
});
