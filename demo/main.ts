/**
 * The demo. Two modes:
 * - live (`live.ts`): when a local cluster runs (`npm start` writes `.tmp/local-cluster.json`, which
 *   the dev server serves as `/local-cluster.json`; or `?bootstrap=<ws multiaddr>,...`), the page
 *   starts a browser node that joins it over libp2p and shows the real ring, transfers and requests;
 * - in-page (this file), otherwise or with `?mode=in-page`: a cluster's membership and ring in the
 *   page, driven by the real claim, staging, plan and commit code. Transfers complete on a timer here
 *   (two at a time per sending member, like the transfer scheduler's default limit).
 */
import {
  type AutoClaimState,
  announce,
  autoClaim,
  type ClusterState,
  commit,
  completeTransfer,
  currentOwners,
  designatedClaimant,
  emptyState,
  isDown,
  markDown,
  noChanges,
  type Plan,
  plan,
  type Staged,
  type StagedChange,
  stage,
  statusOf,
} from '../src/membership/index.ts'
import { MemberColors } from './colors.ts'
import { findLocalCluster, requestedRole } from './live-cluster.ts'
import { drawRing } from './ring-view.ts'

const partitionCount = 64
const targetN = 4

let state: ClusterState = emptyState
let staged: Staged = noChanges
let planned: Plan | undefined
let auto: AutoClaimState | undefined
let ownerCount = 0
let guestCount = 0
const colors = new MemberColors()

const $ = <T extends Element>(selector: string) => document.querySelector(selector) as T

/** The member that acts for the operator: the designated claimant, or the first member. */
function actor(): string {
  return designatedClaimant(state) ?? state.members[0]?.id ?? 'operator'
}

function log(text: string, error = false): void {
  const item = document.createElement('li')
  item.textContent = `${new Date().toLocaleTimeString()} ${text}`
  if (error) item.className = 'error'
  $('#log').prepend(item)
}

function attempt(what: string, fn: () => void): void {
  try {
    fn()
  } catch (err) {
    log(`${what}: ${(err as Error).message}`, true)
  }
  render()
}

function addMember(role: 'owner' | 'guest'): void {
  const id = role === 'owner' ? `owner-${++ownerCount}` : `guest-${++guestCount}`
  state = announce(state, { id, role }, id)
  if (role === 'owner' && !$<HTMLInputElement>('#auto').checked) {
    staged = stage(staged, state, { kind: 'join', id })
  }
  log(`${id} announced itself as ${role === 'owner' ? 'an owner (join staged)' : 'a guest'}`)
}

function stageChange(change: StagedChange): void {
  attempt(change.kind, () => {
    staged = stage(staged, state, change)
    planned = undefined
    log(`staged ${change.kind} of ${change.id}`)
  })
}

function makePlan(): void {
  attempt('plan', () => {
    planned = plan(state, staged, actor(), { targetN, partitionCount })
    const r = planned.report
    log(
      `planned: ${r.moves} moves, ${r.handoffs.length} handoffs, ${r.violations.spacing} spacing violations`,
    )
  })
}

function commitPlan(): void {
  if (!planned) return
  const current = planned
  attempt('commit', () => {
    state = commit(state, current)
    staged = noChanges
    planned = undefined
    log(`committed epoch ${state.epoch}`)
  })
}

/** Completes up to two awaiting transfers per sending member: the demo's stand-in for real handoff. */
function progressTransfers(): void {
  const perSender = new Map<string, number>()
  let done = 0
  for (const t of state.transfers) {
    if (t.status !== 'awaiting') continue
    const from = state.members.find((m) => m.id === t.from)
    if (!from || isDown(from)) continue
    const n = perSender.get(t.from) ?? 0
    if (n >= 2) continue
    perSender.set(t.from, n + 1)
    state = completeTransfer(state, t, t.to)
    done++
  }
  if (done > 0) render()
}

function autoStep(): void {
  if (!$<HTMLInputElement>('#auto').checked) return
  const self = designatedClaimant(state)
  if (!self) return
  attempt('auto', () => {
    const step = autoClaim(auto, state, performance.now(), self, {
      stableMs: 2000,
      targetN,
      partitionCount,
    })
    auto = step.auto
    if (step.plan) {
      state = step.state
      staged = noChanges
      planned = undefined
      log(`auto mode committed epoch ${state.epoch}: ${step.plan.report.moves} moves`)
    }
  })
}

