/**
 * Filesystem storage for Node and Deno (`solar-orbit/storage/fs`): a Bitcask-style log per vnode,
 * the durable home of a server node's partitions. Kept out of `src/storage/index.ts` so browser
 * bundles never see `node:fs`.
 */
export type { FsBackend } from './fs-backend.ts'
export { FsStorage, type FsStorageInit } from './fs-storage.ts'
