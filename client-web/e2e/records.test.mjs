// End-to-end, records: two players finish level 01 (ranked, solo) on the real server; the
// first sees their rank and their row on the leaderboard page, opens their receipt, which
// verifies and replays with curves (the server's exact re-simulation: the same result); the
// second, ranked below, replays theirs (with a mid-run action) exactly too, with the first's run
// as the ghost; an edited receipt reads as invalid, in the page and through the API.
// Screenshots go to e2e/artifacts/. Invariant: no console errors on any page.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, newPage, shot, startServer } from "./harness.mjs";

const T = 20_000;
let server;
const browsers = [];

async function browser() {
  const b = await launchBrowser();
  browsers.push(b);
  return newPage(b.context);
}

/** Selects a node: by keyboard (focus, Enter), then by a click if the canvas was busy re-fitting. */
async function select(page, nodeId) {
  const node = page.locator(`[data-testid="rf__node-${nodeId}"]`);
  const inspector = `[aria-label="Inspector: ${nodeId}"]`;
  for (let attempt = 0; attempt < 4; attempt++) {
    if (attempt % 2 === 0) {
      await node.focus();
      await page.keyboard.press("Enter");
    } else {
      await node.click({ position: { x: 20, y: 10 }, timeout: 5000 }).catch(() => {});
    }
    if (
      await page.waitForSelector(inspector, { timeout: 4000 }).then(
        () => true,
        () => false,
      )
    )
      return;
  }
  throw new Error(`could not select ${nodeId}`);
}

async function waitText(page, selector, re, timeout = T) {
  await page.waitForFunction(
    ([sel, src]) => new RegExp(src).test(document.querySelector(sel)?.textContent ?? ""),
    [selector, re.source],
    { timeout },
  );
}

/** Level 01's reference through the keyboard-friendly controls: lb in front of web ×`instances`. */
async function buildAndPlay(page, name, instances, { midRunScale } = {}) {
  await page.goto(`${server.url}/`);
  await page.fill("#player-name", name);
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText(`Playing as ${name}`).waitFor({ timeout: T });
  await page.locator('[data-testid="level-01-scale-out"]').click({ timeout: T });
  await page.getByRole("button", { name: "Play solo" }).click({ timeout: T });
  await page.waitForSelector('[data-testid="rf__node-web"]', { timeout: T });
  await page.fill("#new-node-id", "lb");
  await page.locator('[data-testid="add-load-balancer"]').click();
  await page.waitForSelector('[data-testid="rf__node-lb"]', { timeout: T });
  await select(page, "lb");
  await page.selectOption('[data-testid="connect-select"]', "web");
  await page.locator('[data-testid="connect-button"]').click();
  await page.waitForSelector('[data-testid="rf__edge-lb->web"]', { state: "attached", timeout: T });
  await select(page, "web");
  await page.fill('[data-testid="scale-input"]', String(instances));
  await page.locator('[data-testid="scale-button"]').click();
  await waitText(page, '[data-testid="instances-web"]', new RegExp(`${instances}×`));
  await select(page, "users");
  await page.selectOption('[data-testid="connect-select"]', "lb");
  await page.locator('[data-testid="connect-button"]').click();
  await page.waitForSelector('[data-testid="rf__edge-users->lb"]', { state: "attached", timeout: T });
  await page.locator('[data-testid="disconnect-users-web"]').click();
  await page.waitForSelector('[data-testid="rf__edge-users->web"]', { state: "detached", timeout: T });
  await page.locator('[data-testid="start"]').click();
  if (midRunScale) {
    // One action during the run, so the replay must apply it at its tick besides the lobby.
    await page.waitForFunction(
      () => document.querySelector('[data-testid="phase"]')?.textContent?.startsWith("running"),
      null,
      { timeout: T },
    );
    await select(page, "web");
    await page.fill('[data-testid="scale-input"]', String(midRunScale));
    await page.locator('[data-testid="scale-button"]').click();
  }
  await page.locator('[data-testid="results"]').waitFor({ timeout: 120_000 });
  return Number(await page.locator('[data-testid="score"]').textContent());
}

