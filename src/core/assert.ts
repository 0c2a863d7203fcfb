import { InvariantError } from './errors.ts'

/** Throws an {@link InvariantError} when `condition` is false. For invariants, not for input validation. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new InvariantError(message)
}
