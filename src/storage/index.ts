/**
 * Storage: where a vnode keeps its data (riak_core's backend behaviour, `riak_kv_backend`). A node
 * opens one {@link StorageBackend} per partition through its {@link NodeStorage}. This entry holds
 * the contract, the shared limits and the in-memory storage (the reference, and the crashable disk
 * of simulated nodes); the filesystem storage is `solar-orbit/storage/fs` (`src/storage/fs/index.ts`)
 * and IndexedDB `src/storage/indexeddb.ts`, so no bundle pulls in the other runtime's I/O.
 */
export * from './backend.ts'
export { checkBatch, checkEntry, checkKey, checkPartition, resolveStorageLimits } from './limits.ts'
export { MemoryStorage, type MemoryStorageInit, MemoryVolume } from './memory.ts'
