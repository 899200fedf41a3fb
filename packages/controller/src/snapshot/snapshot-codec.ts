import { once } from 'node:events';
import { createDeflateRaw, createInflateRaw } from 'node:zlib';
import { DecodeError, SNAPSHOT_PART_BYTES } from '@fleetban/shared';
import { FrameReader, writeFrames } from './snapshot-frames.js';
import { LineReader, writeLines } from './snapshot-lines.js';
import { FRAME_KIND } from './snapshot-window-frame.js';
import type { ControllerSnapshot } from './snapshot-reader.js';

export type { ControllerSnapshot } from './snapshot-reader.js';

/**
 * The snapshot format this controller writes. Version 1 held an array or object per item (not
 * read: a full rebuild instead); version 2 holds columns (snapshot-columns.ts) and the seen events'
 * ids; version 3 holds their keys (snapshot-seen.ts); version 4 holds the windows' rows in binary
 * frames (snapshot-frames.ts, snapshot-window-frame.ts), written into reused buffers without
 * JSON, and the rest as version 3's JSON. Versions 2, 3 and 4 are read.
 */
export const SNAPSHOT_VERSION = 4;

/**
 * The snapshot as parts of at most {@link SNAPSHOT_PART_BYTES} bytes: its head, then the windows,
 * seen keys, bans and offences in slices, one slice per turn of the event loop (decisions go on
 * while a large snapshot is encoded), deflated (level 1, in node's thread pool: a snapshot is
 * 5–10 times smaller, read and written that much faster). `version` 3 writes lines of JSON
 * (tests and comparisons), 4 ({@link SNAPSHOT_VERSION}) frames.
 */
export async function* encodeSnapshot(s: ControllerSnapshot, version: 3 | 4 = SNAPSHOT_VERSION): AsyncGenerator<Buffer> {
  const deflate = createDeflateRaw({ level: 1 });
  const feeding = (version === 3 ? writeLines : writeFrames)(deflate, s).catch((err: unknown) => void deflate.destroy(err as Error));
  let pending: Buffer[] = [];
  let size = 0;
  for await (const chunk of deflate as AsyncIterable<Buffer>) {
    pending.push(chunk);
    size += chunk.length;
    while (size >= SNAPSHOT_PART_BYTES) {
      const all = Buffer.concat(pending);
      yield all.subarray(0, SNAPSHOT_PART_BYTES);
      const rest = all.subarray(SNAPSHOT_PART_BYTES);
      pending = rest.length > 0 ? [rest] : [];
      size = rest.length;
    }
  }
  await feeding;
  if (size > 0) yield Buffer.concat(pending);
}

/**
 * Reads what {@link encodeSnapshot} wrote (any version read), as its parts arrive and are inflated;
 * throws {@link DecodeError} naming what is wrong (or what `parts` throws).
 */
export async function decodeSnapshot(parts: AsyncIterable<Uint8Array>): Promise<ControllerSnapshot> {
  const inflate = createInflateRaw({ chunkSize: 1 << 20 });
  let reader: LineReader | FrameReader | undefined;
  const reading = (async () => {
    for await (const chunk of inflate as AsyncIterable<Buffer>) {
      if (chunk.length === 0) continue;
      // versions 2 and 3 begin with a line of JSON, version 4 with its head frame
      reader ??= chunk[0] === 0x7b ? new LineReader() : chunk[0] === FRAME_KIND.head ? new FrameReader() : undefined;
      if (!reader) throw new DecodeError('snapshot: neither lines of JSON nor frames');
      reader.take(chunk);
    }
  })();
  try {
    for await (const part of parts) if (!inflate.write(part)) await once(inflate, 'drain');
    inflate.end();
  } catch (err) {
    // a line that does not decode ends the reading, and with it the writing: its error is the one
    inflate.destroy();
    const failed: unknown = await reading.then(() => undefined, (e: unknown) => e);
    if (failed instanceof DecodeError) throw failed;
    throw isZlibError(err) ? new DecodeError('snapshot: not deflated data', { cause: err }) : err;
  }
  try {
    await reading;
  } catch (cause) {
    if (cause instanceof DecodeError || !isZlibError(cause)) throw cause;
    throw new DecodeError('snapshot: not deflated data', { cause });
  }
  if (!reader) throw new DecodeError('snapshot: empty');
  return reader.end();
}

/** True for an error of node's zlib (its codes are Z_…: the bytes are not what deflate makes). */
function isZlibError(err: unknown): boolean {
  return typeof (err as { code?: unknown })?.code === 'string' && (err as { code: string }).code.startsWith('Z_');
}
