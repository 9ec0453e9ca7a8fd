import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { TransportError } from '../core/errors.ts';
import { listKeys, type GatewayJetStream } from './jetstream.ts';
import { shorePcm } from './shore.ts';
import { MAX_TALK_SECONDS, ShoreTalk } from './shore-talk.ts';
import { isValidVesselName, type CallRecord } from './subjects.ts';

/** Where shore clients reach a gateway node (edge/gateway.yaml `shore.listen`). */
export interface ShoreHttpOptions {
  host: string;
  /** 0 = any free port. */
  port: number;
  /** Listeners and talkers at once (each holds one JetStream consumer). Default 64. */
  maxListeners?: number;
  /** The fleet (gateway `vessels`): a talk to a vessel not listed is refused (404). Empty: any valid name. */
  vessels?: ReadonlyMap<string, unknown>;
  /** Vessels reached only by Iridium SBD (an `imei`, no key): a talk to one goes as a voice message through DirectIP MT. */
  sbdVessels?: ReadonlySet<string>;
}

export interface ShoreHttp {
  readonly port: number;
  close(): Promise<void>;
}

/** Largest PCM message sent to a browser, bytes (a phrase is split into messages of at most this). */
const MAX_WS_PCM_BYTES = 64 * 1024;

/**
 * The shore side's page on any gateway node (issue #18 item 2): `GET /` is a listening page (calls,
 * live transcript, the rendered speech played as it comes), `GET /calls` the calls JSON, and the
 * WebSocket `/listen[?session=N]` streams rendered speech from JetStream: per phrase a JSON text
 * message `{session, seq, startMs, sampleRateHz, text, parts}` then its s16le PCM as binary
 * messages, and `{session, end: true}` at a call's End. Any node serves any vessel: the speech is in
 * the stream, whichever worker rendered it.
 *
 * Shore → ship: the WebSocket `/talk?vessel=NAME` takes raw s16le 16 kHz mono PCM as binary
 * messages and `{"end":true}` when the speaker stops; it answers `{type:'talk', session, vessel}`,
 * then per phrase `{type:'phrase', seq, text}` once a worker recognized and coded it and
 * `{type:'delivered', seq, text}` once the vessel acknowledged it, and `{type:'end'}` when the vessel
 * has everything (then it closes). Bad input gets `{type:'error', code, message}` and a close.
 */
