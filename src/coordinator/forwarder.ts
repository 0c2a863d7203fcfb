/**
 * The {@link VnodeForwarder} of a node: a vnode handing off or forwarding sends requests to the vnode of
 * the handoff target over the transport (riak_core_vnode forwarding to the new owner after handoff).
 */
import type { KvCoverageReply, KvCoverageRequest, KvReply, KvRequest } from '../kv/index.ts'
import type { HandoffTarget, KeyFilter, VnodeForwarder } from '../vnode/index.ts'
import type { VnodeCallOptions, VnodeClient } from './vnode-client.ts'

/** Forwards KV vnode requests to the handoff target through a {@link VnodeClient}. */
export class TransportForwarder
  implements VnodeForwarder<KvRequest, KvReply, KvCoverageRequest, KvCoverageReply>
{
  readonly #client: VnodeClient
  readonly #options: VnodeCallOptions

  /** `options` apply to every forwarded request (default: the transport's request timeout). */
  constructor(client: VnodeClient, options: VnodeCallOptions = {}) {
    this.#client = client
    this.#options = options
  }

  command(target: HandoffTarget, request: KvRequest): Promise<KvReply> {
    return this.#client.command(target.member, target.partition, request, this.#options)
  }

  coverage(
    target: HandoffTarget,
    request: KvCoverageRequest,
    keyFilter: KeyFilter | undefined,
  ): Promise<KvCoverageReply> {
    return this.#client.coverage(target.member, target.partition, request, keyFilter, this.#options)
  }
}
