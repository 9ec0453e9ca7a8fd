import type { LinkSession } from '../transport/link-session.ts';
import type { AggregatedLog, HandshakeAdmission } from '../transport/secure/index.ts';
import type { OutgoingCall } from './call.ts';
import type { DaemonConfig } from './config.ts';
import { PromText, type PeerRates, type SampleWindow } from './metrics.ts';
import { WIRE_CLASSES, type PeerCounters, type PeerLink, type PeerState } from './peer-link.ts';
import type { LocalClientServer, LocalEndpoint } from './types.ts';

/** The daemon's live state, as the metrics see it. */
export interface DaemonState {
  config: DaemonConfig;
  startedAtMs: number;
  peers: Map<string, PeerLink>;
  rates: Map<string, PeerRates>;
  calls: Set<{ peerName: string; call: OutgoingCall; endpoint: LocalEndpoint }>;
  /** Endpoints hearing each peer. */
  listeners: Map<string, Set<LocalEndpoint>>;
  /** Sessions the peer started, by peer. */
  incoming: Map<string, Map<number, LinkSession>>;
  phrasesReceived: number;
  authFailuresUnknown: number;
  /** Queue → acknowledgement of a phrase's text, ms. */
  deliveryMs: SampleWindow;
  /** End of a phrase's audio → its recognition result, ms. */
  asrLatencyMs: SampleWindow;
  /** Synthesis time of a received phrase, ms. */
  renderMs: SampleWindow;
  /** Synthesis time / audio duration. */
  ttsRtf: SampleWindow;
  phrasesSentClosed: number;
  phrasesAckedClosed: number;
  phrasesResentClosed: number;
  localClients: LocalClientServer | undefined;
  /** Caps on unauthenticated link handshakes (issue #20). */
  admission?: HandshakeAdmission;
  /** Rate-limited logs of refused connections and rejected packets. */
  refusals?: AggregatedLog;
}

/** A peer link's counters plus its state, rates and queues. */
export interface PeerSnapshot extends PeerCounters {
  name: string;
  state: PeerState;
  /** Over the last 10 s, all classes. */
  bitsPerSecondOut: number;
  bitsPerSecondIn: number;
  retransmissions: number;
  queuedFrames: number;
  sessions: number;
  /** Link type: ws, udp or kiss. */
  kind: string;
  /** Airtime of what we sent (radio: key-up, headers, tail at the modem rate; IP: wire bits at the budget), s. */
  airtimeSecondsOut: number;
  /** Smallest ARQ retransmission timeout over the peer's sessions (from the measured RTT), ms; undefined before any. */
  rtoMs: number | undefined;
  /** Share of the peer's packets lost on the way to us, 0..1. */
  lossIn: number;
}

/** Plain-object view of the daemon's counters (tests, the soak script). */
export interface DaemonSnapshot {
  node: string;
  uptimeSeconds: number;
  peers: PeerSnapshot[];
  calls: number;
  phrasesSent: number;
  phrasesAcked: number;
  phrasesResent: number;
  phrasesReceived: number;
  authFailuresUnknownPeer: number;
  deliveryMsMedian: number;
  rssBytes: number;
  heapUsedBytes: number;
}

export function snapshotOf(s: DaemonState): DaemonSnapshot {
  const live = [...s.calls].map((c) => c.call.stats);
  const mem = process.memoryUsage();
  return {
    node: s.config.node,
    uptimeSeconds: (Date.now() - s.startedAtMs) / 1000,
    peers: [...s.peers.values()].map((p) => ({
      name: p.name,
      state: p.state,
      bitsOut: { ...p.counters.bitsOut },
      bitsIn: { ...p.counters.bitsIn },
      bitsPerSecondOut: s.rates.get(p.name)!.out.get('all')!.perSecond,
      bitsPerSecondIn: s.rates.get(p.name)!.in.get('all')!.perSecond,
      packetsOut: p.counters.packetsOut,
      packetsIn: p.counters.packetsIn,
      packetsLostOut: p.counters.packetsLostOut,
      packetsLostIn: p.packetsLostIn,
      retransmissions: p.retransmissions,
      rejected: { ...p.counters.rejected },
      queuedFrames: p.queuedFrames,
      sessions: p.sessionCount,
      connects: p.counters.connects,
      peerRestarts: p.counters.peerRestarts,
      kind: p.linkKind,
      airtimeSecondsOut: p.airtimeMsOut / 1000,
      rtoMs: p.rtoMs,
      lossIn: p.lossIn,
    })),
    calls: s.calls.size,
    phrasesSent: s.phrasesSentClosed + live.reduce((n, c) => n + c.phrasesSent, 0),
    phrasesAcked: s.phrasesAckedClosed + live.reduce((n, c) => n + c.phrasesAcked, 0),
    phrasesResent: s.phrasesResentClosed + live.reduce((n, c) => n + c.phrasesResent, 0),
    phrasesReceived: s.phrasesReceived,
    authFailuresUnknownPeer: s.authFailuresUnknown,
    deliveryMsMedian: s.deliveryMs.quantile(0.5),
    rssBytes: mem.rss,
    heapUsedBytes: mem.heapUsed,
  };
}

