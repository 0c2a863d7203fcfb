/**
 * Spacing checks on a plan: an `Int32Array` of member indices per partition (−1 for none), with each
 * member's location index in `locations` (−1 for none). A member, or a location, must not appear twice
 * within any `targetN` consecutive partitions, wrap-around included, so the n replicas of a key land on
 * distinct members and, where possible, in distinct failure domains.
 */
import type { Violations } from './types.ts'

/** Whether `member` owns a partition within `targetN − 1` of `partition` on either side (itself excluded). */
export function memberNear(
  plan: Int32Array,
  targetN: number,
  member: number,
  partition: number,
): boolean {
  const mask = plan.length - 1
  for (let d = 1; d < targetN; d++) {
    if (plan[(partition + d) & mask] === member || plan[(partition - d) & mask] === member)
      return true
  }
  return false
}

/** Whether `location` (≥ 0) owns a partition within `targetN − 1` of `partition` on either side. */
export function locationNear(
  plan: Int32Array,
  locations: Int32Array,
  targetN: number,
  location: number,
  partition: number,
): boolean {
  if (location < 0) return false
  const mask = plan.length - 1
  for (let d = 1; d < targetN; d++) {
    const after = plan[(partition + d) & mask]!
    const before = plan[(partition - d) & mask]!
    if (
      (after >= 0 && locations[after] === location) ||
      (before >= 0 && locations[before] === location)
    ) {
      return true
    }
  }
  return false
}

/** 1 if the owner of `partition` reappears in the next `targetN − 1` partitions, else 0. */
export function memberViolationAt(plan: Int32Array, targetN: number, partition: number): number {
  const mask = plan.length - 1
  const owner = plan[partition]!
  if (owner < 0) return 0
  for (let d = 1; d < targetN; d++) if (plan[(partition + d) & mask] === owner) return 1
  return 0
}

/** 1 if the location of the owner of `partition` reappears in the next `targetN − 1` partitions, else 0. */
export function locationViolationAt(
  plan: Int32Array,
  locations: Int32Array,
  targetN: number,
  partition: number,
): number {
  const mask = plan.length - 1
  const owner = plan[partition]!
  const location = owner < 0 ? -1 : locations[owner]!
  if (location < 0) return 0
  for (let d = 1; d < targetN; d++) {
    const next = plan[(partition + d) & mask]!
    if (next >= 0 && locations[next] === location) return 1
  }
  return 0
}

/** Counts the partitions that violate member and location spacing in `plan`. */
export function countViolations(
  plan: Int32Array,
  locations: Int32Array,
  targetN: number,
): Violations {
  let spacing = 0
  let location = 0
  for (let p = 0; p < plan.length; p++) {
    spacing += memberViolationAt(plan, targetN, p)
    location += locationViolationAt(plan, locations, targetN, p)
  }
  return { spacing, location }
}
