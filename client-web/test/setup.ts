// Vitest setup: unmount React trees between tests (no globals mode, so RTL cannot do it itself).
import { afterEach } from "vitest";
import { cleanup } from "@testing-library/react";

afterEach(() => cleanup());
