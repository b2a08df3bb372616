// Encoding and decoding of WebSocket frames. The types come from ./generated (ts-rs); this file
// only checks the envelope. Invariant: decode never throws; a frame that is not a JSON object
// with a string `type` is null, and unknown types pass through for the caller to ignore
// (PROTOCOL.md: clients must ignore message types they do not know).
import type { ClientMsg, ServerMsg } from "./generated";
import { MAX_MESSAGE_BYTES } from "./generated";

export function decodeServerMsg(text: unknown): ServerMsg | null {
  if (typeof text !== "string") return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  if (typeof (value as { type?: unknown }).type !== "string") return null;
  return value as ServerMsg;
}

/** Thrown when a message would exceed the server's limit (it would close us with 1009). */
export class MessageTooBig extends Error {}

const encoder = new TextEncoder();

export function encodeClientMsg(msg: ClientMsg): string {
  const text = JSON.stringify(msg);
  // Cheap check first: a string's UTF-8 length is at most 3 bytes per UTF-16 unit.
  if (text.length * 3 > MAX_MESSAGE_BYTES && encoder.encode(text).length > MAX_MESSAGE_BYTES) {
    throw new MessageTooBig(`message of type ${msg.type} is over ${MAX_MESSAGE_BYTES} bytes`);
  }
  return text;
}
