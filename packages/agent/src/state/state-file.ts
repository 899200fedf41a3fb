/**
 * Small JSON files the agent keeps in `state_dir` so that a restart, or a start without NATS,
 * carries on where the last run stopped: the fleet's ban list, the local bans, the fleet's
 * addresses. Written whole to a temporary file and renamed (a crash leaves the old or the new
 * file, never half of one); a missing file is "nothing saved", an unreadable one is logged and
 * ignored.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '@fleetban/shared';

/** The parsed content of `file`, or undefined when there is none or it cannot be read (then logged as `what`). */
export function readStateFile(file: string, what: string, logger: Logger): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') logger.warn({ err, file }, `saved ${what} unreadable: ignored`);
    return undefined;
  }
}

/** Replaces `file` with `data` as JSON (atomically); a failure is logged as `what`, never thrown. */
export function writeStateFile(file: string, data: unknown, what: string, logger: Logger): boolean {
  try {
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, JSON.stringify(data));
    renameSync(tmp, file);
    return true;
  } catch (err) {
    logger.warn({ err, file }, `cannot save the ${what}`);
    return false;
  }
}
