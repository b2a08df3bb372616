// Rendering of key components: results, the inspector for players and spectators, refusals
// next to their control, the connection badge.
import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen } from "@testing-library/react";
import type { ReactNode } from "react";
import { GameController } from "../src/state/controller";
import { ControllerContext } from "../src/ui/hooks";
import { Results } from "../src/ui/room/Results";
import { Inspector } from "../src/ui/room/Inspector";
import { RefusalNote } from "../src/ui/room/RefusalNote";
import { ConnBadge } from "../src/ui/ConnBadge";
import { Palette, freeId } from "../src/ui/room/Palette";
import type { LevelDetail } from "../src/api/http";
import { serverFixture } from "./fixtures";

function withController(ui: ReactNode, c = new GameController({ wsUrl: "ws://127.0.0.1:9/ws" })) {
  render(<ControllerContext.Provider value={c}>{ui}</ControllerContext.Provider>);
  return c;
}

const snapshot = serverFixture("server_room_snapshot", "room_snapshot").room;
const arch = snapshot.worlds[0]!.architecture;
const level: LevelDetail = {
  id: "01-scale-out",
  version: 1,
  title: "One Server Is Not Enough",
  concept: "scaling",
  briefing: "",
  duration_s: 300,
  tick_hz: 10,
  budget_per_hour: 2,
  objectives: { p99_ms: 250 },
  instance_types: [
    { name: "small", vcpus: 2, price_per_hour: 0.1 },
    { name: "large", vcpus: 8, price_per_hour: 0.4 },
  ],
  components: [
    { name: "users", kind: "client", instance_types: [], placeable: false },
    { name: "app", kind: "service", instance_types: ["small", "large"], max_instances: 16 },
    { name: "load-balancer", kind: "load_balancer", instance_types: ["lb"], boot_s: 5 },
  ],
};

describe("Results", () => {
  it("shows the score, stars and the breakdown", () => {
    const { result } = serverFixture("server_attempt_finished", "attempt_finished");
    const retry = vi.fn();
    render(<Results result={result} onRetry={retry} onClose={() => {}} onHome={() => {}} />);
    expect(screen.getByTestId("score").textContent).toBe("912");
    expect(screen.getByLabelText("3 stars")).toBeTruthy();
    expect(screen.getByText("Objectives met")).toBeTruthy();
    expect(screen.getByText("SLO compliance")).toBeTruthy();
    fireEvent.click(screen.getByText("Retry"));
    expect(retry).toHaveBeenCalledOnce();
  });

  it("says why a run failed", () => {
    const failed = serverFixture("server_attempt_finished", "attempt_finished").result;
    render(
      <Results
        result={{ ...failed, passed: false, stars: 0, failure: "outage: error rate above 50% for 15s" }}
        onRetry={() => {}}
        onClose={() => {}}
        onHome={() => {}}
      />,
    );
    expect(screen.getByText("Not this time")).toBeTruthy();
    expect(screen.getByText(/outage/)).toBeTruthy();
  });
});

describe("Inspector", () => {
  it("gives a player the node's controls and sends actions", () => {
    const onAct = vi.fn();
    withController(
      <Inspector
        arch={arch}
        selection={{ type: "node", id: "app" }}
        report={undefined}
        level={level}
        canEdit
        onAct={onAct}
        onSelect={() => {}}
      />,
    );
    fireEvent.change(screen.getByTestId("scale-input"), { target: { value: "4" } });
    fireEvent.click(screen.getByTestId("scale-button"));
    expect(onAct).toHaveBeenCalledWith({ op: "scale", id: "app", instances: 4 });
    expect(screen.getByText("Resize")).toBeTruthy();
    expect(screen.getByText("Remove")).toBeTruthy();
  });

  it("shows a spectator the numbers but no controls", () => {
    const m = serverFixture("server_metrics", "metrics");
    withController(
      <Inspector
        arch={arch}
        selection={{ type: "node", id: "app" }}
        report={m.report}
        level={level}
        canEdit={false}
        onAct={() => {}}
        onSelect={() => {}}
      />,
    );
    expect(screen.queryByTestId("scale-button")).toBeNull();
    expect(screen.queryByText("Remove")).toBeNull();
    expect(screen.getByText(/only players can change/)).toBeTruthy();
    expect(screen.getByText(/62% util/)).toBeTruthy();
  });

  it("applies only the edge settings that changed", () => {
    const onAct = vi.fn();
    withController(
      <Inspector
        arch={arch}
        selection={{ type: "edge", from: "app", to: "db" }}
        report={undefined}
        level={level}
        canEdit
        onAct={onAct}
        onSelect={() => {}}
      />,
    );
    fireEvent.change(screen.getByLabelText(/Retries/), { target: { value: "2" } });
    fireEvent.click(screen.getAllByText("Apply")[0]!);
    expect(onAct).toHaveBeenCalledWith({ op: "configure_edge", from: "app", to: "db", config: { retries: 2 } });
  });
});

describe("RefusalNote", () => {
  it("shows the server's reason next to the control, and dismisses it", () => {
    const c = new GameController({ wsUrl: "ws://127.0.0.1:9/ws" });
    c.game.refuse("node:app", {
      code: "bad_instances",
      message: "`app` runs between 1 and 16 instances, not 99",
      at: 1,
    });
    withController(<RefusalNote target="node:app" />, c);
    expect(screen.getByRole("alert").textContent).toContain("runs between 1 and 16");
    fireEvent.click(screen.getByLabelText("Dismiss"));
    expect(screen.queryByRole("alert")).toBeNull();
  });
});

describe("Palette", () => {
  it("offers placeable components and picks a free id", () => {
    const onAct = vi.fn();
    withController(<Palette level={level} arch={arch} canEdit onAct={onAct} />);
    expect(screen.queryByTestId("add-users")).toBeNull();
    fireEvent.click(screen.getByTestId("add-app"));
    expect(onAct).toHaveBeenCalledWith({ op: "add_node", id: "app-2", component: "app" });
    expect(freeId("Load Balancer!", arch)).toBe("load-balancer");
  });
});

describe("ConnBadge", () => {
  it("names the connection state", () => {
    const c = new GameController({ wsUrl: "ws://127.0.0.1:9/ws" });
    c.game.set({ conn: { state: "waiting", retryInMs: 1500, reason: "connection lost; reconnecting" } });
    withController(<ConnBadge />, c);
    expect(screen.getByTestId("conn").textContent).toContain("retry in 1.5 s");
  });
});
