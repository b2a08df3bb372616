// An in-app link: a real <a href> (so it opens in a new tab, is focusable and reads as a link),
// whose plain click goes through the router. Invariant: modified clicks (ctrl, meta, shift,
// middle button) are left to the browser.
import type { ReactNode } from "react";
import { navigate, routePath, type Route } from "./router";

export function Link({
  to,
  children,
  className,
  testId,
  label,
  before,
}: {
  to: Route;
  children: ReactNode;
  className?: string;
  testId?: string;
  label?: string;
  /** Runs before the router moves (e.g. leaving the room the link is shown in). */
  before?: () => void;
}) {
  return (
    <a
      href={routePath(to)}
      className={className}
      data-testid={testId}
      aria-label={label}
      onClick={(e) => {
        if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        before?.();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}
