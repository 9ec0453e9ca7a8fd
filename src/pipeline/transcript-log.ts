import { open, type FileHandle } from 'node:fs/promises';
import { InvalidStateError, UsageError } from '../core/errors.ts';

/** One line of `--transcript FILE` (issue #14): the phrase's seq, its text, and a wall-clock time (ms since the epoch). */
export interface TranscriptLine {
  seq: number;
  text: string;
  t: number;
}

/**
 * `stcts send|receive --transcript FILE`: JSON lines in delivery order, each written (and
 * flushed to the OS) as it happens, so a run killed midway keeps what was delivered.
 */
export class TranscriptLog {
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(private readonly file: FileHandle) {}

  /** `append`: keep what the file holds (a run resumed from its state dir, issue #16 item 5). */
  static async create(path: string, options: { append?: boolean } = {}): Promise<TranscriptLog> {
    try {
      return new TranscriptLog(await open(path, options.append ? 'a' : 'w'));
    } catch (err) {
      throw new UsageError(`--transcript ${path} cannot be written: ${(err as Error).message}`);
    }
  }

  /** Appends a line; lines keep the order of the calls. */
  write(line: TranscriptLine): Promise<void> {
    if (this.closed) throw new InvalidStateError('TranscriptLog used after close()');
    const run = this.chain.then(() => this.file.write(JSON.stringify(line) + '\n')).then(() => {});
    this.chain = run.catch(() => {});
    return run;
  }

  /** Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.chain;
    await this.file.close();
  }
}
