/**
 * nkey seed files: one line, the seed (`SU...`), mode 0600. A seed is the member's secret; the
 * server only ever sees its public key.
 */

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createUser, fromSeed } from '@nats-io/nkeys';
import { CredentialsError } from '../errors.js';

/**
 * Creates a new user key pair, writes its seed to `file` (replacing any earlier one, mode 0600)
 * and returns its public key.
 */
export function createSeedFile(file: string): string {
  const kp = createUser();
  const seed = new TextDecoder().decode(kp.getSeed());
  rmSync(file, { force: true });
  // 'wx': a file that appears meanwhile is not written through; mode applies at creation
  writeFileSync(file, `${seed}\n`, { mode: 0o600, flag: 'wx' });
  return kp.getPublicKey();
}

/**
 * Reads and checks a seed file: the bytes of a user seed, for `nkeyAuthenticator`. A missing,
 * unreadable or malformed file is a {@link CredentialsError} naming it.
 */
export function readSeedFile(file: string): Uint8Array {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new CredentialsError(file, `cannot read the nkey seed file (${code})`, { cause: err });
  }
  const seed = new TextEncoder().encode(text);
  try {
    if (!fromSeed(seed).getPublicKey().startsWith('U')) throw new Error('not a user seed');
  } catch (err) {
    throw new CredentialsError(file, 'expected an nkey user seed (one line starting with SU)', { cause: err });
  }
  return seed;
}

/** The public key of the seed in `file`; throws as {@link readSeedFile}. */
export function seedPublicKey(file: string): string {
  return fromSeed(readSeedFile(file)).getPublicKey();
}
