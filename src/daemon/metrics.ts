import { WIRE_CLASSES, type PeerLink, type WireClass } from './peer-link.ts';

/** Keeps the last `capacity` samples of a quantity for quantiles (bounded memory). */
export class SampleWindow {
  private readonly values: number[] = [];
  count = 0;
  sum = 0;
  constructor(readonly capacity = 512) {}

  add(v: number): void {
    if (!Number.isFinite(v)) return;
    this.values.push(v);
    if (this.values.length > this.capacity) this.values.shift();
    this.count++;
    this.sum += v;
  }

  /** Quantile over the retained samples (NaN when empty). */
  quantile(q: number): number {
    if (this.values.length === 0) return NaN;
    const s = [...this.values].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  }
}

/** Bits per second over the last `windowSeconds`, from totals sampled once a second. */
export class RateWindow {
  private readonly samples: Array<{ atMs: number; total: number }> = [];
  constructor(readonly windowSeconds = 10) {}

  sample(total: number, atMs = performance.now()): void {
    this.samples.push({ atMs, total });
    while (this.samples.length > this.windowSeconds + 1) this.samples.shift();
  }

  get perSecond(): number {
    if (this.samples.length < 2) return 0;
    const a = this.samples[0]!;
    const b = this.samples[this.samples.length - 1]!;
    return b.atMs > a.atMs ? ((b.total - a.total) * 1000) / (b.atMs - a.atMs) : 0;
  }
}

/** Per-peer rate windows, per direction and wire class. */
export class PeerRates {
  readonly out = new Map<WireClass | 'all', RateWindow>();
  readonly in = new Map<WireClass | 'all', RateWindow>();
  constructor() {
    for (const c of [...WIRE_CLASSES, 'all' as const]) {
      this.out.set(c, new RateWindow());
      this.in.set(c, new RateWindow());
    }
  }

  sample(peer: PeerLink): void {
    const sum = (r: Record<WireClass, number>) => WIRE_CLASSES.reduce((s, c) => s + r[c], 0);
    for (const c of WIRE_CLASSES) {
      this.out.get(c)!.sample(peer.counters.bitsOut[c]);
      this.in.get(c)!.sample(peer.counters.bitsIn[c]);
    }
    this.out.get('all')!.sample(sum(peer.counters.bitsOut));
    this.in.get('all')!.sample(sum(peer.counters.bitsIn));
  }
}

/** Builds Prometheus text exposition (version 0.0.4). */
export class PromText {
  private readonly lines: string[] = [];
  private readonly declared = new Set<string>();

  metric(name: string, type: 'counter' | 'gauge' | 'summary', help: string, samples: Array<[Record<string, string>, number]>): this {
    if (!this.declared.has(name)) {
      this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      this.declared.add(name);
    }
    for (const [labels, value] of samples) this.lines.push(`${name}${labelText(labels)} ${formatValue(value)}`);
    return this;
  }

  summary(name: string, help: string, labels: Record<string, string>, w: SampleWindow, scale = 1): this {
    this.metric(name, 'summary', help, [0.5, 0.9, 0.99].map((q) => [{ ...labels, quantile: String(q) }, w.quantile(q) * scale]));
    this.lines.push(`${name}_sum${labelText(labels)} ${formatValue(w.sum * scale)}`, `${name}_count${labelText(labels)} ${w.count}`);
    return this;
  }

  raw(lines: string[]): this {
    this.lines.push(...lines);
    return this;
  }

  toString(): string {
    return this.lines.join('\n') + '\n';
  }
}

function labelText(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return Number.isInteger(v) ? String(v) : v.toPrecision(6);
}
