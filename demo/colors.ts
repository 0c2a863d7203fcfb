/** Gives each member a colour of its own, in the order the page first meets them. */

const palette = [
  '#e4572e',
  '#17bebb',
  '#ffc914',
  '#2e282a',
  '#76b041',
  '#6a4c93',
  '#f18f01',
  '#1982c4',
  '#ff595e',
  '#8ac926',
  '#c5283d',
  '#3a86ff',
]

/** A member → colour assignment that stays stable for the page's life. */
export class MemberColors {
  readonly #colors = new Map<string, string>()

  /** The member's colour, assigning the next palette colour on first sight. */
  of(member: string): string {
    let color = this.#colors.get(member)
    if (color === undefined) {
      color = palette[this.#colors.size % palette.length]!
      this.#colors.set(member, color)
    }
    return color
  }
}
