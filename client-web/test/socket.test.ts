// The socket adapter against a real WebSocket server (the `ws` package on port 0), with fake
// timers for the backoff and ping clocks: handshake, resume after a drop, and what each close
// code makes the client do (RELIABILITY.md).
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { WebSocketServer, WebSocket as NodeWebSocket, type WebSocket as ServerSocket } from "ws";
import type { AddressInfo } from "node:net";
import { Backoff } from "../src/net/backoff";
import { SocketAdapter, type ConnStatus, type ResumeTarget, type WebSocketLike } from "../src/net/socket";
import { PROTOCOL_VERSION, type ServerMsg } from "../src/protocol/generated";

interface Harness {
  wss: WebSocketServer;
  url: string;
  conns: ServerSocket[];
  received: { conn: number; msg: Record<string, unknown> }[];
  nextConnection(): Promise<ServerSocket>;
  nextMessage(pred?: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
}

async function startServer(): Promise<Harness> {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  const port = (wss.address() as AddressInfo).port;
  const conns: ServerSocket[] = [];
  const received: Harness["received"] = [];
  const connWaiters: ((s: ServerSocket) => void)[] = [];
  const msgWaiters: { pred: (m: Record<string, unknown>) => boolean; res: (m: Record<string, unknown>) => void }[] = [];
  wss.on("connection", (s) => {
    const index = conns.push(s) - 1;
    s.on("message", (data) => {
      const msg = JSON.parse(String(data)) as Record<string, unknown>;
      received.push({ conn: index, msg });
      const w = msgWaiters.findIndex((x) => x.pred(msg));
      if (w >= 0) msgWaiters.splice(w, 1)[0]?.res(msg);
    });
    connWaiters.shift()?.(s);
  });
  return {
    wss,
    url: `ws://127.0.0.1:${port}/ws`,
    conns,
    received,
    nextConnection: () => new Promise((res) => connWaiters.push(res)),
    nextMessage: (pred = () => true) => new Promise((res) => msgWaiters.push({ pred, res })),
  };
}

const welcome: ServerMsg = { type: "welcome", protocol: 1, player: "p-1", name: "Ada", server_time_ms: 0 };
const send = (s: ServerSocket, m: ServerMsg) => s.send(JSON.stringify(m));

describe("SocketAdapter", () => {
  let h: Harness;
  let statuses: ConnStatus[];
  let messages: ServerMsg[];
  let resume: ResumeTarget | null;
  let renewals: number;
  let roomLost: string[];
  let adapter: SocketAdapter;

  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval"] });
    h = await startServer();
    statuses = [];
    messages = [];
    resume = null;
    renewals = 0;
    roomLost = [];
    let token = "tok-1";
    adapter = new SocketAdapter({
      url: h.url,
      getToken: () => token,
      renewSession: async () => {
        renewals += 1;
        token = `tok-${renewals + 1}`;
      },
      resumeTarget: () => resume,
      onMessage: (m) => messages.push(m),
      onStatus: (s) => statuses.push(s),
      onRoomLost: (r) => roomLost.push(r),
      createSocket: (url) => new NodeWebSocket(url) as unknown as WebSocketLike,
      pingIntervalMs: 10_000,
      backoff: new Backoff({ baseMs: 500, capMs: 10_000, random: () => 0.5 }),
    });
  });

  afterEach(async () => {
    adapter.stop();
    vi.useRealTimers();
    for (const c of h.wss.clients) c.terminate();
    await new Promise((r) => h.wss.close(r));
  });

  async function handshake(): Promise<ServerSocket> {
    const conn = h.nextConnection();
    const hello = h.nextMessage((m) => m.type === "hello");
    if (statuses.length === 0) adapter.start();
    const s = await conn;
    await hello;
    send(s, welcome);
    // vi.waitFor polls on the real clock, so it works with the fake timers on.
    await vi.waitFor(() => expect(adapter.isOpen).toBe(true), { interval: 5 });
    return s;
  }

