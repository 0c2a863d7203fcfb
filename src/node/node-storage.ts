/** Where `createNode` keeps its vnodes' data. */
import { join } from 'node:path'
import { FsStorage } from '../storage/fs/index.ts'
import { MemoryStorage, type NodeStorage } from '../storage/index.ts'

/**
 * The storage of a node's vnodes: `FsStorage` in `dataDir/vnodes`, or a `MemoryStorage` whose writes
 * are all durable at once (the process is its medium, so there is no power cut to simulate, and no
 * overwritten value is held for undoing one).
 */
export function openNodeStorage(kind: 'fs' | 'memory', dataDir: string): Promise<NodeStorage> {
  return kind === 'memory'
    ? Promise.resolve(new MemoryStorage({ simulatePowerLoss: false }))
    : FsStorage.open({ dir: join(dataDir, 'vnodes') })
}