/** The /metrics page (Prometheus text exposition). */
export function renderMetrics(s: DaemonState): string {
  const snap = snapshotOf(s);
  const m = new PromText();
  const perPeer = <T>(f: (p: PeerSnapshot) => T) => snap.peers.map((p) => [{ peer: p.name }, f(p)] as [Record<string, string>, T]);
  m.metric('stcts_peer_up', 'gauge', '1 when the link to the peer is connected', perPeer((p) => (p.state === 'connected' ? 1 : 0)));
  const bits: Array<[Record<string, string>, number]> = [];
  const bps: Array<[Record<string, string>, number]> = [];
  for (const p of snap.peers) {
    const rates = s.rates.get(p.name)!;
    for (const c of WIRE_CLASSES) {
      bits.push([{ peer: p.name, direction: 'out', stream: c }, p.bitsOut[c]], [{ peer: p.name, direction: 'in', stream: c }, p.bitsIn[c]]);
      bps.push([{ peer: p.name, direction: 'out', stream: c }, rates.out.get(c)!.perSecond], [{ peer: p.name, direction: 'in', stream: c }, rates.in.get(c)!.perSecond]);
    }
  }
  m.metric('stcts_link_bits_total', 'counter', 'Bits put on / taken off the link per stream class (overhead = packet protection: 16-bit packet number + 64-bit tag)', bits);
  m.metric('stcts_link_bits_per_second', 'gauge', 'Link bits per second over the last 10 s per stream class', bps);
  m.metric('stcts_link_packets_total', 'counter', 'Link packets', snap.peers.flatMap((p) => [[{ peer: p.name, direction: 'out' }, p.packetsOut], [{ peer: p.name, direction: 'in' }, p.packetsIn]] as Array<[Record<string, string>, number]>));
  m.metric('stcts_link_packets_lost_total', 'counter', 'Packets lost: out = dropped by the emulated link, in = gaps in the peer\'s packet numbers', snap.peers.flatMap((p) => [[{ peer: p.name, direction: 'out' }, p.packetsLostOut], [{ peer: p.name, direction: 'in' }, p.packetsLostIn]] as Array<[Record<string, string>, number]>));
  m.metric('stcts_link_retransmissions_total', 'counter', 'Frames sent again (NACK, SACK gap or timeout)', perPeer((p) => p.retransmissions));
  m.metric('stcts_link_queue_frames', 'gauge', 'Reliable frames queued or waiting for an acknowledgement', perPeer((p) => p.queuedFrames));
  m.metric('stcts_link_sessions', 'gauge', 'Codec sessions on the link (both directions)', perPeer((p) => p.sessions));
  m.metric('stcts_link_connects_total', 'counter', 'Authenticated connections to the peer', perPeer((p) => p.connects));
  m.metric('stcts_link_info', 'gauge', 'Link type of each peer (always 1)', snap.peers.map((p) => [{ peer: p.name, kind: p.kind }, 1] as [Record<string, string>, number]));
  m.metric('stcts_link_airtime_seconds_total', 'counter', 'Airtime of what we sent: on a radio key-up, headers and tail at the modem rate; on IP links wire bits at the budget', perPeer((p) => p.airtimeSecondsOut));
  m.metric('stcts_link_rto_seconds', 'gauge', 'ARQ retransmission timeout (smoothed RTT + 4 x variance, floors included), smallest over the sessions with traffic', snap.peers.filter((p) => p.rtoMs !== undefined).map((p) => [{ peer: p.name }, p.rtoMs! / 1000] as [Record<string, string>, number]));
  m.metric('stcts_link_loss_ratio', 'gauge', 'Share of the peer\'s packets lost on the way to us (gaps in its packet numbers)', perPeer((p) => p.lossIn));
  m.metric('stcts_peer_restarts_total', 'counter', 'Times the peer came back as a new process', perPeer((p) => p.peerRestarts));
  const rejected: Array<[Record<string, string>, number]> = [];
  for (const p of snap.peers) for (const [reason, n] of Object.entries(p.rejected)) rejected.push([{ peer: p.name, reason }, n]);
  rejected.push([{ peer: '(unknown)', reason: 'auth' }, snap.authFailuresUnknownPeer]);
  m.metric('stcts_link_rejected_total', 'counter', 'Connections refused (auth) and packets rejected (replay, tamper, malformed)', rejected);
  m.metric('stcts_calls', 'gauge', 'Local endpoints in a call', [[{}, snap.calls]]);
  m.metric('stcts_phrases_total', 'counter', 'Phrases: sent, acknowledged by the peer, sent again after a peer restart, received', [
    [{ event: 'sent' }, snap.phrasesSent], [{ event: 'acked' }, snap.phrasesAcked], [{ event: 'resent' }, snap.phrasesResent], [{ event: 'received' }, snap.phrasesReceived],
  ]);
  m.summary('stcts_phrase_delivery_seconds', 'Phrase text queued → acknowledged by the peer', {}, s.deliveryMs, 1 / 1000);
  m.summary('stcts_asr_latency_seconds', 'End of a phrase\'s audio → recognition result', {}, s.asrLatencyMs, 1 / 1000);
  m.summary('stcts_tts_synthesis_seconds', 'Synthesis time of a received phrase', {}, s.renderMs, 1 / 1000);
  m.summary('stcts_tts_real_time_factor', 'Synthesis time / synthesized audio duration', {}, s.ttsRtf);
  m.metric('stcts_process_resident_memory_bytes', 'gauge', 'Resident set size', [[{}, snap.rssBytes]]);
  m.metric('stcts_process_heap_used_bytes', 'gauge', 'V8 heap in use', [[{}, snap.heapUsedBytes]]);
  if (s.admission) m.raw(s.admission.metricsLines());
  if (s.refusals) m.metric('stcts_link_refusals_logged_total', 'counter', 'Refused connections and rejected packets noted by the aggregated log (one log line per kind per minute)', [...s.refusals.totals].map(([kind, n]) => [{ kind }, n] as [Record<string, string>, number]));
  if (s.localClients) m.raw(s.localClients.metricsLines());
  return m.toString();
}
