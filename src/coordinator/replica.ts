/**
 * How a coordinator reports the replicas it asked: which answered, which failed and why, and whether
 * each served as the partition's primary or as a fallback (sloppy quorum).
 */
import { SolarOrbitError } from '../core/index.ts'
import type { PreflistEntry } from '../ring/index.ts'
import { RemoteError } from '../transport/index.ts'

/** A replica that answered: its preflist entry (partition, member, primary or fallback). */
export interface ReplicaAnswer extends PreflistEntry {
  /** True when the replica acknowledged a write only once it was on stable storage (DW). */
  readonly durable: boolean
}

/** A replica that failed. */
export interface ReplicaFailure extends PreflistEntry {
  /**
   * Stable code of the failure: the remote vnode's error code for a `RemoteError` (`ERR_OVERLOAD`,
   * `ERR_NOT_MEMBER`, ...), else the local error's code (`ERR_TIMEOUT`, `ERR_UNREACHABLE`, ...), or
   * `ERR_INTERNAL` for an error that is not a Solar Orbit error.
   */
  readonly code: string
  /** Human-readable detail. */
  readonly message: string
}

/** The failure record of `entry` for `error`. */
export function replicaFailure(entry: PreflistEntry, error: unknown): ReplicaFailure {
  const { partition, member, kind } = entry
  if (error instanceof RemoteError) {
    return { partition, member, kind, code: error.remoteCode, message: error.message }
  }
  if (error instanceof SolarOrbitError) {
    return { partition, member, kind, code: error.code, message: error.message }
  }
  return { partition, member, kind, code: RemoteError.internalCode, message: String(error) }
}
