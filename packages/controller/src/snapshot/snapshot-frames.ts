/**
 * Snapshot format version 4: frames, each [kind u8][payload length u32 LE][payload]. The first is
 * the head ('H', the same JSON object as version 3's first line, `v: 4`); then each window's rows
 * in binary ('W', snapshot-window-frame.ts), then the seen keys, bans and offences as version 3's
 * JSON objects ('J'). A reader tells it from versions 2 and 3 by its first byte ('H', not '{').
 */
import type { Writable } from 'node:stream';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { DecodeError } from '@fleetban/shared';
import { headOf, itemSlices } from './snapshot-lines.js';
import { type ControllerSnapshot, parseObject, SnapshotReader } from './snapshot-reader.js';
import { FRAME_HEAD_BYTES, FRAME_KIND, FrameBuffer, MAX_FRAME_BYTES, readWindowFrame, WindowFrameWriter } from './snapshot-window-frame.js';

/**
 * Writes the snapshot as version 4 frames into `to`, a frame per turn of the event loop, then
 * ends it. Frames are written into two buffers in turn, each reused once `to` consumed what was
 * last written from it (deflate reads it in the thread pool): a save makes no buffer per frame.
 */
export async function writeFrames(to: Writable, s: ControllerSnapshot): Promise<void> {
  const buffers = [new FrameBuffer(), new FrameBuffer()];
  let turn = 0;
  /** The next buffer, once what was written from it was consumed. */
  const next = async (): Promise<FrameBuffer> => {
    const b = buffers[turn++ % 2] as FrameBuffer;
    await b.consumed;
    return b;
  };
  // at most the two buffers' frames wait in `to`: no need to wait for its 'drain'
  const send = (b: FrameBuffer): void => {
    const frame = b.finish();
    b.consumed = new Promise((resolve) => void to.write(frame, () => resolve()));
  };
  const json = async (kind: number, o: Record<string, unknown>): Promise<void> => {
    const b = await next();
    const text = JSON.stringify(o);
    b.begin(kind);
    b.room(text.length * 3);
    b.text(text, true);
    send(b);
  };
  await json(FRAME_KIND.head, headOf(s, 4));
  const rows = new WindowFrameWriter();
  for (const [j, jail] of s.jails.entries()) {
    for (let i = 0; i < jail.addresses.length; ) {
      const b = await next();
      i = rows.write(b, j, jail.addresses, i);
      send(b);
      await yieldToLoop();
    }
    // a window read is released at once: while its capture is live the window keeps what it changes
    jail.addresses.release?.();
  }
  for (const o of itemSlices(s)) {
    await json(FRAME_KIND.json, o);
    await yieldToLoop();
  }
  await Promise.all(buffers.map((b) => b.consumed));
  to.end();
}

/** Decodes frames as inflated bytes come: a frame is read once it is whole. */
export class FrameReader {
  readonly #read = new SnapshotReader([4]);
  /** Bytes received and not yet read, in the order they came. */
  #pieces: Buffer[] = [];
  #held = 0;

  /** Takes inflated bytes and reads each frame they complete (a DecodeError when one does not decode). */
  take(chunk: Buffer): void {
    this.#pieces.push(chunk);
    this.#held += chunk.length;
    while (this.#held >= FRAME_HEAD_BYTES) {
      const head = this.#peek(FRAME_HEAD_BYTES);
      const kind = head[0] as number;
      const length = head.readUInt32LE(1);
      if (length > MAX_FRAME_BYTES) throw new DecodeError(`snapshot: a frame of ${length} bytes (at most ${MAX_FRAME_BYTES})`);
      if (this.#held < FRAME_HEAD_BYTES + length) return;
      this.#frame(kind, this.#next(FRAME_HEAD_BYTES + length).subarray(FRAME_HEAD_BYTES));
    }
  }

  /** The snapshot read, once every byte was taken (a DecodeError when it is cut or incomplete). */
  end(): ControllerSnapshot {
    if (this.#held > 0) throw new DecodeError('snapshot: its last frame is cut');
    return this.#read.end();
  }

  #frame(kind: number, payload: Buffer): void {
    if (!this.#read.started) {
      if (kind !== FRAME_KIND.head) throw new DecodeError('snapshot: its first frame is not its head');
      this.#read.head(parseObject(payload.toString('utf8')));
    } else if (kind === FRAME_KIND.window) readWindowFrame(payload, (j) => this.#read.window(j));
    else if (kind === FRAME_KIND.json) this.#read.item(parseObject(payload.toString('utf8')));
    else throw new DecodeError(`snapshot: a frame of unknown kind ${kind}`);
  }

  /** The first `n` bytes held (`n` at most {@link FRAME_HEAD_BYTES}: joined when cut). */
  #peek(n: number): Buffer {
    const first = this.#pieces[0] as Buffer;
    return first.length >= n ? first : Buffer.concat(this.#pieces, n);
  }

  /** Takes the first `n` bytes held: a view of one piece, or the pieces it spans joined. */
  #next(n: number): Buffer {
    this.#held -= n;
    const first = this.#pieces[0] as Buffer;
    if (first.length >= n) {
      if (first.length === n) this.#pieces.shift();
      else this.#pieces[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    while (at < n) {
      const p = this.#pieces[0] as Buffer;
      const take = Math.min(p.length, n - at);
      p.copy(out, at, 0, take);
      at += take;
      if (take === p.length) this.#pieces.shift();
      else this.#pieces[0] = p.subarray(take);
    }
    return out;
  }
}
