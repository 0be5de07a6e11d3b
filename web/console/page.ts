/** What a console page gets from the shell, and what it gives back. */
import type { BaseContext, BasePage } from '/web/app.js';

export interface PageContext extends BaseContext {
  /** Re-reads the pending counts shown in the navigation. */
  refreshBadges(): void;
}

export type Page = BasePage<PageContext>;
