/**
 * A long-lived `nft -i` child: one transaction per line, without a process per batch. nft reads
 * a line, runs its commands (separated by `;`) as one transaction and writes any error to stderr.
 * After each batch a sync line follows, a deliberate syntax error naming a sequence number
 * (`fleetban-sync-7`): nft's error for it echoes the line, so when it shows on stderr the batch
 * is done, and whatever stderr said before it is the batch's own error. One stream, in order: no
 * buffering of stdout to defeat. A child that dies is started again at the next batch.
 */
import type { ChildProcess } from 'node:child_process';
import { ExecError } from '@fleetban/shared';
import type { Spawn } from './exec.js';

/** Options of {@link NftSession}. */
export interface NftSessionOptions {
  /** A batch not done within this many ms kills the child and fails; default 30000. */
  timeoutMs?: number;
}

interface Pending {
  readonly marker: string;
  readonly resolve: () => void;
  readonly reject: (err: ExecError) => void;
  readonly timer: NodeJS.Timeout;
}

const COMMAND = 'nft -i';

/** One `nft -i` child, started at the first batch and after it dies; {@link close} ends it. */
export class NftSession {
  private child: ChildProcess | null = null;
  private stderr = '';
  private seq = 0;
  private pending: Pending | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly timeoutMs: number;
  /** Children started so far (the first one included). */
  starts = 0;

  constructor(private readonly spawn: Spawn, private readonly nft: string, opts: NftSessionOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  /** Pid of the running child, if any. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /**
   * Runs `script` (nft commands, one per line, as `nft -f` takes them) as one transaction.
   * Rejects with {@link ExecError} carrying nft's error text when nft refuses it, or when the
   * child dies or times out during it.
   */
  run(script: string): Promise<void> {
    const next = this.queue.then(() => this.send(script));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Ends the child (stdin closed, then SIGKILL after 1 s) and waits for it to exit. */
  async close(): Promise<void> {
    await this.queue;
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.stdin?.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 1000);
    await exited;
    clearTimeout(timer);
  }

  private send(script: string): Promise<void> {
    const line = script.split('\n').filter((l) => l.trim() !== '').join('; ');
    if (line === '') return Promise.resolve();
    const child = this.child ?? this.start();
    const marker = `fleetban-sync-${++this.seq}`;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new ExecError(COMMAND, `no answer within ${this.timeoutMs} ms`));
        child.kill('SIGKILL');
      }, this.timeoutMs);
      this.pending = { marker, resolve, reject, timer };
      child.stdin?.write(`${line}\n${marker}\n`);
    });
  }

  private start(): ChildProcess {
    const child = this.spawn(this.nft, ['-i']);
    this.starts++;
    this.child = child;
    this.stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      if (this.child !== child) return;
      this.stderr += chunk;
      this.settle();
    });
    // a write to a dead child: its exit (below) reports the failure
    child.stdin?.on('error', () => undefined);
    const gone = (why: string, cause?: unknown): void => {
      if (this.child !== child) return;
      this.child = null;
      const said = this.stderr.trim();
      this.fail(new ExecError(COMMAND, said === '' ? why : `${why}: ${said}`, cause === undefined ? undefined : { cause }));
    };
    child.once('error', (err) => gone(`could not run ${this.nft}`, err));
    child.once('exit', (code, signal) => gone(`exited (${signal ?? code})`));
    return child;
  }

  /** Completes the pending batch once its sync line's error is on stderr. */
  private settle(): void {
    const p = this.pending;
    if (!p) return;
    const at = this.stderr.indexOf(`\n${p.marker}\n`);
    if (at < 0) return;
    const end = this.stderr.indexOf('\n', at + p.marker.length + 2);
    if (end < 0) return; // the caret line under the marker is still to come
    const errorLine = this.stderr.lastIndexOf('Error:', at);
    const said = this.stderr.slice(0, Math.max(0, errorLine)).trim();
    this.stderr = this.stderr.slice(end + 1);
    this.pending = null;
    clearTimeout(p.timer);
    if (said.includes('Error:')) p.reject(new ExecError(COMMAND, said));
    else p.resolve();
  }

  private fail(err: ExecError): void {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    clearTimeout(p.timer);
    p.reject(err);
  }
}
