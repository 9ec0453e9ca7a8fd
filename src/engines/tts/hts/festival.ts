import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineError, EngineUnavailableError, InvalidStateError } from '../../../core/errors.ts';

/** One HTS full-context label with its Festival timing and the word it belongs to. */
export interface HtsLabel {
  /** Start and end, 100 ns units (HTS label convention). */
  start: number;
  end: number;
  context: string;
  phone: string;
  /** Index into `words` (undefined for pauses). */
  wordIndex: number | undefined;
}

export interface FrontEndResult {
  labels: HtsLabel[];
  /** Festival's words, in order (after its text normalization: "12" → "twelve"). */
  words: string[];
}

/** Most characters per request; longer text must be split into phrases first. */
export const MAX_FRONTEND_CHARS = 2000;

/**
 * Festival as a text front end, kept running (`festival --pipe`): text → HTS full-context labels
 * for cmu_us_slt_arctic_hts, plus which word each phone belongs to. Requests are serialised.
 */
export class FestivalFrontEnd {
  private proc: ChildProcessWithoutNullStreams | undefined;
  private out = '';
  private waiter: ((s: string) => void) | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly dir = mkdtempSync(join(tmpdir(), 'stcts-festival-'));
  private n = 0;
  private closed = false;

  private async start(): Promise<void> {
    if (this.proc) return;
    const proc = spawn('festival', ['--pipe'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc = proc;
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (d: string) => {
      this.out += d;
      this.check();
    });
    proc.stderr.on('data', () => {});
    await new Promise<void>((resolve, reject) => {
      proc.once('error', (e: NodeJS.ErrnoException) =>
        reject(e.code === 'ENOENT' ? new EngineUnavailableError('hts', 'festival is not installed', 'apt-get install festival festvox-us-slt-hts') : e),
      );
      proc.once('spawn', resolve);
    });
    proc.on('exit', () => {
      this.proc = undefined;
      this.waiter?.('__EXIT__');
    });
    const ok = await this.command('(if (member_string "cmu_us_slt_arctic_hts" (voice.list)) (begin (voice_cmu_us_slt_arctic_hts) (format t "VOICE_OK\\n")) (format t "VOICE_MISSING\\n"))', 'VOICE_');
    if (!ok.includes('VOICE_OK')) throw new EngineUnavailableError('hts', 'the Festival voice cmu_us_slt_arctic_hts is missing', 'apt-get install festvox-us-slt-hts');
  }

  private check(): void {
    const i = this.out.indexOf('@@END@@');
    if (i >= 0 && this.waiter) {
      const text = this.out.slice(0, i);
      this.out = this.out.slice(i + 8);
      const w = this.waiter;
      this.waiter = undefined;
      w(text);
    }
  }

  private command(scheme: string, _tag: string): Promise<string> {
    return new Promise((resolve, reject) => {
      if (!this.proc) return reject(new EngineError('festival_exited', 'festival exited'));
      const timer = setTimeout(() => reject(new EngineError('festival_timeout', 'festival did not answer in 30 s')), 30_000);
      this.waiter = (s) => {
        clearTimeout(timer);
        if (s === '__EXIT__') reject(new EngineError('festival_exited', 'festival exited'));
        else resolve(s);
      };
      this.proc.stdin.write(`${scheme}\n(format t "@@END@@\\n")\n(fflush nil)\n`);
    });
  }

  /** Text → labels. */
  analyze(text: string): Promise<FrontEndResult> {
    if (this.closed) return Promise.reject(new InvalidStateError('FestivalFrontEnd used after close()'));
    if (text.length > MAX_FRONTEND_CHARS) return Promise.reject(new EngineError('text_too_long', `text of ${text.length} characters; split it into phrases of at most ${MAX_FRONTEND_CHARS}`));
    const run = this.queue.then(() => this.analyzeNow(text));
    this.queue = run.catch(() => {});
    return run;
  }

  private async analyzeNow(text: string): Promise<FrontEndResult> {
    await this.start();
    const lab = join(this.dir, `u${this.n++}.lab`);
    // Scheme string literal: escape backslashes and quotes; drop control characters.
    const safe = text.replace(/[\u0000-\u001f]/g, ' ').replace(/\\/g, '\\\\').replace(/"/g, '\\"');
    const out = await this.command(
      `(set! utt (Utterance Text "${safe}"))` +
        '(Initialize utt)(Text utt)(Token_POS utt)(Token utt)(POS utt)(Phrasify utt)(Word utt)(Pauses utt)(Intonation utt)(PostLex utt)(Duration utt)(Int_Targets utt)' +
        `(hts_dump_feats utt hts_feats_list "${lab}")` +
        '(mapcar (lambda (s) (format t "SEG %s\\n" (item.feat s "R:SylStructure.parent.parent.id"))) (utt.relation.items utt (quote Segment)))' +
        '(mapcar (lambda (w) (format t "WORD %s %s\\n" (item.feat w "id") (item.name w))) (utt.relation.items utt (quote Word)))',
      '@@END@@',
    );
    const wordIds: string[] = [];
    const words: string[] = [];
    const segWord: string[] = [];
    for (const line of out.split('\n')) {
      const m = /^(SEG|WORD) (\S+)(?: (.*))?$/.exec(line.trim());
      if (!m) continue;
      if (m[1] === 'SEG') segWord.push(m[2]!);
      else {
        wordIds.push(m[2]!);
        words.push(m[3] ?? '');
      }
    }
    let labText: string;
    try {
      labText = readFileSync(lab, 'utf8');
    } catch {
      throw new EngineError('festival_failed', `festival produced no labels for: ${text.slice(0, 80)}`);
    }
    rmSync(lab, { force: true });
    const lines = labText.split('\n').filter((l) => l.trim());
    const labels: HtsLabel[] = lines.map((l, i) => {
      const m = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l)!;
      const context = m[3]!;
      const phone = /-([^+]+)\+/.exec(context)?.[1] ?? 'pau';
      const wi = wordIds.indexOf(segWord[i] ?? '0');
      return { start: Number(m[1]), end: Number(m[2]), context, phone, wordIndex: wi >= 0 ? wi : undefined };
    });
    return { labels, words };
  }

  /** Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.proc?.stdin.end('(quit)\n');
    this.proc?.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
