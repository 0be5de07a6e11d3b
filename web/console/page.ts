/** What a console page gets from the shell, and what it gives back. */

export interface PageContext {
  /** The page's own area (emptied before each render). */
  root: HTMLElement;
  /** The hash route's query (#/messages?phone=…). */
  params: URLSearchParams;
  /** Whether this render is still the one on screen (false once the user navigated away). */
  active(): boolean;
  /** Goes to another hash route (#/…); same route and params: re-renders. */
  go(path: string, params?: Record<string, string | number | null | undefined>): void;
  /** Re-reads the pending counts shown in the navigation. */
  refreshBadges(): void;
}

export interface Page {
  title: string;
  /** Builds the page; may return a cleanup (timers). */
  render(ctx: PageContext): void | (() => void);
}
