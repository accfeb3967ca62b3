/**
 * Inline editing of a writable VMCS field: a text field in the value cell; Enter sends the
 * write to the host (which asks the adapter: setExpression `vmcs.NAME`), Escape cancels. The
 * adapter's refusal (VMWRITE's rules, a bad expression) is shown under the field.
 */
import type { EditResultMessage } from '../protocol';
import { post } from '../shared/host';
import { el, icon } from '../shared/dom';

let nextId = 1;
const pending = new Map<number, FieldEditor>();

export class FieldEditor {
  readonly root: HTMLElement;
  private readonly input: HTMLElement & { value: string; disabled: boolean; invalid: boolean };
  private readonly message = el('div', { class: 'edit-message', attrs: { role: 'alert' } });

  constructor(readonly field: string, initial: string, private readonly close: () => void) {
    this.input = document.createElement('vscode-textfield') as unknown as HTMLElement & { value: string; disabled: boolean; invalid: boolean };
    this.input.value = initial;
    this.input.classList.add('edit-input');
    this.input.setAttribute('aria-label', `new value of ${field}`);
    this.input.addEventListener('keydown', (e: KeyboardEvent) => {
      if (e.key === 'Enter') { e.preventDefault(); this.submit(); }
      if (e.key === 'Escape') { e.preventDefault(); this.close(); }
    });
    const ok = el('vscode-button', { attrs: { icon: 'check', 'icon-only': '', title: 'Write (Enter)' } });
    ok.addEventListener('click', () => this.submit());
    const cancel = el('vscode-button', { attrs: { icon: 'close', 'icon-only': '', secondary: '', title: 'Cancel (Escape)' } });
    cancel.addEventListener('click', () => this.close());
    this.message.hidden = true;
    this.root = el('div', { class: 'editor' }, [el('div', { class: 'editor-row' }, [this.input, ok, cancel]), this.message]);
  }

  focus(): void {
    requestAnimationFrame(() => (this.input as unknown as { focus(): void }).focus());
  }

  submit(): void {
    const id = nextId++;
    pending.set(id, this);
    this.input.disabled = true;
    this.showMessage('sync', `writing ${this.field}…`, false);
    post({ type: 'edit', id, name: this.field, value: this.input.value });
  }

  showMessage(iconName: string, text: string, error: boolean): void {
    this.message.hidden = false;
    this.message.classList.toggle('error', error);
    this.message.replaceChildren(icon(iconName), el('span', { class: 'edit-message-text', text }));
  }

  /** The host's answer to this editor's write. */
  answer(m: EditResultMessage): void {
    this.input.disabled = false;
    if (m.ok) {
      this.close();
      return;
    }
    this.input.invalid = true;
    this.showMessage('error', m.error ?? 'refused', true);
  }
}

/** Routes an editResult to the editor that sent the write. */
export function editAnswered(m: EditResultMessage): void {
  const e = pending.get(m.id);
  pending.delete(m.id);
  e?.answer(m);
}
