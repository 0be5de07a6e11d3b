/**
 * Every page of the API reference: the Copy buttons, and the base URLs shown with this server's
 * address (the one the browser used) in place of HOST.
 */
import { installCopyButtons } from './copy.js';

installCopyButtons();

for (const el of document.querySelectorAll<HTMLElement>('code.base-url[data-base-path]')) {
  el.textContent = `${location.origin}${el.dataset.basePath ?? ''}`;
}
