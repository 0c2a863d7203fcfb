/**
 * The history checker on hand-made histories: what counts as a lost write, a legitimate causal
 * replacement, a resurrection, a phantom, and the wipe excuse. The dots are written by hand, as a
 * coordinator would have given them.
 */
import { describe, expect, it } from 'vitest'
import type { KvObject } from '../../src/kv/index.ts'
import {
  checkHistory,
  type Dot,
  type FinalRead,
  type HistoryRecord,
  type PutRecord,
} from '../../src/sim/index.ts'

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)

function put(value: string, dot: Dot | undefined, init: Partial<PutRecord> = {}): PutRecord {
  return {
    kind: 'put',
    client: 0,
    node: 'node-0',
    key: 'k',
    value,
    context: undefined,
    startMs: 0,
    endMs: 10,
    outcome: 'ok',
    ...(dot && { dot }),
    ackedBy: ['node-0', 'node-1'],
    ...init,
  }
}

/** A final read holding `values`, each with its dot (one actor per value here). */
function final(values: Record<string, Dot>): Map<string, FinalRead> {
  const object: KvObject = {
    entries: Object.entries(values)
      .map(([value, [actor, counter]]) => ({ actor, counter, values: [utf8(value)] }))
      .sort((a, b) => (a.actor < b.actor ? -1 : 1)),
  }
  return new Map([['k', { key: 'k', values: Object.keys(values).sort(), object }]])
}

function check(history: HistoryRecord[], finals: Map<string, FinalRead>, wiped: string[] = []) {
  return checkHistory({
    history,
    finals,
    wipedAtMs: (member) => (wiped.includes(member) ? [5] : []),
    siblingsMax: 3,
  })
}

describe('checkHistory', () => {
  it('accepts a history whose acknowledged values are all readable', () => {
    const report = check(
      [put('a', ['x:1', 1]), put('b', ['y:1', 1])],
      final({ a: ['x:1', 1], b: ['y:1', 1] }),
    )
    expect(report).toMatchObject({
      acknowledgedWrites: 2,
      lostAcknowledgedWrites: 0,
      violations: [],
    })
  })

  it('flags an acknowledged value that vanished without a replacement', () => {
    const report = check([put('a', ['x:1', 1]), put('b', ['y:1', 1])], final({ b: ['y:1', 1] }))
    expect(report.lostAcknowledgedWrites).toBe(1)
    expect(report.violations.map((v) => v.kind)).toEqual(['lost-write'])
  })

  it('accepts a value replaced by an acknowledged write whose context covered its dot', () => {
    const history = [put('a', ['x:1', 1]), put('b', ['x:1', 2], { context: [['x:1', 1]] })]
    expect(check(history, final({ b: ['x:1', 2] })).violations).toEqual([])
  })

  it('accepts a replacement by a failed write only when that write is readable (it was applied)', () => {
    const replacer = put('b', undefined, { context: [['x:1', 1]], outcome: 'failed' })
    const history = [put('a', ['x:1', 1]), replacer]
    expect(check(history, final({ b: ['x:1', 2] })).violations).toEqual([])
    const report = check(history, final({}))
    expect(report.violations.map((v) => v.kind)).toEqual(['lost-write'])
  })

  it('learns the dot of a value from a read when its own result no longer showed it', () => {
    const read: HistoryRecord = {
      kind: 'get',
      client: 1,
      node: 'node-2',
      key: 'k',
      startMs: 3,
      endMs: 4,
      outcome: 'ok',
      values: ['a'],
      dots: [['x:1', 1]],
    }
    const history = [put('a', undefined), read, put('b', ['y:1', 1], { context: [['x:1', 1]] })]
    expect(check(history, final({ b: ['y:1', 1] })).violations).toEqual([])
    expect(check([put('a', undefined)], final({})).violations.map((v) => v.kind)).toEqual([
      'missing-dot',
    ])
  })

  it('flags a value readable after an acknowledged write replaced it (resurrection)', () => {
    const history = [put('a', ['x:1', 1]), put('b', ['x:1', 2], { context: [['x:1', 1]] })]
    const report = check(history, final({ a: ['x:1', 1], b: ['x:1', 2] }))
    expect(report.violations.map((v) => v.kind)).toEqual(['resurrected-write'])
  })

  it('flags a value nobody wrote, and more siblings than allowed', () => {
    const history = [put('a', ['x:1', 1])]
    const finals = final({ a: ['x:1', 1], b: ['y:1', 1], c: ['z:1', 1], d: ['w:1', 1] })
    const kinds = check(history, finals).violations.map((v) => v.kind)
    expect(kinds).toEqual(['siblings-exceeded', 'phantom-value', 'phantom-value', 'phantom-value'])
  })

  it('excuses a lost write only when every member that acknowledged it was wiped', () => {
    const history = [put('a', ['x:1', 1])]
    expect(check(history, final({}), ['node-0']).lostAcknowledgedWrites).toBe(1)
    const report = check(history, final({}), ['node-0', 'node-1'])
    expect(report).toMatchObject({ lostAcknowledgedWrites: 0, excusedWrites: 1, violations: [] })
  })
})
