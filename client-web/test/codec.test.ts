// The codec against every golden fixture: every server message decodes with its type, every
// client message encodes back to the same JSON.
import { describe, expect, it } from "vitest";
import { decodeServerMsg, encodeClientMsg, MessageTooBig } from "../src/protocol/codec";
import { clientFixture, fixtureNames, rawFixture } from "./fixtures";

describe("codec", () => {
  it.each(fixtureNames("server_"))("decodes %s", (name) => {
    const text = rawFixture(name);
    const msg = decodeServerMsg(text);
    expect(msg).not.toBeNull();
    expect(msg).toEqual(JSON.parse(text));
  });

  it.each(fixtureNames("client_"))("encodes %s to the same JSON", (name) => {
    const msg = clientFixture(name);
    expect(JSON.parse(encodeClientMsg(msg))).toEqual(msg);
  });

  it("has fixtures to test", () => {
    expect(fixtureNames("server_").length).toBeGreaterThan(10);
    expect(fixtureNames("client_").length).toBeGreaterThan(10);
  });

  it("returns null for frames that are not typed objects", () => {
    for (const bad of ["", "not json", "[]", "null", "42", '{"no_type":1}', '{"type":3}']) {
      expect(decodeServerMsg(bad)).toBeNull();
    }
    expect(decodeServerMsg(new Uint8Array([1, 2]))).toBeNull();
  });

  it("passes unknown message types through for the caller to ignore", () => {
    expect(decodeServerMsg('{"type":"from_the_future","x":1}')?.type).toBe("from_the_future");
  });

  it("refuses a message over the server's size limit", () => {
    expect(() => encodeClientMsg({ type: "chat", text: "é".repeat(9000) })).toThrow(MessageTooBig);
  });
});
