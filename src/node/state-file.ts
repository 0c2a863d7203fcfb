/**
 * A {@link ClusterStateStore} in a file of a Node or Deno peer's data directory: the cluster state in
 * the membership codec's format, replaced atomically (written to a temporary file, then renamed) on
 * every save. A file that does not decode is reported and ignored: gossip brings the state back.
 */
import { readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type ClusterState, decodeState, encodeState } from '../membership/index.ts'
import type { ClusterStateStore } from './assemble.ts'

/** File name of the state inside the data directory. */
export const STATE_FILE = 'cluster-state.cbor'

/** Keeps the cluster state in `dir/cluster-state.cbor`. */
export function fileStateStore(dir: string, onWarning = console.warn): ClusterStateStore {
  const path = join(dir, STATE_FILE)
  return {
    async load(): Promise<ClusterState | undefined> {
      let bytes: Uint8Array
      try {
        bytes = new Uint8Array(await readFile(path))
      } catch (error) {
        if ((error as { code?: string }).code === 'ENOENT') return undefined
        throw error
      }
      try {
        return decodeState(bytes)
      } catch (error) {
        onWarning(`ignoring an unreadable cluster state in ${path}`, error)
        return undefined
      }
    },
    async save(state: ClusterState): Promise<void> {
      const temporary = `${path}.tmp`
      await writeFile(temporary, encodeState(state))
      await rename(temporary, path)
    },
  }
}
