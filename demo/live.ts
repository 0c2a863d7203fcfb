/**
 * The demo's live mode: this page starts a real browser node (`createBrowserNode`) that joins a local
 * cluster of Node peers over libp2p, owns partitions in IndexedDB, and shows the cluster as its node
 * sees it: members and their status, the ring coloured by who holds each partition, transfers still
 * waiting, this node's handoffs with their progress, and put/get requests with the replicas that
 * answered (primary or fallback) and the latency.
 *
 * The page joins as an owner by default: the point of the demo is a tab that holds part of the ring
 * (watch partitions move into it, reload it and see it come back as the same member with its data).
 * `?role=guest` joins as a guest instead, which coordinates requests but owns nothing, so closing the
 * tab moves no data.
 */

import { currentOwners, isDown, type Member, statusOf } from '../src/membership/index.ts'
import { type BrowserNode, createBrowserNode } from '../src/node/browser.ts'
import { MemberColors } from './colors.ts'
import { drawRing } from './ring-view.ts'

/** Where the page learned the cluster from, and how to join it. */
export interface LiveInit {
  /** WebSocket multiaddrs of the cluster's Node peers. */
  readonly bootstrap: readonly string[]
  readonly cluster?: string
  readonly role: 'owner' | 'guest'
}

const $ = <T extends Element>(selector: string) => document.querySelector(selector) as T
const encoder = new TextEncoder()
const decoder = new TextDecoder()

const short = (id: string): string => `…${id.slice(-6)}`

/** Starts the node and the live view. Rejects if the node cannot join (no peer answered, no relay). */
export async function startLive(init: LiveInit): Promise<BrowserNode> {
  document.body.classList.add('live')
  $('.tagline').innerHTML =
    `Live: this tab joins the local cluster as ${init.role === 'owner' ? 'an owner' : 'a guest'} ` +
    'over libp2p and shows its real ring of <span id="q"></span> partitions. Requests go to the real replicas.'
  $('.legend').textContent =
    'Each arc is a partition in the colour of the member that holds it now; an outlined arc waits ' +
    'for its transfer to its new owner (the outline colour). Hover an arc for its holder.'

  $('.side').innerHTML = `
    <p id="self">Joining through ${init.bootstrap.length} peer(s)…</p>
    <table id="members">
      <thead>
        <tr><th></th><th>member</th><th>runs in</th><th>role</th><th>status</th><th>owns</th><th>link</th></tr>
      </thead>
      <tbody></tbody>
    </table>
    <h2>Request</h2>
    <form id="request">
      <input id="bucket" value="demo" aria-label="bucket" size="8" />
      <input id="key" value="hello" aria-label="key" size="10" />
      <input id="value" value="world" aria-label="value" size="14" />
      <button type="submit" id="put">Put</button>
      <button type="button" id="get">Get</button>
    </form>
    <ol id="requests" reversed></ol>
    <h2>Pending transfers</h2>
    <ul id="pending"></ul>
    <h2>Handoffs from this tab</h2>
    <ul id="handoffs"></ul>
    <h2>Log</h2>
    <ol id="log" reversed></ol>`
  const browser = await createBrowserNode({
    bootstrap: init.bootstrap,
    role: init.role,
    ...(init.cluster && { cluster: init.cluster }),
    // A closed tab is down for good: if this tab claims, it removes such members after a minute,
    // so their partitions get new owners (a reload comes back well within that).
    autoClaim: { removeDownAfterMs: 60_000 },
  })
  new LiveView(browser).start()
  return browser
}

/** Renders the node's view and runs requests from the form. */
class LiveView {
  readonly #browser: BrowserNode
  readonly #colors = new MemberColors()

  constructor(browser: BrowserNode) {
    this.#browser = browser
  }