export async function startShoreHttp(jet: GatewayJetStream, o: ShoreHttpOptions): Promise<ShoreHttp> {
  const listeners = new Set<AbortController>();
  const maxListeners = o.maxListeners ?? 64;
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const server = createServer((req, res) => void handle(req, res).catch(() => {
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error\n');
  }));
  server.requestTimeout = 30_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET', 'content-type': 'text/plain' }).end('GET only\n');
      return;
    }
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(PAGE);
      return;
    }
    if (path === '/calls') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ calls: await calls(jet) }) + '\n');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const refuse = (status: string, text: string) => void socket.end(`HTTP/1.1 ${status}\r\ncontent-type: text/plain\r\n\r\n${text}\n`);
    if (url.pathname === '/talk') {
      const vessel = url.searchParams.get('vessel') ?? '';
      if (!isValidVesselName(vessel)) return refuse('400 Bad Request', 'vessel must be a vessel name (letters, digits, - and _)');
      if ((o.vessels?.size || o.sbdVessels?.size) && !o.vessels?.has(vessel) && !o.sbdVessels?.has(vessel)) return refuse('404 Not Found', `no vessel '${vessel}' in this gateway's fleet`);
      if (listeners.size >= maxListeners) return refuse('503 Service Unavailable', `already ${maxListeners} listeners and talkers`);
      wss.handleUpgrade(req, socket, head, (ws) => void talk(ws, vessel));
      return;
    }
    if (url.pathname !== '/listen') return void socket.destroy();
    const s = url.searchParams.get('session');
    const session = s === null || s === '' ? undefined : Number(s);
    if (session !== undefined && !(Number.isInteger(session) && session > 0 && session < 2 ** 32)) {
      socket.end('HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\n\r\nsession must be a whole number\n');
      return;
    }
    if (listeners.size >= maxListeners) {
      socket.end(`HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\n\r\nalready ${maxListeners} listeners\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => void listen(ws, session));
  });

  async function listen(ws: WebSocket, session: number | undefined): Promise<void> {
    const stop = new AbortController();
    listeners.add(stop);
    ws.on('close', () => stop.abort());
    ws.on('error', () => stop.abort());
    ws.on('message', () => ws.close(1003, 'this socket only listens'));
    try {
      for await (const p of shorePcm(jet.js, session, stop.signal)) {
        if (ws.readyState !== ws.OPEN) break;
        if (p.end) {
          ws.send(JSON.stringify({ session: p.sessionId, end: true, ...(p.error ? { error: p.error } : {}) }));
          continue;
        }
        if (p.part === 0) ws.send(JSON.stringify({ session: p.sessionId, seq: p.seq, startMs: p.startMs, sampleRateHz: p.sampleRateHz, text: p.text, parts: p.parts }));
        for (let i = 0; i < p.pcm.length; i += MAX_WS_PCM_BYTES) ws.send(p.pcm.subarray(i, Math.min(p.pcm.length, i + MAX_WS_PCM_BYTES)));
        // Backpressure: a slow listener holds its consumer instead of growing our memory.
        while (ws.bufferedAmount > 1024 * 1024 && ws.readyState === ws.OPEN) await new Promise((r) => setTimeout(r, 50));
      }
      if (session !== undefined && ws.readyState === ws.OPEN) ws.close(1000, 'the call ended');
    } catch (err) {
      if (ws.readyState === ws.OPEN) ws.close(1011, err instanceof Error ? err.message.slice(0, 120) : 'error');
    } finally {
      listeners.delete(stop);
    }
  }

  async function talk(ws: WebSocket, vessel: string): Promise<void> {
    const stop = new AbortController();
    listeners.add(stop);
    const fail = (code: string, message: string) => {
      if (ws.readyState !== ws.OPEN) return;
      ws.send(JSON.stringify({ type: 'error', code, message }));
      ws.close(code === 'internal' ? 1011 : 1008, code);
    };
    // Handlers first: a client may speak the moment the socket opens, before the talk is registered.
    const early: Array<[Buffer, boolean]> = [];
    let talkSession: ShoreTalk | undefined;
    let closed = false;
    const gone = () => {
      closed = true;
      void talkSession?.end().catch(() => {});
      stop.abort();
    };
    ws.on('close', gone);
    ws.on('error', gone);
    const onMessage = (data: Buffer, isBinary: boolean) => {
      const t = talkSession;
      if (!t) {
        if (early.length >= 256) return fail('too_fast', 'too much speech before the talk was registered');
        early.push([data, isBinary]);
        return;
      }
      if (isBinary) {
        if (t.seconds + data.length / 32000 > MAX_TALK_SECONDS) return fail('too_long', `a talk is at most ${MAX_TALK_SECONDS} s; the rest was not sent`);
        try {
          void t.write(new Uint8Array(data)).catch(() => {});
        } catch (err) {
          fail('bad_state', (err as Error).message);
        }
        return;
      }
      let m: unknown;
      try {
        m = JSON.parse(String(data));
      } catch {
        return fail('bad_message', 'text messages must be JSON: {"end":true}');
      }
      if (typeof m === 'object' && m !== null && (m as { end?: unknown }).end === true) void t.end().catch(() => {});
      else fail('bad_message', 'the only text message is {"end":true}; speech goes in binary messages (s16le 16 kHz mono)');
    };
    ws.on('message', onMessage);
    try {
      talkSession = await ShoreTalk.open(jet, vessel, o.sbdVessels?.has(vessel) && !o.vessels?.has(vessel) ? { via: 'sbd' } : {});
    } catch (err) {
      listeners.delete(stop);
      return fail('internal', `cannot register the talk: ${(err as Error).message}`);
    }
    ws.send(JSON.stringify({ type: 'talk', session: talkSession.sessionId, vessel }));
    for (const [d, b] of early.splice(0)) onMessage(d, b);
    if (closed) void talkSession.end().catch(() => {});
    try {
      for await (const e of talkSession.events(stop.signal)) {
        if (ws.readyState !== ws.OPEN) break;
        ws.send(JSON.stringify(e));
        if (e.type === 'end') ws.close(1000, 'delivered');
      }
    } catch (err) {
      fail('internal', (err as Error).message.slice(0, 120));
    } finally {
      listeners.delete(stop);
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new TransportError('refused', `cannot listen on ${o.host}:${o.port}: ${e.message}`)));
    server.listen(o.port, o.host, () => resolve());
  });
  const address = server.address();
  let closing: Promise<void> | undefined;
  return {
    port: typeof address === 'object' && address ? address.port : o.port,
    close: () => (closing ??= (async () => {
      for (const l of listeners) l.abort();
      for (const c of wss.clients) c.terminate();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    })()),
  };
}

/** The calls in the registry (KV `stcts_calls`), newest first. */
async function calls(jet: GatewayJetStream): Promise<CallRecord[]> {
  const out: CallRecord[] = [];
  for (const k of await listKeys(jet.calls)) {
    const e = await jet.calls.get(k);
    if (!e || e.operation !== 'PUT') continue;
    try {
      out.push(JSON.parse(new TextDecoder().decode(e.value)) as CallRecord);
    } catch {
      // not ours
    }
    if (out.length >= 1000) break;
  }
  return out.sort((a, b) => b.startedAtMs - a.startedAtMs);
}

/** The listening page: no framework, nothing from a CDN. */
const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>stcts shore</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>body{font:15px system-ui,sans-serif;margin:1.5em;max-width:52em}h1{font-size:1.3em}
table{border-collapse:collapse}td,th{padding:.2em .8em;text-align:left;border-bottom:1px solid #ddd}
#log{margin-top:1em}#log p{margin:.2em 0}.t{color:#666;font-size:.85em;margin-right:.6em}button{font-size:1em}</style></head>
<body><h1>stcts shore gateway</h1>
<p>Speech from the vessels, as the gateway's workers render it (any node serves any vessel).
<button id="go">Listen to all calls</button> <span id="state"></span></p>
<p>Talk to a vessel: <input id="vessel" placeholder="vessel name" size="14"> <button id="talk">Hold to talk</button> <span id="tstate"></span></p>
<table><thead><tr><th>vessel</th><th>session</th><th>direction</th><th>state</th><th>started</th></tr></thead><tbody id="calls"></tbody></table>
<div id="log"></div>
<script>
const $ = (id) => document.getElementById(id);
let vessels = new Map();
async function refresh() {
  try {
    const r = await (await fetch('/calls')).json();
    vessels = new Map(r.calls.map((c) => [c.sessionId, c.vessel]));
    $('calls').innerHTML = '';
    for (const c of r.calls) {
      const tr = document.createElement('tr');
      for (const v of [c.vessel, c.sessionId, c.direction === 'down' ? 'shore → ship' : c.direction === 'message' ? 'ship → shore (SBD message)' : 'ship → shore', c.state, new Date(c.startedAtMs).toLocaleTimeString()]) { const td = document.createElement('td'); td.textContent = String(v); tr.append(td); }
      $('calls').append(tr);
    }
  } catch (e) { $('state').textContent = 'calls: ' + e.message; }
}
refresh(); setInterval(refresh, 5000);
$('go').onclick = () => {
  $('go').disabled = true;
  const ctx = new AudioContext();
  let playAt = 0, rate = 16000;
  const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/listen');
  ws.binaryType = 'arraybuffer';
  ws.onopen = () => { $('state').textContent = 'listening'; };
  ws.onclose = () => { $('state').textContent = 'disconnected'; $('go').disabled = false; };
  ws.onmessage = (m) => {
    if (typeof m.data === 'string') {
      const h = JSON.parse(m.data);
      if (h.end) return;
      rate = h.sampleRateHz;
      const p = document.createElement('p');
      const t = document.createElement('span'); t.className = 't'; t.textContent = (vessels.get(h.session) || h.session) + ' ' + new Date().toLocaleTimeString();
      p.append(t, document.createTextNode(h.text)); $('log').prepend(p);
      return;
    }
    const s = new Int16Array(m.data);
    if (s.length === 0) return;
    const buf = ctx.createBuffer(1, s.length, rate);
    const ch = buf.getChannelData(0);
    for (let i = 0; i < s.length; i++) ch[i] = s[i] / 32768;
    const src = ctx.createBufferSource(); src.buffer = buf; src.connect(ctx.destination);
    playAt = Math.max(playAt, ctx.currentTime + 0.05); src.start(playAt); playAt += buf.duration;
  };
};
// Shore → ship: hold the button, speak; the gateway recognizes, codes and sends it to the vessel.
let mic;
async function startTalk() {
  const vessel = $('vessel').value.trim();
  if (!vessel) { $('tstate').textContent = 'name a vessel first'; return; }
  const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/talk?vessel=' + encodeURIComponent(vessel));
  const stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: true } });
  const ctx = new AudioContext();
  const src = ctx.createMediaStreamSource(stream);
  const proc = ctx.createScriptProcessor(4096, 1, 1);
  const step = ctx.sampleRate / 16000;
  let pos = 0;
  proc.onaudioprocess = (e) => {
    const x = e.inputBuffer.getChannelData(0);
    const out = [];
    for (; pos < x.length; pos += step) { const v = Math.max(-1, Math.min(1, x[Math.floor(pos)])); out.push(Math.round(v * 32767)); }
    pos -= x.length;
    if (ws.readyState === 1) ws.send(new Int16Array(out).buffer);
  };
  src.connect(proc); proc.connect(ctx.destination);
  mic = { ws, stream, ctx, proc };
  ws.onmessage = (m) => {
    const e = JSON.parse(m.data);
    const line = document.createElement('p');
    if (e.type === 'talk') $('tstate').textContent = 'talking to ' + e.vessel;
    else if (e.type === 'phrase') { line.textContent = '→ ' + vessel + ' (sent): ' + e.text; $('log').prepend(line); }
    else if (e.type === 'delivered') { line.textContent = '→ ' + vessel + ' (delivered): ' + e.text; $('log').prepend(line); }
    else if (e.type === 'end') $('tstate').textContent = e.error ? 'not sent: ' + e.error : e.via === 'sbd' ? 'queued at Iridium for ' + vessel + ' (Iridium SBD)' : 'delivered to ' + vessel;
    else if (e.type === 'error') $('tstate').textContent = 'refused: ' + e.message;
  };
  ws.onclose = (c) => { if (c.code !== 1000 && !$('tstate').textContent.startsWith('refused')) $('tstate').textContent = 'closed (' + (c.reason || c.code) + ')'; };
}
function stopTalk() {
  if (!mic) return;
  const m = mic; mic = undefined;
  m.proc.disconnect(); m.stream.getTracks().forEach((t) => t.stop()); m.ctx.close();
  if (m.ws.readyState === 1) m.ws.send(JSON.stringify({ end: true }));
  else if (m.ws.readyState === 0) m.ws.onopen = () => m.ws.send(JSON.stringify({ end: true }));
  $('tstate').textContent = 'sending…';
}
$('talk').onpointerdown = () => { startTalk().catch((e) => { $('tstate').textContent = 'microphone: ' + e.message; }); };
$('talk').onpointerup = stopTalk;
$('talk').onpointerleave = stopTalk;
</script></body></html>
`;
