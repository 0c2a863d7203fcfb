/**
 * A browser peer's identity, kept in IndexedDB: the libp2p private key whose peer id is the node's
 * member id. A new key is a new member (a join, a claim, handoffs), so a page that reloads must come
 * back with the key it had (ARCHITECTURE.md §8).
 *
 * Tabs of one origin share IndexedDB, but two tabs must not be one member (they would gossip two
 * different states under one id and write into one store). So identities live in numbered slots, and
 * a tab holds its slot with a Web Lock (`navigator.locks`) for as long as it lives: the first tab of a
 * profile gets slot 0, a second tab opened meanwhile slot 1, and a reload gets its slot back because
 * the lock dies with the page. The slot also names the node's storage database, so every member keeps
 * its own data. The same database keeps each slot's last cluster state ({@link IndexedDbStateStore}),
 * so a reloaded page knows the ring and its members before it hears from anyone. Imports no `node:*`
 * module; uses the globals `indexedDB` and `navigator.locks`.
 */
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { type IDBPDatabase, openDB } from 'idb'
import { StorageError } from '../core/index.ts'
import { type ClusterState, decodeState, encodeState } from '../membership/index.ts'
import type { ClusterStateStore } from './assemble.ts'

/** Options of {@link loadIdentity}. */
export interface IdentityInit {
  /** Prefix of the identity database and locks, e.g. `solar-orbit/<cluster>`. Required. */
  name: string
  /** Slots tried, from 0, before giving up. Default 16 (sixteen tabs of one profile). */
  slotsMax?: number
}

/** A loaded identity, held by this page until {@link release} or the page goes away. */
export interface Identity {
  /** The private key: its peer id is the member id. */
  readonly privateKey: PrivateKey
  /** The slot it lives in; `0` for the first tab of a profile. */
  readonly slot: number
  /** Whether the key was generated now (a new member) rather than loaded (the same member). */
  readonly created: boolean
  /** Lets another page take this slot. */
  release(): void
}

const storeName = 'keys'
const stateStoreName = 'states'
const databaseVersion = 1

function openIdentityDb(database: string): Promise<IDBPDatabase> {
  return openDB(database, databaseVersion, {
    upgrade: (upgrading) => {
      upgrading.createObjectStore(storeName)
      upgrading.createObjectStore(stateStoreName)
    },
  })
}

/**
 * Takes the first free slot and loads its key, generating and storing an Ed25519 key if it has none.
 * Rejects with `StorageError` when every slot is held by another tab or IndexedDB fails.
 */
export async function loadIdentity(init: IdentityInit): Promise<Identity> {
  const slotsMax = init.slotsMax ?? 16
  for (let slot = 0; slot < slotsMax; slot++) {
    const release = await holdLock(`${init.name}/identity/${slot}`)
    if (release === undefined) continue
    try {
      const { privateKey, created } = await loadKey(`${init.name}/identity`, slot)
      return { privateKey, slot, created, release }
    } catch (cause) {
      release()
      throw new StorageError(`cannot load identity slot ${slot} of ${init.name}`, { cause })
    }
  }
  throw new StorageError(`all ${slotsMax} identity slots of ${init.name} are held by other tabs`)
}

/** Deletes every stored identity of `name` (site-data reset for tests and the demo's "forget me"). */
export async function forgetIdentities(name: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const request = indexedDB.deleteDatabase(`${name}/identity`)
    request.onsuccess = () => resolve()
    request.onerror = () => reject(request.error)
    request.onblocked = () => resolve()
  })
}

async function loadKey(
  database: string,
  slot: number,
): Promise<{ privateKey: PrivateKey; created: boolean }> {
  const db = await openIdentityDb(database)
  try {
    const stored: unknown = await db.get(storeName, slot)
    if (stored instanceof Uint8Array) {
      return { privateKey: privateKeyFromProtobuf(stored), created: false }
    }
    const privateKey = await generateKeyPair('Ed25519')
    // `add` fails if another page stored a key in this slot meanwhile; the lock makes that impossible.
    await db.add(storeName, privateKeyToProtobuf(privateKey), slot)
    return { privateKey, created: true }
  } finally {
    db.close()
  }
}

/**
 * Takes the Web Lock `name` if nobody holds it and keeps it until the returned function is called;
 * resolves undefined if it is taken. Without Web Locks (very old browsers) every slot is free.
 */
async function holdLock(name: string): Promise<(() => void) | undefined> {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks
  if (locks === undefined) return () => {}
  let release = (): void => {}
  const held = new Promise<void>((resolve) => {
    release = resolve
  })
  const acquired = await new Promise<boolean>((settle, fail) => {
    locks
      .request(name, { ifAvailable: true }, async (lock) => {
        settle(lock !== null)
        if (lock !== null) await held
      })
      .catch(fail)
  })
  return acquired ? () => release() : undefined
}

/**
 * The cluster state of one identity slot, saved in the identity database (`<name>/identity`) as the
 * membership codec encodes it. A state that does not decode (a format from another version) is
 * treated as absent: the node then learns the state from its bootstrap peers.
 */
export class IndexedDbStateStore implements ClusterStateStore {
  readonly #database: string
  readonly #slot: number
  #db: Promise<IDBPDatabase> | undefined

  /** `name` as given to {@link loadIdentity}; `slot` the identity's slot. */
  constructor(name: string, slot: number) {
    this.#database = `${name}/identity`
    this.#slot = slot
  }

  async load(): Promise<ClusterState | undefined> {
    const stored: unknown = await (await this.#open()).get(stateStoreName, this.#slot)
    if (!(stored instanceof Uint8Array)) return undefined
    try {
      return decodeState(stored)
    } catch {
      return undefined
    }
  }

  async save(state: ClusterState): Promise<void> {
    await (await this.#open()).put(stateStoreName, encodeState(state), this.#slot)
  }

  /** Closes the database connection (a later call opens it again). */
  async close(): Promise<void> {
    const db = this.#db
    this.#db = undefined
    if (db !== undefined) (await db).close()
  }

  #open(): Promise<IDBPDatabase> {
    this.#db ??= openIdentityDb(this.#database)
    return this.#db
  }
}