  start(): void {
    const { node, slot, created, timings } = this.#browser
    $('#self').textContent =
      `This tab is ${short(node.id)} (identity slot ${slot}, ${created ? 'a new member' : 'the same member as before'}); ` +
      `joined in ${(timings.meshed - timings.called).toFixed(0)} ms.`
    const render = (): void => this.#render()
    node.addEventListener('state:changed', render)
    node.addEventListener('handoff:progress', render)
    node.addEventListener('handoff:finished', (event) => {
      this.#log(`handed partition ${event.detail.partition} to ${short(event.detail.to)}`)
      render()
    })
    node.addEventListener('member:down', (event) => this.#log(`${short(event.detail)} is down`))
    node.addEventListener('member:up', (event) => this.#log(`${short(event.detail)} is up`))
    node.addEventListener('ring:changed', (event) =>
      this.#log(
        `ring of epoch ${event.detail.epoch} committed by ${short(event.detail.claimant ?? '?')}`,
      ),
    )
    setInterval(render, 1000)
    $<HTMLFormElement>('#request').addEventListener('submit', (event) => {
      event.preventDefault()
      void this.#request('put')
    })
    $('#get').addEventListener('click', () => void this.#request('get'))
    this.#render()
  }

  #swatch(member: string): string {
    return `<span class="swatch" style="background:${this.#colors.of(member)}"></span>`
  }

  #render(): void {
    const { node, transport } = this.#browser
    const state = node.state()
    for (const m of [...state.members].sort((a, b) => a.id.localeCompare(b.id)))
      this.#colors.of(m.id)
    const holders = currentOwners(state)
    const q = holders?.length ?? state.ring?.owners.length ?? 0
    $('#q').textContent = String(q || '…')
    const incoming = new Map(
      state.transfers.filter((t) => t.status === 'awaiting').map((t) => [t.partition, t.to]),
    )
    drawRing($<SVGSVGElement>('#ring'), {
      holders: holders ?? new Array<string>(64).fill('unclaimed'),
      incoming,
      colorOf: (m) => (m === 'unclaimed' ? '#ddd' : this.#colors.of(m)),
    })
    const connected = new Set(transport.peers())
    $('#members tbody').replaceChildren(
      ...state.members
        .filter((m) => m.lifecycle !== 'removed')
        .map((m) => this.#memberRow(m, holders ?? [], connected)),
    )
    const status = node.handoffs()
    const lines = [...status.running, ...status.waiting].map((t) => {
      const li = document.createElement('li')
      const { items, total, etaMs } = t.progress
      li.innerHTML =
        `${t.type} of partition ${t.partition} to ${this.#swatch(t.to)}${short(t.to)}: ` +
        (t.state === 'running'
          ? `${items}/${total.items} items${etaMs !== undefined ? `, ${(etaMs / 1000).toFixed(1)} s left` : ''}`
          : `waiting: ${t.reason ?? ''}`)
      return li
    })
    if (lines.length === 0) {
      const li = document.createElement('li')
      li.textContent = 'none'
      lines.push(li)
    }
    $('#handoffs').replaceChildren(...lines)
    $('#pending').replaceChildren(...this.#pendingLines())
  }

  /** The commit's awaiting transfers, one line per sender and receiver, saying why a stuck one waits. */
  #pendingLines(): HTMLLIElement[] {
    const state = this.#browser.node.state()
    const groups = new Map<string, number[]>()
    for (const t of state.transfers) {
      if (t.status !== 'awaiting') continue
      const key = `${t.from} ${t.to}`
      groups.set(key, [...(groups.get(key) ?? []), t.partition])
    }
    const statusOfId = (id: string): string => {
      const m = state.members.find((member) => member.id === id)
      return m === undefined ? 'unknown' : statusOf(m)
    }
    const lines = [...groups].map(([key, partitions]) => {
      const [from, to] = key.split(' ') as [string, string]
      const li = document.createElement('li')
      const why =
        statusOfId(from) === 'down'
          ? ' (waiting: the sender is down)'
          : statusOfId(to) === 'down'
            ? ' (waiting: the receiver is down)'
            : ''
      li.innerHTML =
        `${this.#swatch(from)}${short(from)} → ${this.#swatch(to)}${short(to)}: ` +
        `${partitions.length} partition${partitions.length === 1 ? '' : 's'}${why}`
      return li
    })
    if (lines.length === 0) {
      const li = document.createElement('li')
      li.textContent = 'none'
      lines.push(li)
    }
    return lines
  }

  #memberRow(m: Member, holders: readonly string[], connected: Set<string>): HTMLTableRowElement {
    const self = m.id === this.#browser.node.id
    const browser = m.addresses.some((a) => a.includes('/p2p-circuit/webrtc'))
    const row = document.createElement('tr')
    if (self) row.className = 'self'
    const cells = [
      this.#swatch(m.id),
      `${short(m.id)}${self ? ' (this tab)' : ''}`,
      browser ? 'browser' : 'node',
      m.role,
      statusOf(m),
      String(holders.filter((h) => h === m.id).length),
      self ? '' : connected.has(m.id) ? 'connected' : isDown(m) ? '' : 'not connected',
    ]
    for (const html of cells) {
      const td = document.createElement('td')
      td.innerHTML = html
      row.append(td)
    }
    row.title = m.id
    return row
  }

  async #request(kind: 'put' | 'get'): Promise<void> {
    const { node } = this.#browser
    const bucket = $<HTMLInputElement>('#bucket').value
    const key = $<HTMLInputElement>('#key').value
    const value = $<HTMLInputElement>('#value').value
    const item = document.createElement('li')
    item.textContent = `${kind} ${bucket}/${key}…`
    $('#requests').prepend(item)
    const started = performance.now()
    try {
      const result =
        kind === 'put'
          ? await node.kv.put(bucket, key, encoder.encode(value))
          : await node.kv.get(bucket, key)
      const ms = (performance.now() - started).toFixed(1)
      const replicas = result.answered
        .map((r) => `${this.#swatch(r.member)}${short(r.member)} ${r.kind} p${r.partition}`)
        .join(', ')
      const failed = result.failures
        .map((f) => `${short(f.member)} ${f.kind}: ${f.code}`)
        .join(', ')
      const read =
        'object' in result && kind === 'get'
          ? ` → ${
              result.values.length === 0
                ? 'not found'
                : result.values.map((v) => JSON.stringify(decoder.decode(v))).join(' | ')
            }`
          : ''
      item.innerHTML =
        `<b>${kind}</b> ${bucket}/${key}${read} in ${ms} ms; answered: ${replicas}` +
        (failed ? `; failed: ${failed}` : '')
    } catch (error) {
      item.className = 'error'
      item.textContent = `${kind} ${bucket}/${key} failed after ${(performance.now() - started).toFixed(0)} ms: ${(error as Error).message}`
    }
    item.dataset.done = ''
  }

  #log(text: string): void {
    const item = document.createElement('li')
    item.textContent = `${new Date().toLocaleTimeString()} ${text}`
    $('#log').prepend(item)
  }
}
