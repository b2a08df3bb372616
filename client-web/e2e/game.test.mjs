// End-to-end: the real server binary (fast clock) and real chromium. A new player builds level
// 01's reference architecture through the UI and plays to the score; a second browser joins a
// team room by code and sees changes live; a spectator cannot edit. Screenshots go to
// e2e/artifacts/. Invariant: no test passes with console errors on any page.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, newPage, shot, startCutProxy, startServer } from "./harness.mjs";

const T = 20_000; // per-step bound

let server;
const browsers = [];
const pages = [];

async function browser() {
  const b = await launchBrowser();
  browsers.push(b);
  const p = await newPage(b.context);
  pages.push(p);
  return p;
}

async function select(page, nodeId) {
  const node = page.locator(`[data-testid="rf__node-${nodeId}"]`);
  await stableBox(node);
  await node.click();
  await page.waitForSelector(`[aria-label="Inspector: ${nodeId}"]`, { timeout: T });
}

/** The element's box once it stops moving (the canvas animates its view when nodes are added). */
async function stableBox(locator) {
  let last = null;
  for (let i = 0; i < 50; i++) {
    const box = await locator.boundingBox();
    if (box && last && Math.abs(box.x - last.x) < 0.5 && Math.abs(box.y - last.y) < 0.5) return box;
    last = box;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("element never settled");
}

before(async () => {
  // 300 simulated seconds in about 15 s of wall time; the result is the same at any rate.
  server = await startServer({ clockRate: 20 });
});

after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  await server?.stop();
});

