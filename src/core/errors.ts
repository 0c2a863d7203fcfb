/**
 * Error classes of the public API. Every class carries a stable `code` that callers may switch on;
 * messages are for people and may change. Broken invariants throw {@link InvariantError}; expected
 * protocol outcomes are returned as values, not thrown.
 */

/** Base class of every error Solar Orbit raises on purpose. */
export class SolarOrbitError extends Error {
  /** Stable, machine-readable identifier of the error kind. */
  readonly code: string

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/** An argument or option is out of range or malformed (a non power-of-two partition count, say). */
export class InvalidArgumentError extends SolarOrbitError {
  static readonly code = 'ERR_INVALID_ARGUMENT'
  constructor(message: string, options?: ErrorOptions) {
    super(InvalidArgumentError.code, message, options)
  }
}

/** Bytes from the wire or from disk failed validation: malformed, truncated, oversized or of an unknown version. */
export class DecodeError extends SolarOrbitError {
  static readonly code = 'ERR_DECODE'
  constructor(message: string, options?: ErrorOptions) {
    super(DecodeError.code, message, options)
  }
}

/** A value exceeds a configured size limit (key, value, frame or state). */
export class TooLargeError extends SolarOrbitError {
  static readonly code = 'ERR_TOO_LARGE'
  /** The size that was offered, in bytes. */
  readonly sizeBytes: number
  /** The configured limit, in bytes. */
  readonly limitBytes: number

  constructor(what: string, sizeBytes: number, limitBytes: number) {
    super(
      TooLargeError.code,
      `${what} is ${sizeBytes} bytes, over the limit of ${limitBytes} bytes`,
    )
    this.sizeBytes = sizeBytes
    this.limitBytes = limitBytes
  }
}

/** A staged plan no longer matches the cluster state it was made from; plan again. */
export class StalePlanError extends SolarOrbitError {
  static readonly code = 'ERR_STALE_PLAN'
  constructor(message: string) {
    super(StalePlanError.code, message)
  }
}

/** A membership change was refused (unknown member, a member that is not in a state that allows it). */
export class MembershipError extends SolarOrbitError {
  static readonly code = 'ERR_MEMBERSHIP'
  constructor(message: string) {
    super(MembershipError.code, message)
  }
}

/** Storage failed: the directory is locked by another process, not writable, or a file is corrupt. */
export class StorageError extends SolarOrbitError {
  static readonly code = 'ERR_STORAGE'
  constructor(message: string, options?: ErrorOptions) {
    super(StorageError.code, message, options)
  }
}

/** An on-disk record failed its checksum in the middle of a file (not a torn tail). */
export class CorruptionError extends SolarOrbitError {
  static readonly code = 'ERR_CORRUPTION'
  /** The file that holds the corrupt record. */
  readonly file: string
  /** Byte offset of the corrupt record in that file. */
  readonly offset: number

  constructor(file: string, offset: number, detail: string) {
    super(CorruptionError.code, `corrupt record in ${file} at offset ${offset}: ${detail}`)
    this.file = file
    this.offset = offset
  }
}

/** The operation was used after `close()`. */
export class ClosedError extends SolarOrbitError {
  static readonly code = 'ERR_CLOSED'
  constructor(what: string) {
    super(ClosedError.code, `${what} is closed`)
  }
}

/** A broken invariant: a bug, never an expected outcome. Fails a simulation seed. */
export class InvariantError extends SolarOrbitError {
  static readonly code = 'ERR_INVARIANT'
  constructor(message: string) {
    super(InvariantError.code, message)
  }
}
