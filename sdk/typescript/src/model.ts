/**
 * Builders of Ringside's model refs (plain strings), checked the way the server checks them:
 * `fc:<provider>/<model>`, `slot:<name>`, `match:<provider>/<family>>=<major>`.
 */

const MAX_REF_LENGTH = 300;
const MAX_SLOT_NAME_LENGTH = 100;
const MAX_MAJOR_VERSION = 9999;
const IDENTIFIER = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

function identifier(value: string, what: string): string {
  if (typeof value !== 'string' || !IDENTIFIER.test(value)) {
    throw new TypeError(`${what} must be lowercase letters, digits, '_', '.' or '-' (1..64), got ${JSON.stringify(value)}`);
  }
  return value;
}

function checked(ref: string): string {
  if (ref.length > MAX_REF_LENGTH) throw new TypeError(`a model ref is at most ${MAX_REF_LENGTH} characters`);
  return ref;
}

/** `Model.match(provider, family)`: the newest catalog model of a family, resolved per request. */
export class MatchBuilder {
  constructor(
    readonly provider: string,
    readonly family: string,
    readonly majorVersion: number = 0,
  ) {}

  /** Only models of this major version or newer (`>=major`). */
  minVersion(major: number): MatchBuilder {
    if (!Number.isInteger(major) || major < 0 || major > MAX_MAJOR_VERSION) {
      throw new TypeError(`the major version must be an integer 0..${MAX_MAJOR_VERSION}, got ${major}`);
    }
    return new MatchBuilder(this.provider, this.family, major);
  }

  /** The ref string, e.g. `match:anthropic/sonnet>=4`. */
  build(): string {
    return checked(`match:${this.provider}/${this.family}>=${this.majorVersion}`);
  }

  toString(): string {
    return this.build();
  }
}

export const Model = {
  /** A fixed model: `fc:openai/gpt-4o-mini`. */
  fc(provider: string, model: string): string {
    identifier(provider, 'provider');
    if (typeof model !== 'string' || model.length === 0 || /[\s\p{Cc}]/u.test(model)) {
      throw new TypeError(`model must be a non-empty name without spaces, got ${JSON.stringify(model)}`);
    }
    return checked(`fc:${provider}/${model}`);
  },

  /** An account's slot (an alias with fallbacks): `slot:chat-default`. */
  slot(name: string): string {
    const valid =
      typeof name === 'string' &&
      name.length >= 1 &&
      name.length <= MAX_SLOT_NAME_LENGTH &&
      !name.includes(':') &&
      !name.startsWith('slot_') &&
      !/\p{Cc}/u.test(name);
    if (!valid) {
      throw new TypeError(`a slot name is 1..${MAX_SLOT_NAME_LENGTH} characters without ':', got ${JSON.stringify(name)}`);
    }
    return `slot:${name}`;
  },

  /** Start a `match:` selector; finish it with `.minVersion(n).build()`. */
  match(provider: string, family: string): MatchBuilder {
    return new MatchBuilder(identifier(provider, 'provider'), identifier(family, 'family'));
  },
};
