// E2E harness: the real `stampede` binary on 127.0.0.1:0 with a fast clock, and Debian's
// chromium driven by playwright-core (no browser download). Invariant: every wait is bounded,
// every process started here is stopped by its own pid, and every console error or page error
// of a page is recorded so a test can assert there were none.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createServer, connect } from "node:net";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, "../..");
export const artifacts = join(here, "artifacts");
mkdirSync(artifacts, { recursive: true });

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Starts the server binary; resolves with its base URL once it logs its address. Each server
 * gets its own SQLite file (and receipt key beside it) in a fresh temp dir, removed on stop, so
 * runs never share attempts or leaderboards.
 */
export async function startServer({ clockRate = 10, env = {} } = {}) {
  const bin = process.env.STAMPEDE_BIN ?? join(repoRoot, "target/debug/stampede");
  if (!existsSync(bin)) throw new Error(`server binary missing at ${bin}: run cargo build -p stampede-server`);
  const dataDir = mkdtempSync(join(tmpdir(), "stampede-e2e-db-"));
  const child = spawn(bin, ["serve", "--addr", "127.0.0.1:0", "--log-json", "--levels-dir", join(repoRoot, "levels")], {
    env: {
      ...process.env,
      STAMPEDE_CLOCK_RATE: String(clockRate),
      RUST_LOG: "info",
      DATABASE_URL: `sqlite://${dataDir}/s.db`,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  const url = await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`server did not start:\n${log}`)), 20_000);
    const onData = (chunk) => {
      log += chunk.toString();
      const m = log.match(/"addr":"(127\.0\.0\.1:\d+)"/) ?? log.match(/addr=(127\.0\.0\.1:\d+)/);
      if (m) {
        clearTimeout(timer);
        res(`http://${m[1]}`);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => rej(new Error(`server exited ${code}:\n${log}`)));
  });
  return {
    url,
    log: () => log,
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await new Promise((r) => {
          const t = setTimeout(() => {
            child.kill("SIGKILL");
            r();
          }, 5000);
          child.on("exit", () => {
            clearTimeout(t);
            r();
          });
        });
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Launches chromium with a fresh profile. */
export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) throw new Error(`chromium missing at ${CHROMIUM}: apt-get install -y chromium`);
  const profile = mkdtempSync(join(tmpdir(), "stampede-e2e-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 720 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A new page whose console errors and page errors are collected in `errors`. */
export async function newPage(context) {
  const page = await context.newPage();
  const errors = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  return { page, errors };
}

export async function shot(page, name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: false });
}

/**
 * A TCP proxy in front of the server whose connections can be cut at will: the browser sees
 * the network drop (close 1006) exactly as it would on a flaky link, and its reconnects go
 * through the proxy again.
 */
export async function startCutProxy(target) {
  const { hostname, port } = new URL(target);
  const live = new Set();
  const server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    live.add(client);
    live.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      live.delete(client);
      live.delete(upstream);
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    /** Cuts every open connection (the listener stays up, so reconnects succeed). */
    cutAll() {
      for (const s of live) s.destroy();
      live.clear();
    },
    async stop() {
      this.cutAll();
      await new Promise((r) => server.close(r));
    },
  };
}
