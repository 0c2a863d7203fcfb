/**
 * The identity of a Node or Deno peer, kept in a file of its data directory: the libp2p private key
 * (protobuf bytes, as libp2p exports them), created on the first start. A new key is a new member, so
 * a restart must find the same file; it is written to a temporary name and renamed into place, and
 * readable by the owner only.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'

/** File name of the key inside the data directory. */
export const IDENTITY_FILE = 'identity.key'

/** A loaded identity. */
export interface FileIdentity {
  readonly privateKey: PrivateKey
  /** True when this call created the key (a first start: a new member). */
  readonly created: boolean
}

/** Loads the key in `dir` (created if absent), or makes and saves a new Ed25519 key. */
export async function loadOrCreateIdentity(dir: string): Promise<FileIdentity> {
  await mkdir(dir, { recursive: true })
  const path = join(dir, IDENTITY_FILE)
  let bytes: Uint8Array | undefined
  try {
    bytes = new Uint8Array(await readFile(path))
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOENT') throw error
  }
  if (bytes !== undefined) return { privateKey: privateKeyFromProtobuf(bytes), created: false }
  const privateKey = await generateKeyPair('Ed25519')
  const temporary = `${path}.tmp`
  await writeFile(temporary, privateKeyToProtobuf(privateKey), { mode: 0o600 })
  await rename(temporary, path)
  return { privateKey, created: true }
}
