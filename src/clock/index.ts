/**
 * Causality: dotted version vector sets, the per-key clocks Dynamo needs to tell a newer value from a
 * concurrent one (Dynamo's vector clocks, refined as in riak_kv's `dvvset`). Concurrent writes become
 * siblings; a write whose context covers values supersedes them; replicas merge with `sync` in any
 * order. Actor ids carry an epoch so a replica that lost its storage can never make an older value win
 * (riak's kv679). Last-write-wins is available as an explicit, lossy choice. Pure functions over
 * immutable values.
 */
export * from './actor.ts'
export * from './dvvset.ts'
export * from './version-vector.ts'
