/**
 * One error class per failure kind. Each has a stable `code` to branch on (never the message)
 * and keeps the foreign error it wraps as `cause`.
 */
export class FleetbanError extends Error {
  /** Stable machine-readable code. */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A configuration file is malformed: names the file, the key and what was expected. */
export class ConfigError extends FleetbanError {
  readonly file: string;
  readonly key: string;
  readonly expected: string;
  constructor(file: string, key: string, expected: string, got?: string, options?: { cause?: unknown }) {
    const seen = got === undefined ? '' : `, got ${JSON.stringify(got)}`;
    super('CONFIG_INVALID', `${file}: ${key}: expected ${expected}${seen}`, options);
    this.file = file;
    this.key = key;
    this.expected = expected;
  }
}

/** A value (address, duration, subject token) could not be parsed. */
export class ParseError extends FleetbanError {
  constructor(what: string, value: string, options?: { cause?: unknown }) {
    super('PARSE_INVALID', `not a valid ${what}: ${JSON.stringify(value)}`, options);
  }
}

/** A wire message could not be decoded or failed validation. */
export class DecodeError extends FleetbanError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DECODE_FAILED', message, options);
  }
}

/** Whether `err` or one of the errors that caused it (four deep at most) passes `test`. */
export function anyCause(err: unknown, test: (e: Error & { code?: unknown; status?: unknown }) => boolean): boolean {
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) if (test(e)) return true;
  return false;
}

/** NATS connection, stream or bucket failure. */
export class NatsError extends FleetbanError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NATS_FAILED', message, options);
  }
}

/**
 * A credentials file (an nkey seed, the members file) is missing, unreadable or malformed. Names
 * the file; the foreign failure (errno, nkeys) is the `cause`.
 */
export class CredentialsError extends FleetbanError {
  readonly file: string;
  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super('CREDENTIALS_INVALID', `${file}: ${problem}`, options);
    this.file = file;
  }
}

/** A change of the fleet's membership was refused (a name already enrolled, or not a member). */
export class MembershipError extends FleetbanError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MEMBERSHIP_REFUSED', message, options);
  }
}

/** An external command (nft, iptables, nats-server) failed. */
export class ExecError extends FleetbanError {
  readonly command: string;
  readonly stderr: string;
  constructor(command: string, stderr: string, options?: { cause?: unknown }) {
    super('EXEC_FAILED', `${command} failed: ${stderr.trim().split('\n')[0] ?? ''}`, options);
    this.command = command;
    this.stderr = stderr;
  }
}

/** An admin request was refused by the controller. */
export class AdminError extends FleetbanError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ADMIN_REFUSED', message, options);
  }
}

/** A ban was refused by a lockout guard (it would cover a protected address, or break a limit). */
export class BanRefusedError extends FleetbanError {
  /** The guard's refusal code (`fleet-host`, `too-broad`, ...). */
  readonly refusal: string;
  constructor(refusal: string, message: string) {
    super('BAN_REFUSED', message);
    this.refusal = refusal;
  }
}

/** A server (the metrics endpoint) could not listen on its configured address. */
export class ListenError extends FleetbanError {
  /** The address as configured, `host:port`. */
  readonly address: string;
  constructor(address: string, options?: { cause?: unknown }) {
    const why = (options?.cause as NodeJS.ErrnoException | undefined)?.code ?? 'unknown error';
    super('LISTEN_FAILED', `cannot listen on ${address}: ${why}`, options);
    this.address = address;
  }
}
