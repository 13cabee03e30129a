// A claimed event as the worker holds it: the stored JSON text, parsed only when something reads
// more of it than its id and @timestamp.
//
// Why: the batching presets and the custom webhook splice the stored text into their requests and
// read nothing else of the event but its id and @timestamp, yet every claimed payload used to be
// parsed, and the parsed objects of a claim in flight were most of what each scavenge of the young
// generation copied (docs/BENCHMARKS.md). The API writes every payload with `@timestamp` first and
// `event.id` first in `event` (events/contract.ts, trail/contract.ts), so both are read from the
// text's head; any other text (an older writer's spacing, an escape in either value) is parsed.
import type { SiemEvent } from './types.js';
import { isStringifyForm } from './stringifyForm.js';

const TIMESTAMP_HEAD = '{"@timestamp":"';
const ID_HEAD = '","event":{"id":"';
const BACKSLASH = '\\';

interface Head {
  timestamp: string;
  id: string;
}

/**
 * The @timestamp and event.id a JSON object text starts with, or null when it does not start with
 * them in this order and compact form. A value holding an escape is left to the parser (its text is
 * not its value), so a value read here is the one JSON.parse would give (for an object without a key
 * twice, which no writer of the table produces).
 */
export function readHead(text: string): Head | null {
  if (!text.startsWith(TIMESTAMP_HEAD)) return null;
  const tsEnd = text.indexOf('"', TIMESTAMP_HEAD.length);
  if (tsEnd < 0 || !text.startsWith(ID_HEAD, tsEnd)) return null;
  const idStart = tsEnd + ID_HEAD.length;
  const idEnd = text.indexOf('"', idStart);
  if (idEnd < 0) return null;
  const timestamp = text.slice(TIMESTAMP_HEAD.length, tsEnd);
  const id = text.slice(idStart, idEnd);
  return timestamp.includes(BACKSLASH) || id.includes(BACKSLASH) ? null : { timestamp, id };
}

/**
 * An event claimed for delivery, as its stored text (a JSON object: the json column only holds valid
 * JSON). It is a SiemEvent: every field an encoder reads is there, parsed on first use. What the
 * common paths read costs no parse: `eventIdOf`, `@timestamp` and `storedJson` (the text itself
 * when it is JSON.stringify's form of the event, which encoders splice as the body).
 */
export class StoredEvent implements SiemEvent {
  readonly text: string;
  readonly #head: Head | null;
  #wire: SiemEvent | undefined;
  #form: boolean | undefined;

  constructor(text: string) {
    this.text = text;
    this.#head = readHead(text);
  }

  /** The parsed event (a wire or trail event), parsed once. */
  get wire(): SiemEvent {
    return (this.#wire ??= JSON.parse(this.text) as SiemEvent);
  }

  get '@timestamp'(): string {
    return this.#head !== null ? this.#head.timestamp : this.wire['@timestamp'];
  }

  get event(): SiemEvent['event'] {
    return this.wire.event;
  }

  get aegis(): SiemEvent['aegis'] {
    return this.wire.aegis;
  }

  get organization(): SiemEvent['organization'] {
    return this.wire.organization;
  }

  get id(): string {
    return this.#head !== null ? this.#head.id : this.wire.event.id;
  }

  /**
   * The stored text when it is exactly what JSON.stringify writes for the event (every payload the
   * API stored: queue/enqueue.ts), else undefined (the event is then serialised from its parse).
   */
  get storedJson(): string | undefined {
    this.#form ??= this.text.charCodeAt(0) === 0x7b && this.text.charCodeAt(this.text.length - 1) === 0x7d && isStringifyForm(this.text);
    return this.#form ? this.text : undefined;
  }

  /** JSON.stringify of a StoredEvent writes the event, not the wrapper. */
  toJSON(): SiemEvent {
    return this.wire;
  }
}

/** The event's plain object: the parse of a StoredEvent, any other event as it is. */
export function wireOf(e: SiemEvent): SiemEvent {
  return e instanceof StoredEvent ? e.wire : e;
}

/** event.id, read from a StoredEvent's head without parsing it. */
export function eventIdOf(e: SiemEvent): string {
  return e instanceof StoredEvent ? e.id : e.event.id;
}