  it("says hello first, with the protocol version and the token, then pings", async () => {
    const hello = h.nextMessage((m) => m.type === "hello");
    const ping = h.nextMessage((m) => m.type === "ping");
    const conn = h.nextConnection();
    adapter.start();
    const s = await conn;
    expect(await hello).toEqual({ type: "hello", protocol: PROTOCOL_VERSION, token: "tok-1" });
    expect(adapter.send({ type: "chat", text: "too early" })).toBe(false);
    send(s, welcome);
    await ping;
    expect(statuses.at(-1)).toEqual({ state: "open" });
    expect(messages[0]).toEqual(welcome);
    // Nothing but hello was sent before welcome.
    expect(h.received.map((r) => r.msg.type).slice(0, 2)).toEqual(["hello", "ping"]);
    // The next ping comes after the interval.
    const second = h.nextMessage((m) => m.type === "ping");
    await vi.advanceTimersByTimeAsync(10_000);
    expect((await second).nonce).toBe(2);
  });

  it("reconnects with backoff after a drop and resumes the room from the last seq", async () => {
    const s = await handshake();
    resume = { room: "r-1", last_seq: 17 };
    const next = h.nextConnection();
    s.close(4001, "restarting");
    await vi.waitFor(() => expect(statuses.at(-1)?.state).toBe("waiting"), { interval: 5 });
    const waiting = statuses.at(-1);
    expect(waiting?.state === "waiting" && waiting.retryInMs).toBe(250); // full jitter: 0.5 × 500 ms
    const resumed = h.nextMessage((m) => m.type === "resume");
    await vi.advanceTimersByTimeAsync(300);
    const s2 = await next;
    send(s2, welcome);
    expect(await resumed).toEqual({ type: "resume", room: "r-1", last_seq: 17 });
  });

  it("backs off further on each failed attempt, up to the cap", () => {
    const b = new Backoff({ baseMs: 500, capMs: 10_000, random: () => 0.999 });
    const delays = Array.from({ length: 8 }, () => b.next());
    expect(delays[0]).toBeLessThan(500);
    expect(delays[1]).toBeLessThan(1000);
    expect(delays[1]).toBeGreaterThan(delays[0] ?? 0);
    expect(Math.max(...delays)).toBeLessThanOrEqual(10_000);
    b.reset();
    expect(b.next()).toBeLessThan(500);
  });

  it("makes a new session on 4004 and reconnects with it", async () => {
    const s = await handshake();
    const next = h.nextConnection();
    const hello = h.nextMessage((m) => m.type === "hello");
    s.close(4004, "bad token");
    await vi.waitFor(() => expect(renewals).toBe(1), { interval: 5 });
    await vi.advanceTimersByTimeAsync(1000);
    await next;
    expect((await hello).token).toBe("tok-2");
  });

  it("stops on 1000 (another tab took the seat) and on 4005 (reload)", async () => {
    const s = await handshake();
    s.close(1000);
    await vi.waitFor(() => expect(statuses.at(-1)?.state).toBe("stopped"), { interval: 5 });
    await vi.advanceTimersByTimeAsync(20_000);
    expect(h.conns).toHaveLength(1);

    adapter.stop();
    statuses = [];
    const s2 = await handshake();
    s2.close(4005, "version");
    await vi.waitFor(() => expect(statuses.at(-1)).toMatchObject({ state: "stopped", action: "reload" }), {
      interval: 5,
    });
  });

  it("reports a lost room on 4010 and reconnects without resuming", async () => {
    const s = await handshake();
    resume = { room: "r-1", last_seq: 3 };
    s.close(4010, "seat expired");
    await vi.waitFor(() => expect(roomLost).toHaveLength(1), { interval: 5 });
    resume = null; // what the controller does on onRoomLost
    const next = h.nextConnection();
    await vi.advanceTimersByTimeAsync(1000);
    const s2 = await next;
    send(s2, welcome);
    await vi.waitFor(() => expect(adapter.isOpen).toBe(true), { interval: 5 });
    expect(h.received.filter((r) => r.conn === 1).map((r) => r.msg.type)).not.toContain("resume");
  });

  it("resyncs on demand with last_seq 0 (a full snapshot)", async () => {
    await handshake();
    resume = { room: "r-1", last_seq: 9 };
    const next = h.nextConnection();
    const resumed = h.nextMessage((m) => m.type === "resume");
    adapter.resync();
    send(await next, welcome);
    expect(await resumed).toEqual({ type: "resume", room: "r-1", last_seq: 0 });
  });
});
