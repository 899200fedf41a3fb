import { once } from 'node:events';
import { FleetbanError } from '@fleetban/shared';

/** The reader of the output went away (EPIPE: `fleetban banned | head`): not a failure of the command. */
export class OutputClosedError extends FleetbanError {
  constructor(cause: unknown) {
    super('OUTPUT_CLOSED', 'the output was closed by its reader', { cause });
  }
}

/**
 * Lines written to a stream (stdout) in chunks of about `chunkChars`, waiting for `drain` when the
 * stream's buffer is full: a list of a million lines goes out at the reader's pace (a pipe, a
 * terminal) without piling up in memory. An error of the stream is thrown by the next
 * {@link line} or {@link flush}: {@link OutputClosedError} when the reader went away (EPIPE).
 */
export class LineOutput {
  #buf = '';
  #error: Error | undefined;

  constructor(
    private readonly out: NodeJS.WritableStream = process.stdout,
    private readonly chunkChars = 64 * 1024,
  ) {
    out.on('error', (err: NodeJS.ErrnoException) => (this.#error ??= err.code === 'EPIPE' ? new OutputClosedError(err) : err));
  }

  /** Adds one line (without its newline); writes when a chunk is full. */
  async line(text: string): Promise<void> {
    this.#buf += `${text}\n`;
    if (this.#buf.length >= this.chunkChars) await this.flush();
  }

  /** Writes what is buffered and waits until the stream can take more. */
  async flush(): Promise<void> {
    if (this.#error) throw this.#error;
    if (this.#buf === '') return;
    const chunk = this.#buf;
    this.#buf = '';
    if (!this.out.write(chunk)) await once(this.out, 'drain').catch(() => undefined);
    if (this.#error) throw this.#error;
  }
}
