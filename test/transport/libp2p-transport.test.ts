/** Runs the Transport compliance suite against Libp2pTransport: three nodes in this process on TCP loopback. */
import { MESH_HEARTBEAT_MS, startLocalMesh } from '../integration/libp2p-mesh.ts'
import { runTransportTests } from './compliance.ts'

runTransportTests('Libp2pTransport', async (count) => {
  const mesh = await startLocalMesh(count)
  return {
    transports: mesh.transports,
    run: (promise) => promise,
    cut: (a, b) => mesh.cut(a, b),
    restore: (a, b) => mesh.restore(a, b),
    settleGossip: () => new Promise((resolve) => setTimeout(resolve, 5 * MESH_HEARTBEAT_MS)),
    teardown: () => mesh.teardown(),
  }
})
