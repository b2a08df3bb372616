// Performance in chromium: a room with 30 nodes and live metrics. A scripted teammate (a plain
// WebSocket client in this process) builds a 30-node architecture for level 03 in a team
// practice room; the browser joins it by code and we measure, while the run streams metrics,
// (1) the interval between animation frames and (2) the work of each frame: from the frame's
// requestAnimationFrame callback to a message posted from it, which runs once style, layout and
// paint of that frame are done, plus whatever task ran before it (metrics handling included),
// so it is an upper bound. Measured at the real clock (10 ticks a second) once every instance
// has booted and all 13 apps take traffic; the server sends each connection at most 5 metrics
// frames a second at any practice speed, so a faster clock renders no more often. Figures go to e2e/artifacts/perf.json.
// Invariant: the server runs at clock rate 1 here, so the metrics rate is what players get.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import WebSocket from "ws";
import { artifacts, launchBrowser, newPage, shot, startServer } from "./harness.mjs";

const T = 20_000;
let server;
let browser;
let teammate;

/** A minimal protocol client: hello, then send and wait for messages matching a predicate. */
async function protocolClient(base, name) {
  const res = await fetch(`${base}/api/v1/sessions`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name }),
  });
  const session = await res.json();
  const ws = new WebSocket(`${base.replace(/^http/, "ws")}/ws`);
  const inbox = [];
  const waiters = new Set();
  ws.on("message", (data) => {
    const msg = JSON.parse(String(data));
    inbox.push(msg);
    for (const w of waiters) w();
  });
  await new Promise((r, j) => {
    ws.once("open", r);
    ws.once("error", j);
  });
  const client = {
    send: (m) => ws.send(JSON.stringify(m)),
    /** The first message (seen or to come) matching `pred`, consumed. */
    next(pred, ms = T) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const i = inbox.findIndex(pred);
          if (i < 0) return false;
          const [m] = inbox.splice(i, 1);
          waiters.delete(check);
          clearTimeout(timer);
          resolve(m);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching message in ${ms} ms`));
        }, ms);
        if (!check()) waiters.add(check);
      });
    },
    drain: () => inbox.splice(0),
    close: () => ws.close(1000),
  };
  client.send({ type: "hello", protocol: 1, token: session.token });
  await client.next((m) => m.type === "welcome");
  return client;
}

/**
 * Level 03 (budget $4/h) grown to 30 nodes: its five (users, lb, app, cache, db) plus twelve
 * app nodes that share the level's (warm) cache, and thirteen spare caches in front of the db.
 * The new apps join the lb only once booted (`joinActions`): traffic sent to booting instances
 * fails, cold caches stampede the db, and an outage would end the run before it is measured.
 */
function thirtyNodeActions() {
  const actions = [];
  for (let i = 1; i <= 12; i++) {
    actions.push({ op: "add_node", id: `app${i}`, component: "app", instance_type: "small" });
    actions.push({ op: "connect", from: `app${i}`, to: "cache" });
  }
  for (let i = 1; i <= 13; i++) {
    actions.push({ op: "add_node", id: `cache${i}`, component: "cache", instance_type: "cache-1g" });
    actions.push({ op: "connect", from: `cache${i}`, to: "db" });
  }
  return actions;
}

function joinActions() {
  return Array.from({ length: 12 }, (_, i) => ({ op: "connect", from: "lb", to: `app${i + 1}` }));
}

// The server sends each connection at most metrics_hz (5) frames a second whatever the speed.
const ONE = "clock 1× (10 ticks/s)";

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const summary = (xs) => ({
  frames: xs.length,
  p50: +pct(xs, 50).toFixed(2),
  p95: +pct(xs, 95).toFixed(2),
  p99: +pct(xs, 99).toFixed(2),
  max: +Math.max(...xs).toFixed(2),
});

/** Samples rAF intervals and per-frame work in the page for `ms`, plus long tasks. */
function measure(page, ms) {
  return page.evaluate(
    (ms) =>
      new Promise((resolve) => {
        const intervals = [];
        const work = [];
        const longTasks = [];
        let obs = null;
        try {
          obs = new PerformanceObserver((list) => {
            for (const e of list.getEntries()) longTasks.push(e.duration);
          });
          obs.observe({ type: "longtask", buffered: false });
        } catch {
          obs = null;
        }
        // Metrics frames that reached the screen: the badge of the app node changes with each.
        let updates = 0;
        const badge = document.querySelector('[data-testid="rf__node-app"]');
        const mo = new MutationObserver(() => updates++);
        if (badge) mo.observe(badge, { subtree: true, characterData: true, childList: true });
        const channel = new MessageChannel();
        let frameStart = 0;
        channel.port1.onmessage = () => work.push(performance.now() - frameStart);
        let last = 0;
        const end = performance.now() + ms;
        const frame = (t) => {
          if (last) intervals.push(t - last);
          last = t;
          frameStart = performance.now();
          channel.port2.postMessage(0);
          if (t < end) requestAnimationFrame(frame);
          else {
            obs?.disconnect();
            mo.disconnect();
            setTimeout(
              () => resolve({ intervals, work, longTasks, updatesPerSec: +((updates * 1000) / ms).toFixed(1) }),
              50,
            );
          }
        };
        requestAnimationFrame(frame);
      }),
    ms,
  );
}

before(async () => {
  server = await startServer({ clockRate: 1 });
  browser = await launchBrowser();
});

after(async () => {
  teammate?.close();
  await browser?.close().catch(() => {});
  await server?.stop();
});

describe("performance", () => {
  it("a room with 30 nodes and live metrics keeps frame work under 16 ms at p95, and drops no frame at p95", async () => {
    teammate = await protocolClient(server.url, "builder");
    teammate.send({ type: "create_room", level: "03-cache-stampede", mode: "team", practice: true });
    const snap = await teammate.next((m) => m.type === "room_snapshot");
    let req = Date.now();
    const act = async (actions) => {
      for (const action of actions) {
        const id = ++req;
        teammate.send({ type: "action", req_id: id, action });
        const res = await teammate.next((m) => m.type === "action_result" && m.req_id === id);
        assert.ok(res.ok, `${JSON.stringify(action)} refused: ${JSON.stringify(res.error)}`);
      }
    };
    await act(thirtyNodeActions());

    const { page, errors } = await newPage(browser.context);
    await page.goto(`${server.url}/join/${snap.room.code}`);
    await page.waitForSelector('[data-testid="rf__node-cache13"]', { timeout: T });
    assert.equal(await page.locator(".react-flow__node").count(), 30, "30 nodes on the canvas");

    teammate.send({ type: "start" });
    await page.waitForFunction(
      () => document.querySelector('[data-testid="phase"]')?.textContent?.startsWith("running"),
      null,
      { timeout: T },
    );
    // Warm-up at 4×: the added app nodes boot for 45 s of game time (caches 30 s); measure a
    // system that is up and busy, not one waiting for its instances.
    teammate.send({ type: "practice", op: { op: "speed", factor: 4 } });
    await page.waitForFunction(
      () => {
        const [m, s] = (document.querySelector('[data-testid="timer"] .big')?.textContent ?? "0:00").split(":");
        return Number(m) * 60 + Number(s) >= 50;
      },
      null,
      { timeout: 60_000 },
    );
    await act(joinActions());
    teammate.send({ type: "practice", op: { op: "speed", factor: 1 } });
    await page.waitForFunction(
      () => !document.querySelector('[data-testid="phase"]')?.textContent?.includes("4×"),
      null,
      { timeout: T },
    );
    await page.waitForTimeout(1000);
    const metricsBefore = await page.locator('[data-testid="timer"] .big').textContent();
    const at1x = await measure(page, 10_000);
    const metricsAfter = await page.locator('[data-testid="timer"] .big').textContent();
    assert.notEqual(metricsBefore, metricsAfter, "metrics kept arriving while measuring");
    await shot(page, "30-perf-30-nodes");

    assert.match(
      (await page.locator('[data-testid="phase"]').textContent()) ?? "",
      /^running/,
      "the run was still going while measured",
    );
    const report = {
      setup:
        "level 03, 30 nodes (users, lb, 13 app, 14 cache, db), 41 edges, team practice room, server clock 1, measured from 0:50 of game time (all instances booted)",
      chromium: await browser.context.browser()?.version(),
      viewport: "1280x720",
      [ONE]: {
        rafIntervalMs: summary(at1x.intervals),
        frameWorkMs: summary(at1x.work),
        longTasks: at1x.longTasks.length,
        screenUpdatesPerSec: at1x.updatesPerSec,
      },
    };
    writeFileSync(join(artifacts, "perf.json"), JSON.stringify(report, null, 2));
    console.log(`# ${JSON.stringify(report)}`);
    // A 60 Hz display paces frames at 16.7 ms: a p95 interval within that (plus timer jitter)
    // means no dropped frame at p95. The work of a frame (an upper bound: it includes the
    // metrics handling that ran before it) stays under 16 ms at p95.
    assert.ok(report[ONE].rafIntervalMs.p95 <= 17.5, `no dropped frames at p95 (${report[ONE].rafIntervalMs.p95} ms)`);
    assert.ok(report[ONE].frameWorkMs.p95 < 16, `frame work p95 ${report[ONE].frameWorkMs.p95} ms`);
    assert.deepEqual(errors, []);
  });
});