function memberRow(id: string): HTMLTableRowElement {
  const member = state.members.find((m) => m.id === id)!
  const holders = currentOwners(state) ?? []
  const row = document.createElement('tr')
  const cells = [
    `<span class="swatch" style="background:${colors.of(id)}"></span>`,
    id,
    member.role,
    statusOf(member),
    String(holders.filter((h) => h === id).length),
  ]
  for (const html of cells) {
    const td = document.createElement('td')
    td.innerHTML = html
    row.append(td)
  }
  const actions = document.createElement('td')
  const button = (label: string, fn: () => void) => {
    const b = document.createElement('button')
    b.textContent = label
    b.onclick = fn
    actions.append(b)
  }
  if (member.lifecycle === 'valid' && member.role === 'owner') {
    button('leave', () => stageChange({ kind: 'leave', id }))
  }
  if (member.lifecycle !== 'removed' && member.lifecycle !== 'exiting') {
    button('remove', () => stageChange({ kind: 'remove', id }))
    button(isDown(member) ? 'up' : 'down', () =>
      attempt('liveness', () => {
        state = isDown(member) ? announce(state, member, id) : markDown(state, id, actor())
      }),
    )
  }
  row.append(actions)
  return row
}

function render(): void {
  $('#q').textContent = String(partitionCount)
  const holders = currentOwners(state)
  const incoming = new Map(
    state.transfers.filter((t) => t.status === 'awaiting').map((t) => [t.partition, t.to]),
  )
  drawRing($<SVGSVGElement>('#ring'), {
    holders: holders ?? new Array<string>(partitionCount).fill('unclaimed'),
    incoming,
    colorOf: (m) => (m === 'unclaimed' ? '#ddd' : colors.of(m)),
  })
  $('#members tbody').replaceChildren(
    ...state.members.filter((m) => m.lifecycle !== 'removed').map((m) => memberRow(m.id)),
  )
  $('#staged').replaceChildren(
    ...staged.map((c) => {
      const li = document.createElement('li')
      li.textContent = 'by' in c ? `${c.kind} ${c.id} by ${c.by}` : `${c.kind} ${c.id}`
      return li
    }),
  )
  $<HTMLButtonElement>('#commit').disabled = !planned
  $('#report').textContent = planned ? describePlan(planned) : 'No plan yet.'
}

function describePlan(p: Plan): string {
  const r = p.report
  const lines = [
    `moves: ${r.moves}   handoffs: ${r.handoffs.length}   dropped: ${r.dropped.length}   transitions: ${r.transitions}`,
    `violations: spacing ${r.violations.spacing}, location ${r.violations.location}`,
    '',
    'member            before  after',
  ]
  const ids = new Set([...r.ownedBefore.keys(), ...r.ownedAfter.keys()])
  for (const id of [...ids].sort()) {
    lines.push(
      `${id.padEnd(16)} ${String(r.ownedBefore.get(id) ?? 0).padStart(6)} ${String(r.ownedAfter.get(id) ?? 0).padStart(6)}`,
    )
  }
  lines.push('', ...r.handoffs.map((t) => `partition ${t.partition}: ${t.from} → ${t.to}`))
  return lines.join('\n')
}

/** Starts the in-page cluster: four owners, joined and committed, and the controls. */
function startInPage(): void {
  $('#add-owner').addEventListener('click', () => attempt('add owner', () => addMember('owner')))
  $('#add-guest').addEventListener('click', () => attempt('add guest', () => addMember('guest')))
  $('#plan').addEventListener('click', makePlan)
  $('#commit').addEventListener('click', commitPlan)
  $('#clear').addEventListener('click', () => {
    staged = noChanges
    planned = undefined
    render()
  })

  // A cluster to start from: four owners, joined and committed.
  for (let i = 0; i < 4; i++) addMember('owner')
  makePlan()
  commitPlan()
  setInterval(progressTransfers, 700)
  setInterval(autoStep, 500)
  render()
}

/** Joins the local cluster live if one runs; falls back to the in-page cluster if none does or joining fails. */
async function main(): Promise<void> {
  const bootstrap = await findLocalCluster()
  if (bootstrap === undefined) {
    startInPage()
    return
  }
  const { startLive } = await import('./live.ts')
  try {
    await startLive({ bootstrap, role: requestedRole() })
  } catch (error) {
    console.warn('cannot join the local cluster; showing the in-page cluster', error)
    location.replace('?mode=in-page')
  }
}

void main()
