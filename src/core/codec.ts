/**
 * The one codec of Solar Orbit: CBOR (RFC 8949) through `cborg`, strict on decode. Every format built on
 * it (cluster state, wire messages, stored objects) is a versioned array of fields, read back through
 * the small validators below, so bytes from a peer or a disk can only produce a value or a
 * {@link DecodeError}.
 */
import { decode, encode, Tokenizer } from 'cborg'
import { DecodeError } from './errors.ts'

const strict = {
  strict: true,
  allowIndefinite: false,
  allowUndefined: false,
  allowInfinity: false,
  allowNaN: false,
  allowBigInt: false,
  rejectDuplicateMapKeys: true,
} as const

/** CBOR bytes of `value`; deterministic for the arrays, strings, numbers and bytes we encode. */
export function encodeCbor(value: unknown): Uint8Array {
  return encode(value)
}

/** Options of {@link decodeCbor}. */
export interface DecodeCborOptions {
  /**
   * Return byte strings as views into the input rather than copies. Faster where many large byte
   * strings are read once and passed on (handoff items on their way to storage, which copies what it
   * keeps), but a view pins the whole input while it lives and sees any later change to it.
   * Default false.
   */
  readonly views?: boolean
}

/**
 * Strict CBOR decoding with a size limit: no indefinite lengths, undefined, NaN, infinities, big
 * integers, duplicate map keys or non-minimal encodings. Every failure becomes a {@link DecodeError}
 * naming `what`.
 */
export function decodeCbor(
  bytes: Uint8Array,
  bytesMax: number,
  what: string,
  options: DecodeCborOptions = {},
): unknown {
  if (bytes.length > bytesMax) {
    throw new DecodeError(`${what} is ${bytes.length} bytes, over the limit of ${bytesMax}`)
  }
  try {
    if (!options.views) return decode(bytes, strict)
    const input = new SlicingView(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength)
    return decode(input, { ...strict, tokenizer: new Tokenizer(input, strict) })
  } catch (cause) {
    throw new DecodeError(`${what} is not valid CBOR: ${(cause as Error).message}`, { cause })
  }
}

/**
 * The input of a decoding with views: cborg takes each byte string with `slice`, which here returns
 * a view. The views are plain `Uint8Array`s (the species), whose `slice` copies as usual.
 */
class SlicingView extends Uint8Array {
  static get [Symbol.species](): Uint8ArrayConstructor {
    return Uint8Array
  }

  override slice(start?: number, end?: number): Uint8Array<ArrayBuffer> {
    return this.subarray(start, end) as Uint8Array<ArrayBuffer>
  }
}

/** Throws a {@link DecodeError} saying `what` is invalid. */
export function invalid(what: string): never {
  throw new DecodeError(`invalid ${what}`)
}

/** `value` as an array, or a {@link DecodeError}. */
export function readList(value: unknown, what: string): readonly unknown[] {
  if (!Array.isArray(value)) throw new DecodeError(`${what} must be an array`)
  return value
}

/** `value` as an array of exactly `length` fields, or a {@link DecodeError}. */
export function readTuple(value: unknown, length: number, what: string): readonly unknown[] {
  const fields = readList(value, what)
  if (fields.length !== length) {
    throw new DecodeError(`${what} must have ${length} fields, got ${fields.length}`)
  }
  return fields
}

/** `value` as a non-negative safe integer, or a {@link DecodeError}. */
export function readCount(value: unknown, what: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw new DecodeError(`${what} must be a non-negative integer`)
  }
  return value as number
}

/** `value` as a string (non-empty unless `allowEmpty`), or a {@link DecodeError}. */
export function readText(value: unknown, what: string, allowEmpty = false): string {
  if (typeof value !== 'string' || (!allowEmpty && value.length === 0)) {
    throw new DecodeError(`${what} must be a${allowEmpty ? '' : ' non-empty'} string`)
  }
  return value
}

/** `value` as bytes of at most `bytesMax`, or a {@link DecodeError}. */
export function readBytes(
  value: unknown,
  what: string,
  bytesMax = Number.POSITIVE_INFINITY,
): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new DecodeError(`${what} must be bytes`)
  if (value.length > bytesMax) {
    throw new DecodeError(`${what} is ${value.length} bytes, over the limit of ${bytesMax}`)
  }
  return value
}

/** Checks that `values` are strictly ascending (unique and sorted), or throws a {@link DecodeError}. */
export function requireAscending(
  values: readonly string[] | readonly number[],
  what: string,
): void {
  for (let i = 1; i < values.length; i++) {
    if (!((values[i - 1] as string | number) < (values[i] as string | number))) {
      throw new DecodeError(`${what} must be unique and sorted`)
    }
  }
}
