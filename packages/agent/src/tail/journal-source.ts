import { type ChildProcessByStdio, execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { FleetbanError, type Clock, type Logger } from '@fleetban/shared';
import { type JournalHost, journalProblem, JournalUnavailableError, SYSTEM_JOURNAL } from './journal-check.js';
import { formatJournalEntry, JOURNAL_FIELDS } from './journal-entry.js';
import { utf8Decoder } from './line-decoder.js';
import { type LineCounters, LineSplitter } from './line-splitter.js';
import type { LogLine, LogSource, ReadGate, SourceCounters } from './log-source.js';
import { PositionStore } from './position-store.js';
import type { JournalSpec } from './source-spec.js';

const run = promisify(execFile);

/** Options of {@link JournalSource}. */
export interface JournalSourceOptions {
  readonly spec: JournalSpec;
  /** The cursor is kept in `<stateDir>/tail/<name>.json`. */
  readonly stateDir: string;
  readonly name: string;
  /** Longest line delivered, in bytes; longer entries are skipped and counted. */
  readonly maxLineBytes: number;
  /** How often a blocked gate is looked at again, in ms. */
  readonly pollMs: number;
  /** How often the cursor is saved while running, in ms (and always at stop). Default 1000. */
  readonly checkpointMs?: number;
  /** journalctl and the system journal's directory (for a spec naming neither directory nor files); default {@link SYSTEM_JOURNAL}. */
  readonly host?: JournalHost;
  readonly gate?: ReadGate;
  readonly logger: Logger;
  readonly clock: Clock;
}

interface SavedCursor {
  readonly v: 1;
  readonly cursor: string;
}

function isSavedCursor(v: unknown): v is SavedCursor {
  return typeof v === 'object' && v !== null && (v as SavedCursor).v === 1 && typeof (v as SavedCursor).cursor === 'string';
}

/**
 * systemd journal backend: follows `journalctl -f -o json` with the jail's journalmatch, turns
 * each entry into a syslog-style line (journal-entry.ts), and keeps the cursor of the last entry
 * delivered, so a restarted agent continues right after it. Without a saved cursor it starts at
 * the journal's current end. journalctl exiting is logged and it is started again from the cursor.
 * `start()` rejects with {@link JournalUnavailableError} when the journal cannot be read on this
 * host (no journalctl, no journal files: a container without systemd), before running anything.
 */
export class JournalSource implements LogSource {
  readonly #o: JournalSourceOptions;
  readonly #host: JournalHost;
  readonly #log: Logger;
  readonly #store: PositionStore<SavedCursor>;
  readonly #jsonCounters: LineCounters = { lines: 0, skipped: 0, undecodable: 0 };
  readonly #c = { lines: 0, skipped: 0, undecodable: 0 };
  readonly #line: LogLine = { path: 'journal', text: '', readMs: 0, timeMs: 0, id: '' };
  /** Ids of entries without a cursor (never seen from journalctl): unique, not stable. */
  readonly #run = randomBytes(6).toString('base64url');
  readonly #splitter: LineSplitter;
  #onLine: (l: LogLine) => void = () => {};
  #proc: ChildProcessByStdio<null, Readable, Readable> | null = null;
  #exited: Promise<void> = Promise.resolve();
  #cursor = '';
  #running = false;
  #restartTimer: NodeJS.Timeout | null = null;
  #gateTimer: NodeJS.Timeout | null = null;
  #checkpointTimer: NodeJS.Timeout | null = null;
  #failures = 0;

  constructor(o: JournalSourceOptions) {
    this.#o = o;
    this.#host = o.host ?? SYSTEM_JOURNAL;
    this.#log = o.logger.child({ stage: 'tail', backend: 'systemd' });
    this.#store = new PositionStore(o.stateDir, o.name, this.#log);
    // JSON escapes can make a line several times longer than its message: the message's own
    // length is checked after decoding
    this.#splitter = new LineSplitter({
      maxLineBytes: Math.max(1 << 20, o.maxLineBytes * 7 + 65536), decoder: utf8Decoder,
      counters: this.#jsonCounters, onLine: (json) => this.#entry(json),
      onSkip: () => this.#c.skipped++,
    });
  }

  async start(onLine: (l: LogLine) => void): Promise<void> {
    if (this.#running) throw new FleetbanError('TAIL_STARTED', 'JournalSource.start() called twice');
    const problem = journalProblem(this.#o.spec, this.#host);
    if (problem !== null) throw new JournalUnavailableError(`cannot read the systemd journal: ${problem}`);
    this.#running = true;
    this.#onLine = onLine;
    const saved = await this.#store.load(isSavedCursor);
    this.#cursor = saved?.cursor ?? (await this.#endCursor());
    this.#log.info({ cursor: this.#cursor || '(start of journal)', saved: saved !== null }, 'following the journal');
    this.#spawn();
    this.#checkpointTimer = setInterval(() => void this.#save(), this.#o.checkpointMs ?? 1000);
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    for (const t of [this.#restartTimer, this.#gateTimer]) if (t) clearTimeout(t);
    if (this.#checkpointTimer) clearInterval(this.#checkpointTimer);
    this.#proc?.kill('SIGTERM');
    await this.#exited;
    await this.#save();
  }

  counters(): SourceCounters {
    return { files: this.#proc ? 1 : 0, ...this.#c, bytesBehind: this.#proc?.stdout.readableLength ?? 0 };
  }

  /** journalctl's arguments selecting the journal (not the matches). */
  #where(): string[] {
    const s = this.#o.spec;
    const directory = s.directory || (s.files.length === 0 ? this.#host.directory : '');
    return [...(directory ? [`--directory=${directory}`] : []), ...s.files.map((f) => `--file=${f}`)];
  }

  /** The cursor of the journal's last entry now ('' when it is empty): the first start's position. */
  async #endCursor(): Promise<string> {
    try {
      const { stdout } = await run(this.#host.journalctl, [...this.#where(), '-n', '1', '-o', 'json', '--output-fields=__CURSOR', '--no-pager', '-q'], { maxBuffer: 1 << 20 });
      const line = stdout.trim().split('\n').pop() ?? '';
      return line ? (formatJournalEntry(JSON.parse(line))?.cursor ?? '') : '';
    } catch (err) {
      this.#log.warn({ err }, 'cannot read the end of the journal; starting at its beginning');
      return '';
    }
  }

  #spawn(): void {
    const args = [
      ...this.#where(), '-f', '-o', 'json', '--all', '--no-pager', '-q', `--output-fields=${JOURNAL_FIELDS.join(',')}`,
      ...(this.#cursor ? [`--after-cursor=${this.#cursor}`] : ['--no-tail']),
      ...this.#o.spec.matches,
    ];
    const proc = spawn(this.#host.journalctl, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#proc = proc;
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => { if (stderr.length < 4096) stderr += d.toString(); });
    proc.stdout.on('data', (d: Buffer) => {
      if (!this.#running || this.#proc !== proc) return;
      this.#line.readMs = this.#o.clock();
      this.#splitter.push(d, d.length);
      if (this.#o.gate?.blocked) this.#hold(proc);
    });
    this.#exited = new Promise((resolve) => {
      proc.once('close', (code, signal) => {
        if (this.#proc === proc) this.#proc = null;
        this.#splitter.reset();
        resolve();
        if (!this.#running) return;
        this.#failures++;
        const delay = Math.min(30_000, 500 * 2 ** Math.min(this.#failures, 6));
        this.#log.warn({ code, signal, stderr: stderr.trim(), retryMs: delay }, 'journalctl exited; starting it again from the cursor');
        this.#restartTimer = setTimeout(() => { if (this.#running) this.#spawn(); }, delay);
      });
      proc.once('error', (err) => this.#log.error({ err }, 'cannot run journalctl'));
    });
  }

  /** Back-pressure: stops reading journalctl's output until the gate opens. */
  #hold(proc: ChildProcessByStdio<null, Readable, Readable>): void {
    proc.stdout.pause();
    let held = true;
    const check = () => {
      if (!held || !this.#running || this.#proc !== proc) return;
      if (this.#o.gate?.blocked) {
        this.#gateTimer = setTimeout(check, this.#o.pollMs);
        return;
      }
      held = false;
      if (this.#gateTimer) clearTimeout(this.#gateTimer);
      proc.stdout.resume();
    };
    this.#gateTimer = setTimeout(check, this.#o.pollMs);
    this.#o.gate?.whenOpen?.(check);
  }

  #entry(json: string): void {
    let text: string;
    let timeMs: number;
    let cursor: string;
    try {
      const e = formatJournalEntry(JSON.parse(json));
      if (!e) throw new Error('not an object');
      ({ text, timeMs, cursor } = e);
    } catch (err) {
      this.#c.skipped++;
      this.#log.debug({ err }, 'journal entry skipped: not JSON');
      return;
    }
    if (cursor) this.#cursor = cursor;
    this.#failures = 0;
    if (text.length > this.#o.maxLineBytes && Buffer.byteLength(text) > this.#o.maxLineBytes) {
      this.#c.skipped++;
      return;
    }
    if (text.includes('\uFFFD')) this.#c.undecodable++;
    this.#c.lines++;
    const l = this.#line;
    l.text = text;
    l.timeMs = timeMs;
    l.id = cursor ? `j${createHash('sha1').update(cursor).digest('base64url').slice(0, 16)}` : `${this.#run}:${this.#c.lines}`;
    try {
      this.#onLine(l);
    } catch (err) {
      this.#log.error({ err }, 'line consumer threw; line dropped');
    }
  }

  async #save(): Promise<void> {
    if (this.#cursor) await this.#store.save({ v: 1, cursor: this.#cursor });
  }
}
