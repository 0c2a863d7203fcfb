/**
 * The liveness checker: after the nemesis stopped, the network healed and every node restarted, the
 * cluster must settle within a bounded virtual time (TigerBeetle's VOPR checks liveness the same way,
 * after a safety phase). Settled means:
 *
 * - every running node holds the same cluster state, no joining or valid member is marked down (the
 *   status `down`), no owner waits to join;
 * - every transfer of the latest commit completed and no handoff scheduler has a transfer left;
 * - no hints are left: a node holds data only for the partitions it currently owns;
 *
 * and then, once a read of every key with r = n has merged all replicas and read-repaired them, every
 * replica of every key holds the same object.
 */
import type { KvGetReply } from '../kv/index.ts'
import { currentOwners, equalStates, statusOf } from '../membership/index.ts'
import { preflist } from '../ring/index.ts'
import type { FinalRead, Violation } from './checker.ts'
import type { SimCluster } from './cluster.ts'

/** Whether the cluster settled, and what it still waits for when not. */
export interface Quiescence {
  readonly settled: boolean
  /** What is not settled yet, one line each (empty when settled). */
  readonly waiting: readonly string[]
}

/** The cluster's settledness now; see the module comment. */
export function quiescence(cluster: SimCluster): Quiescence {
  const waiting: string[] = []
  const nodes = cluster.running()
  const crashed = cluster.ids().filter((id) => cluster.node(id) === undefined)
  if (crashed.length > 0) waiting.push(`crashed: ${crashed.join(', ')}`)
  const first = nodes[0]
  if (first === undefined) return { settled: false, waiting: ['no node runs'] }
  const state = first.membership.state
  const disagreeing = nodes.filter((node) => !equalStates(node.membership.state, state))
  if (disagreeing.length > 0) {
    waiting.push(`state differs from ${first.id}'s on ${disagreeing.map((n) => n.id).join(', ')}`)
  }
  const down = state.members.filter((m) => statusOf(m) === 'down')
  if (down.length > 0) waiting.push(`marked down: ${down.map((m) => m.id).join(', ')}`)
  const joining = state.members.filter((m) => m.role === 'owner' && m.lifecycle === 'joining')
  if (joining.length > 0) waiting.push(`joining: ${joining.map((m) => m.id).join(', ')}`)
  const awaiting = state.transfers.filter((t) => t.status === 'awaiting')
  if (awaiting.length > 0) {
    waiting.push(
      `transfers awaiting: ${awaiting.map((t) => `${t.partition}:${t.from}->${t.to}`).join(', ')}`,
    )
  }
  const owners = currentOwners(state) ?? []
  for (const node of nodes) {
    const status = node.handoff.status()
    const transfers = [...status.running, ...status.waiting]
    if (transfers.length > 0) {
      waiting.push(
        `${node.id} handoffs: ${transfers.map((t) => `${t.id} ${t.reason ?? t.state}`).join('; ')}`,
      )
    }
    const hints = node.partitionsWithData().filter((p) => owners[p] !== node.id)
    if (hints.length > 0)
      waiting.push(`${node.id} holds data of partitions ${hints.join(', ')} it does not own`)
  }
  return { settled: waiting.length === 0, waiting }
}

/**
 * Reads `key` of `bucket` with r = n through the first running owner, waits for its read repair, and
 * returns the merged values; undefined (and a violation) when the read fails.
 */
export async function finalRead(
  cluster: SimCluster,
  bucket: string,
  key: string,
  violations: Violation[],
): Promise<FinalRead | undefined> {
  const reader = cluster.running().find((node) => cluster.roleOf(node.id) === 'owner')
  if (reader === undefined) {
    violations.push({ kind: 'final-read-failed', key, message: 'no owner runs' })
    return undefined
  }
  try {
    const result = await cluster.settle(
      reader.coordinator.get(bucket, key, { r: cluster.bucket.n }),
    )
    await cluster.settle(result.repair)
    const decoder = new TextDecoder()
    return {
      key,
      values: result.values.map((v) => decoder.decode(v)).sort(),
      object: result.object,
    }
  } catch (error) {
    violations.push({
      kind: 'final-read-failed',
      key,
      message: `final read failed: ${String(error)}`,
    })
    return undefined
  }
}

/** Reports every key whose n replicas (asked directly, not through a quorum) hold different objects. */
export async function checkReplicas(
  cluster: SimCluster,
  bucket: string,
  keys: readonly string[],
): Promise<Violation[]> {
  const violations: Violation[] = []
  const ring = cluster.running()[0]?.ring()
  if (ring === undefined) return [{ kind: 'replica-divergence', message: 'no ring' }]
  for (const key of keys) {
    const seen = new Map<string, string[]>()
    for (const entry of preflist(ring, { bucket, key }, cluster.bucket.n, () => true)) {
      const node = cluster.node(entry.member)
      if (node === undefined) continue
      const reply = await cluster.settle(
        node.manager.command(entry.partition, { type: 'get', bucket, key }),
      )
      const text = reply.type === 'get' ? describeObject(reply) : 'not a get reply'
      seen.set(text, [...(seen.get(text) ?? []), `${entry.member}@${entry.partition}`])
    }
    if (seen.size > 1) {
      const versions = [...seen].map(([text, where]) => `${where.join(',')}: ${text}`)
      violations.push({ kind: 'replica-divergence', key, message: versions.join(' / ') })
    }
  }
  return violations
}

/** A replica's object as text: its clock and its values. */
function describeObject(reply: KvGetReply): string {
  const decoder = new TextDecoder()
  const clock = (reply.object?.entries ?? []).map((e) => `${e.actor}=${e.counter}`).join(' ')
  return `[${reply.values
    .map((v) => decoder.decode(v))
    .sort()
    .join(', ')}] {${clock}}`
}