describe("stampede in a browser", () => {
  it("a new player builds level 01's reference architecture and plays to the score", async () => {
    const { page, errors } = await browser();
    await page.goto(`${server.url}/`);
    await page.locator('[data-testid="level-01-scale-out"]').click({ timeout: T });
    await shot(page, "01-briefing");
    await page.getByRole("button", { name: "Play solo" }).click();
    await page.waitForSelector('[data-testid="room"]', { timeout: T });
    await page.waitForSelector('[data-testid="rf__node-web"]', { timeout: T });

    // The reference solution (levels/01-scale-out.toml): a load balancer in front of web,
    // web scaled out, users moved to the load balancer. Placed in the lobby (tick 0).
    await page.fill("#new-node-id", "lb");
    await page.locator('[data-testid="add-load-balancer"]').click();
    await page.waitForSelector('[data-testid="rf__node-lb"]', { timeout: T });

    // lb -> web by dragging from lb's output handle to web's input handle.
    const from = page.locator('[data-testid="rf__node-lb"] .react-flow__handle.source');
    const to = page.locator('[data-testid="rf__node-web"] .react-flow__handle.target');
    await stableBox(page.locator('[data-testid="rf__node-lb"]'));
    const a = await stableBox(from);
    const b = await stableBox(to);
    assert.ok(a && b, "handles are on screen");
    await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
    await page.mouse.down();
    await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2 + 20, { steps: 8 });
    await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 8 });
    await page.mouse.up();
    await page.waitForSelector('[data-testid="rf__edge-lb->web"]', { state: "attached", timeout: T });

    // web ×9 through the inspector.
    await select(page, "web");
    await page.fill('[data-testid="scale-input"]', "9");
    await page.locator('[data-testid="scale-button"]').click();
    await page.waitForFunction(
      () => document.querySelector('[data-testid="instances-web"]')?.textContent?.includes("9×"),
      null,
      { timeout: T },
    );

    // A second node named `lb` is refused, with the server's reason next to the palette.
    await page.fill("#new-node-id", "lb");
    await page.locator('[data-testid="add-load-balancer"]').click();
    const refusal = page.locator('[data-testid="refusal-palette"]');
    await refusal.waitFor({ timeout: T });
    assert.match(await refusal.textContent(), /already a node/);
    await shot(page, "02-refusal");

    // users -> lb (keyboard-friendly connect from the inspector), then drop users -> web.
    await select(page, "users");
    await page.selectOption('[data-testid="connect-select"]', "lb");
    await page.locator('[data-testid="connect-button"]').click();
    await page.waitForSelector('[data-testid="rf__edge-users->lb"]', { state: "attached", timeout: T });
    await page.locator('[data-testid="disconnect-users-web"]').click();
    await page.waitForSelector('[data-testid="rf__edge-users->web"]', { state: "detached", timeout: T });
    await shot(page, "03-built");

    await page.locator('[data-testid="start"]').click();
    await page.waitForFunction(
      () => document.querySelector('[data-testid="phase"]')?.textContent?.startsWith("running"),
      null,
      { timeout: T },
    );
    // Halfway through: live badges and charts.
    await page.waitForFunction(
      () => {
        const t = document.querySelector('[data-testid="timer"] .big')?.textContent ?? "0:00";
        const [m, s] = t.split(":").map(Number);
        return m * 60 + s >= 150;
      },
      null,
      { timeout: 60_000 },
    );
    await shot(page, "04-running");
    assert.ok(await page.locator('[data-testid="rf__node-web"] .badge').count(), "web shows live badges");

    const results = page.locator('[data-testid="results"]');
    await results.waitFor({ timeout: 90_000 });
    const score = Number(await page.locator('[data-testid="score"]').textContent());
    await shot(page, "05-results");
    assert.ok(score >= 900, `score ${score} should be at least 900 (the reference earns three stars)`);
    assert.ok(await page.getByLabel("3 stars").isVisible(), "three stars");
    assert.deepEqual(errors, []);
  });

  it("a second browser joins a team room by code and sees changes live; a spectator cannot edit", async () => {
    const owner = await browser();
    await owner.page.goto(`${server.url}/levels/01-scale-out`);
    await owner.page.getByRole("button", { name: "Create team room" }).click({ timeout: T });
    const code = (await owner.page.locator('[data-testid="room-code"]').textContent({ timeout: T }))?.trim();
    assert.match(code ?? "", /^[A-Z0-9]{6}$/);

    const mate = await browser();
    await mate.page.goto(`${server.url}/`);
    await mate.page.fill("#join-code", code);
    await mate.page.getByRole("button", { name: "Join", exact: true }).first().click();
    await mate.page.waitForSelector('[data-testid="rf__node-web"]', { timeout: T });
    await owner.page.waitForFunction(() => document.querySelectorAll('[data-testid="members"] li').length === 2, null, {
      timeout: T,
    });

    // The owner's change shows up in the teammate's browser.
    await owner.page.fill("#new-node-id", "lb");
    await owner.page.locator('[data-testid="add-load-balancer"]').click();
    await mate.page.waitForSelector('[data-testid="rf__node-lb"]', { timeout: T });
    // And the other way round.
    await select(mate.page, "web");
    await mate.page.fill('[data-testid="scale-input"]', "3");
    await mate.page.locator('[data-testid="scale-button"]').click();
    await owner.page.waitForFunction(
      () => document.querySelector('[data-testid="instances-web"]')?.textContent?.includes("3×"),
      null,
      { timeout: T },
    );
    await mate.page.fill("#chat-input", "scaled web to 3");
    await mate.page.press("#chat-input", "Enter");
    await owner.page.getByText("scaled web to 3").waitFor({ timeout: T });
    await shot(owner.page, "06-team-owner");
    await shot(mate.page, "07-team-mate");

    // A reload keeps the seat: the session is in localStorage and /rooms/{id} joins it again.
    await mate.page.reload();
    await mate.page.waitForSelector('[data-testid="rf__node-lb"]', { timeout: T });
    await mate.page.getByText("scaled web to 3").waitFor({ timeout: T });
    assert.equal(
      await mate.page.locator('[data-testid="members"] li').count(),
      2,
      "still two members, no duplicate seat",
    );

    // Keyboard: Tab to a node on the canvas and select it with Enter.
    await mate.page.locator('[data-testid="rf__node-users"]').focus();
    await mate.page.keyboard.press("Enter");
    await mate.page.waitForSelector('[aria-label="Inspector: users"]', { timeout: T });

    const spectator = await browser();
    await spectator.page.goto(`${server.url}/`);
    await spectator.page.fill("#join-code", code);
    await spectator.page.selectOption("#join-role", "spectator");
    await spectator.page.getByRole("button", { name: "Join", exact: true }).first().click();
    await spectator.page.waitForSelector('[data-testid="rf__node-lb"]', { timeout: T });
    assert.equal(
      await spectator.page.locator('[data-testid="add-load-balancer"]').isDisabled(),
      true,
      "palette is disabled",
    );
    await select(spectator.page, "web");
    assert.equal(await spectator.page.locator('[data-testid="scale-button"]').count(), 0, "no scale control");
    await spectator.page.getByText("only players can change").first().waitFor({ timeout: T });
    assert.equal(await spectator.page.locator('[data-testid="start"]').count(), 0, "no start button");
    // Delete on a selected node does nothing for a spectator.
    await spectator.page.keyboard.press("Delete");
    await spectator.page.waitForTimeout(300);
    assert.equal(await owner.page.locator('[data-testid="rf__node-web"]').count(), 1);
    await shot(spectator.page, "08-spectator");

    for (const p of [owner, mate, spectator]) assert.deepEqual(p.errors, []);
  });

  it("the owner of a practice room pauses, speeds up, injects a fault and restarts", async () => {
    const { page, errors } = await browser();
    await page.goto(`${server.url}/levels/01-scale-out`);
    await page.getByRole("button", { name: "Practice" }).click({ timeout: T });
    await page.waitForSelector('[aria-label="Practice controls"]', { timeout: T });
    await page.fill("#new-node-id", "lb");
    await page.locator('[data-testid="add-load-balancer"]').click();
    await page.waitForSelector('[data-testid="rf__node-lb"]', { timeout: T });
    await page.locator('[data-testid="start"]').click();
    const phase = page.locator('[data-testid="phase"]');
    await page.waitForFunction(
      () => document.querySelector('[data-testid="phase"]')?.textContent?.startsWith("running"),
      null,
      { timeout: T },
    );
    await page.getByRole("button", { name: "Pause" }).click();
    await page.waitForFunction(
      () => document.querySelector('[data-testid="phase"]')?.textContent?.includes("paused"),
      null,
      { timeout: T },
    );
    await page.getByRole("button", { name: "Resume" }).click();
    await page.getByRole("button", { name: "4×" }).click();
    await page.waitForFunction(
      () => document.querySelector('[data-testid="phase"]')?.textContent?.includes("4×"),
      null,
      { timeout: T },
    );
    // Pause again before the (now very fast) run ends.
    await page.getByRole("button", { name: "Pause" }).click();
    await page.waitForFunction(
      () => document.querySelector('[data-testid="phase"]')?.textContent?.includes("paused"),
      null,
      { timeout: T },
    );
    await page.getByRole("button", { name: "Inject" }).click();
    await page.getByText(/injected fault #0/).waitFor({ timeout: T });
    await shot(page, "10-practice");
    // Restart rebuilds the run from the level's start: back to the lobby, the added lb gone.
    await page.getByRole("button", { name: "Restart" }).click();
    await page.waitForFunction(
      () => document.querySelector('[data-testid="phase"]')?.textContent?.startsWith("lobby"),
      null,
      { timeout: T },
    );
    await page.waitForSelector('[data-testid="rf__node-lb"]', { state: "detached", timeout: T });
    assert.match(await phase.textContent(), /lobby/);
    assert.deepEqual(errors, []);
  });

  it("racers opened by a /join/{code} link each get their own world and result", async () => {
    const owner = await browser();
    await owner.page.goto(`${server.url}/levels/01-scale-out`);
    await owner.page.getByRole("button", { name: "Create race room" }).click({ timeout: T });
    const code = (await owner.page.locator('[data-testid="room-code"]').textContent({ timeout: T }))?.trim();
    const racer = await browser();
    await racer.page.goto(`${server.url}/join/${code}`);
    await racer.page.waitForSelector('[data-testid="rf__node-web"]', { timeout: T });
    // The racer's change stays in the racer's world.
    await racer.page.fill("#new-node-id", "lb");
    await racer.page.locator('[data-testid="add-load-balancer"]').click();
    await racer.page.waitForSelector('[data-testid="rf__node-lb"]', { timeout: T });
    await owner.page.waitForTimeout(500);
    assert.equal(await owner.page.locator('[data-testid="rf__node-lb"]').count(), 0, "not in the owner's world");
    await owner.page.locator('[data-testid="start"]').click();
    // Doing nothing fails level 01 early (an outage): both see their own result.
    await owner.page.locator('[data-testid="results"]').waitFor({ timeout: 90_000 });
    await racer.page.locator('[data-testid="results"]').waitFor({ timeout: 90_000 });
    await shot(racer.page, "11-race-results");
    for (const p of [owner, racer]) assert.deepEqual(p.errors, []);
  });

  it("a dropped connection reconnects and resumes, replaying what it missed", async () => {
    const proxy = await startCutProxy(server.url);
    try {
      const flaky = await browser();
      await flaky.page.goto(`${proxy.url}/levels/01-scale-out`);
      await flaky.page.getByRole("button", { name: "Create team room" }).click({ timeout: T });
      const code = (await flaky.page.locator('[data-testid="room-code"]').textContent({ timeout: T }))?.trim();
      const mate = await browser();
      await mate.page.goto(`${server.url}/join/${code}`);
      await mate.page.waitForSelector('[data-testid="rf__node-web"]', { timeout: T });

      proxy.cutAll();
      // While the flaky player is away, the teammate changes the architecture.
      await mate.page.fill("#new-node-id", "lb");
      await mate.page.locator('[data-testid="add-load-balancer"]').click();
      await mate.page.waitForSelector('[data-testid="rf__node-lb"]', { timeout: T });
      // The flaky player comes back by itself and catches up.
      await flaky.page.waitForSelector('[data-testid="rf__node-lb"]', { timeout: T });
      await flaky.page.waitForFunction(
        () => document.querySelector('[data-testid="conn"]')?.textContent?.startsWith("online"),
        null,
        { timeout: T },
      );
      await mate.page.waitForFunction(
        () => document.querySelectorAll('[data-testid="members"] li.muted').length === 0,
        null,
        { timeout: T },
      );
      // And can act again (its req_ids kept increasing across the resume).
      await select(flaky.page, "web");
      await flaky.page.fill('[data-testid="scale-input"]', "2");
      await flaky.page.locator('[data-testid="scale-button"]').click();
      await mate.page.waitForFunction(
        () => document.querySelector('[data-testid="instances-web"]')?.textContent?.includes("2×"),
        null,
        { timeout: T },
      );
      await shot(flaky.page, "12-resumed");
      // The browser logs the dropped socket itself; nothing else may be an error.
      const unexpected = flaky.errors.filter((e) => !/WebSocket|ERR_CONNECTION|net::/.test(e));
      assert.deepEqual(unexpected, []);
      assert.deepEqual(mate.errors, []);
    } finally {
      await proxy.stop();
    }
  });

  it("is readable on a phone", async () => {
    const { page, errors } = await browser();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${server.url}/`);
    await page.locator('[data-testid="level-01-scale-out"]').waitFor({ timeout: T });
    await shot(page, "09-phone-home");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `no horizontal scrolling (overflow ${overflow}px)`);
    assert.deepEqual(errors, []);
  });
});
