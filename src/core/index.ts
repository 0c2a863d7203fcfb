/**
 * Core: the vocabulary every other module shares. Ports (Clock, Scheduler, Random) keep the protocol
 * deterministic; error classes carry stable codes; `assert` guards invariants. No I/O lives here.
 */
export * from './assert.ts'
export * from './bytes.ts'
export * from './codec.ts'
export * from './errors.ts'
export type * from './ports.ts'
export * from './random.ts'
