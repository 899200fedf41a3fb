/**
 * What a set-based backend provides to {@link SetEnforcer} (set-enforcer.ts): reading, building
 * and writing its kernel objects, and, optionally, a cheap look at their structure.
 */
import { FleetbanError } from '@fleetban/shared';
import type { OpStream } from './plan-stream.js';
import type { ElementOp } from './reconcile.js';
import type { SetElement } from './set-element.js';

/** The kernel's view of a backend's objects. */
export interface KernelState {
  /** `wrong` = objects of another kind with fleetban's names (a rebuild loses their elements). */
  readonly structure: 'ok' | 'missing' | 'incomplete' | 'wrong';
  /** What differs from the wanted structure, for the log (empty when `ok`). */
  readonly problems: readonly string[];
  /** Live elements of fleetban's sets. */
  readonly elements: SetElement[];
  /** Changes when fleetban's objects are created again (nft: table and set handles); absent if unknown. */
  readonly fingerprint?: string;
}

/** A cheap look at the kernel: the structure and its fingerprint, no elements. */
export interface KernelPeek {
  readonly structure: KernelState['structure'];
  readonly problems: readonly string[];
  readonly fingerprint: string;
}

/** One backend's kernel access. Every method is one transaction where the kernel allows it. */
export interface SetDriver {
  /** Backend name (`nftables`, `iptables`). */
  readonly name: string;
  /** Longest timeout the sets take. */
  readonly maxTimeoutS: number;
  /** The sets hold single ports only: port ranges become one element per port. */
  readonly singlePorts: boolean;
  /** Reads fleetban's objects and checks their structure. */
  read(nowMs: number): Promise<KernelState>;
  /**
   * Reads the structure only (cheap). Absent: every reconcile reads every element. Present: a
   * reconcile that finds the structure and fingerprint unchanged trusts its own view of the
   * elements, and reads them back only every `fullReadEvery` reconciles or `fullReadMs`.
   */
  peek?(): Promise<KernelPeek>;
  /** Ends whatever the driver keeps running (a session child); idempotent. */
  close?(): Promise<void>;
  /**
   * Creates what is missing and rewrites fleetban's rules (elements kept); objects of the wrong
   * kind are deleted and recreated (their elements lost). Idempotent.
   */
  ensure(state: KernelState): Promise<void>;
  /**
   * Applies element operations in one batch; rejects when the kernel refuses any of them. A
   * driver that splits a large batch into several transactions rejects with
   * {@link PartialWriteError} when some of them were committed, and may call `onPart` with each
   * transaction's operations once it is committed, so the caller records them while the rest
   * are still being written (the driver waits for a promise `onPart` returns before it settles).
   * A driver that calls `onPart` calls it for every committed operation (the caller then records
   * nothing else of this write); one that does not call it leaves the recording to the caller.
   */
  write(ops: readonly ElementOp[], nowMs: number, onPart?: (committed: readonly ElementOp[]) => void | Promise<void>): Promise<void>;
  /**
   * Optional: {@link write} of a plan made as it is written (plan-stream.ts), so a large batch's
   * first transaction starts before its last operations are planned. Takes every operation of
   * `plan` (filling it first) and calls `onPart` with each committed transaction's operations,
   * always (also when the batch was one transaction); rejects like {@link write}.
   */
  writePlan?(plan: OpStream, nowMs: number, onPart?: (committed: readonly ElementOp[]) => void | Promise<void>): Promise<void>;
  /** Removes every object fleetban created (idempotent). */
  remove(): Promise<void>;
}

/**
 * A batch written as several transactions of which some were committed and some refused: the
 * caller records `committed` as done and carries on with `rejected`. The refusal is the `cause`.
 */
export class PartialWriteError extends FleetbanError {
  readonly committed: readonly ElementOp[];
  readonly rejected: readonly ElementOp[];
  constructor(committed: readonly ElementOp[], rejected: readonly ElementOp[], options: { cause: unknown }) {
    super('WRITE_PARTIAL', `${rejected.length} of ${committed.length + rejected.length} element operations refused`, options);
    this.committed = committed;
    this.rejected = rejected;
  }
}