before(async () => {
  server = await startServer({ clockRate: 20 });
});

after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  await server?.stop();
});

describe("leaderboards and receipts", () => {
  let first;
  let second;
  let firstReceipt;

  it("after playing level 01 to the end, the player sees their rank and their row on the leaderboard", async () => {
    first = await browser();
    second = await browser();
    // Both play at once: the first with the reference (web ×9), the second pays for more (×14,
    // scaled up during the run) and ranks below on cost.
    const [a, b] = await Promise.all([
      buildAndPlay(first.page, "Ada", 9),
      buildAndPlay(second.page, "Grace", 9, { midRunScale: 14 }),
    ]);
    assert.ok(a >= 900, `Ada's score ${a}`);
    assert.ok(b > 0 && b < a, `Grace's score ${b} is below Ada's ${a}`);

    const page = first.page;
    await page.locator('[data-testid="my-rank"]').waitFor({ timeout: T });
    assert.equal(await page.locator('[data-testid="my-rank"]').textContent(), "1");
    await page.locator('[data-testid="around-me"] [data-testid="board-row-me"]').waitFor({ timeout: T });
    await shot(page, "20-results-rank");
    const receiptHref = await page.locator('[data-testid="receipt-link"]').getAttribute("href");
    assert.match(receiptHref ?? "", /^\/receipts\/[\w-]+$/);
    firstReceipt = receiptHref.split("/").pop();

    await page.locator('[data-testid="results-board-link"]').click();
    await page.waitForSelector('[data-testid="board"]', { timeout: T });
    await second.page.locator('[data-testid="my-rank"]').waitFor({ timeout: T });
    await page.reload(); // both runs on the board now
    const mine = page.locator('[data-testid="board-row-me"]');
    await mine.waitFor({ timeout: T });
    assert.match(await mine.textContent(), /^1Ada/);
    assert.equal(await page.locator('[data-testid="board"] tbody tr').count(), 2);
    await shot(page, "21-leaderboard");

    // The same board by week (the current period) holds the run too; "around me" finds it.
    await page.selectOption("#lb-window", "week");
    await page.waitForSelector('[data-testid="board-row-me"]', { timeout: T });
    await page.locator('[data-testid="around-me-button"]').click();
    await page.waitForSelector('[data-testid="board-row-me"]', { timeout: T });
    assert.match(page.url(), /window=week/); // no period: the current week, also when shared later
    assert.equal(second.errors.length, 0, second.errors.join("\n"));
    assert.deepEqual(first.errors, []);
  });

  it("the receipt page verifies the run and replays it with its curves", async () => {
    const page = first.page;
    await page.goto(`${server.url}/leaderboards/01-scale-out`);
    await page.locator('[data-testid="board-row-me"] a').click({ timeout: T });
    await page.waitForURL(`**/receipts/${firstReceipt}`, { timeout: T });
    await waitText(page, '[data-testid="verdict"]', /^✓ Valid/);
    assert.equal(await page.locator('[data-testid="receipt-players"]').textContent(), "Ada");
    assert.match(await page.locator('[data-testid="receipt-actions"]').textContent(), /add lb \(load-balancer\)/);
    await page.locator('[data-testid="replay"]').click();
    await page.waitForSelector('[data-testid="replay-status"][data-state="done"]', { timeout: T });
    assert.match(await page.locator('[data-testid="replay-status"]').textContent(), /re-simulated: same result/);
    await page.locator('[data-testid="replay-goodput"] canvas').waitFor({ timeout: T });
    await shot(page, "22-receipt-replay");
    // The endpoint behind the charts: every tick simulated, sampled down to about a thousand
    // frames in tick order, all within the level.
    const api = await page.evaluate(async (id) => (await fetch(`/api/v1/receipts/${id}/replay`)).json(), firstReceipt);
    assert.equal(api.matches, true);
    assert.ok(api.frames.length > 1 && api.frames.length <= 1001, `${api.frames.length} frames`);
    assert.ok(api.frames.at(-1).tick < api.total_ticks);
    assert.ok(api.frames.every((f, i) => i === 0 || f.tick > api.frames[i - 1].tick));
    assert.deepEqual(first.errors, []);
  });

  it("a lower-ranked run replays with the best run as a ghost", async () => {
    const page = second.page;
    await page.goto(`${server.url}/leaderboards/01-scale-out`);
    await page.locator('[data-testid="board-row-me"] a').click({ timeout: T });
    await waitText(page, '[data-testid="verdict"]', /^✓ Valid/);
    await page.getByText(/The dashed line is the best run on this board \(Ada/).waitFor({ timeout: T });
    await page.locator('[data-testid="replay"]').click();
    await page.waitForSelector('[data-testid="replay-status"][data-state="done"]', { timeout: T });
    await page.waitForSelector('[data-testid="ghost-status"][data-state="done"]', { timeout: T });
    // The run had a mid-run action: the server's replay applies it at its recorded tick, so
    // both replays must give the recorded results exactly.
    assert.match(await page.locator('[data-testid="replay-status"]').textContent(), /re-simulated: same result/);
    assert.match(await page.locator('[data-testid="ghost-status"]').textContent(), /re-simulated: same result/);
    assert.match(
      await page.locator('[data-testid="replay-goodput"] .u-legend').textContent(),
      /this run.*best run \(ghost\)/,
    );
    await shot(page, "23-receipt-ghost");
    assert.deepEqual(second.errors, []);
  });

  it("an edited receipt reads as invalid, in the page and through the API", async () => {
    const page = first.page;
    await page.goto(`${server.url}/receipts/${firstReceipt}`);
    await waitText(page, '[data-testid="verdict"]', /^✓ Valid/);
    await page.locator(".verify-copy summary").click();
    const area = page.locator("#receipt-text");
    const text = await area.inputValue();
    const edited = text.replace(/"score":([0-9.]+)/, (_m, s) => `"score":${Number(s) + 50}`);
    assert.notEqual(edited, text);
    await area.fill(edited);
    await page.locator('[data-testid="verify-copy"]').click();
    await waitText(page, '[data-testid="copy-verdict"]', /^✗ Invalid: .+/);
    await page.locator('[data-testid="copy-verdict"]').scrollIntoViewIfNeeded();
    await shot(page, "24-receipt-tampered");
    const api = await page.evaluate(async (body) => {
      const r = await fetch("/api/v1/receipts/verify", { method: "POST", body });
      return r.json();
    }, edited);
    assert.equal(api.valid, false);
    assert.ok(api.reason, "a reason");
    console.log(`# tampered receipt: ${api.reason}`);
    assert.deepEqual(first.errors, []);
  });

  it("the briefing shows the top of the board and the home page the player's stars", async () => {
    const page = first.page;
    await page.goto(`${server.url}/levels/01-scale-out`);
    await page.locator('[data-testid="top-runs"] [data-testid="board-row-me"]').waitFor({ timeout: T });
    await shot(page, "25-briefing-top");
    await page.goto(`${server.url}/`);
    await page.locator('[data-testid="level-01-scale-out"] [aria-label="3 stars"]').waitFor({ timeout: T });
    await page.locator('[data-testid="daily"]').waitFor({ timeout: T });
    await shot(page, "26-home-progress");
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${server.url}/receipts/${firstReceipt}`);
    await waitText(page, '[data-testid="verdict"]', /^✓ Valid/);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `no horizontal scrolling on a phone (overflow ${overflow}px)`);
    await shot(page, "27-phone-receipt");
    assert.deepEqual(first.errors, []);
  });
});
