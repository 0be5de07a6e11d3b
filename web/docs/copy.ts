/**
 * The Copy buttons of the API reference. A code block is a `.code-block` holding a bar with a
 * `button[data-copy]` and the `<pre>`; a `button[data-copy-from="previous"]` copies the element just
 * before it (a base URL). One listener on the document serves the blocks written by the build and
 * those the Operations page adds later.
 */
import { h } from '/web/dom.js';

/**
 * Puts `text` on the clipboard: the Clipboard API in a secure context (https, localhost), else a
 * hidden textarea and execCommand('copy'), which also works on plain http across a LAN.
 */
export async function copyText(text: string): Promise<boolean> {
  if (window.isSecureContext && navigator.clipboard) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // Refused (no permission, no focus): try the old way.
    }
  }
  const active = document.activeElement as HTMLElement | null;
  const area = h('textarea', { class: 'copy-buffer', readonly: true, 'aria-hidden': 'true', tabindex: '-1' });
  area.value = text;
  document.body.appendChild(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  area.remove();
  active?.focus();
  return ok;
}

/** A code block with its language and a Copy button, as the build writes them. */
export function codeBlock(text: string, lang = ''): HTMLElement {
  return h('div', { class: 'code-block' },
    h('div', { class: 'code-bar' },
      h('span', { class: 'code-lang' }, lang),
      h('button', { type: 'button', class: 'copy', 'data-copy': true, 'aria-label': 'Copy this example' }, 'Copy')),
    h('pre', null, h('code', lang ? { class: `language-${lang}` } : null, text)));
}

/** What a Copy button copies. */
function sourceOf(button: HTMLButtonElement): string | null {
  if (button.dataset.copyFrom === 'previous') return button.previousElementSibling?.textContent ?? null;
  return button.closest('.code-block')?.querySelector('pre')?.textContent ?? null;
}

/** Selects the text a failed copy was about, so that Ctrl+C still works. */
function selectSource(button: HTMLButtonElement): void {
  const el = button.dataset.copyFrom === 'previous' ? button.previousElementSibling : button.closest('.code-block')?.querySelector('pre');
  const selection = window.getSelection();
  if (!el || !selection) return;
  const range = document.createRange();
  range.selectNodeContents(el);
  selection.removeAllRanges();
  selection.addRange(range);
}

const timers = new WeakMap<HTMLButtonElement, number>();

function feedback(button: HTMLButtonElement, text: string, cls: string): void {
  clearTimeout(timers.get(button));
  button.textContent = text;
  button.classList.remove('copied', 'copy-failed');
  button.classList.add(cls);
  timers.set(button, window.setTimeout(() => {
    button.textContent = 'Copy';
    button.classList.remove(cls);
  }, 1800));
}

/** Makes every Copy button of the document work, now and later. */
export function installCopyButtons(doc: Document = document): void {
  doc.addEventListener('click', (ev) => {
    const target = ev.target instanceof Element ? ev.target.closest('button[data-copy], button[data-copy-from]') : null;
    if (!(target instanceof HTMLButtonElement)) return;
    const text = sourceOf(target);
    if (text === null) return;
    void copyText(text).then((ok) => {
      if (ok) feedback(target, 'Copied', 'copied');
      else {
        selectSource(target);
        feedback(target, 'Press Ctrl+C', 'copy-failed');
      }
    });
  });
}
