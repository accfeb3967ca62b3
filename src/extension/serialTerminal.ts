/**
 * launch.json `serial: "terminal"`: the guest's COM1 in an integrated terminal that also takes
 * input. The adapter sends the guest's output as `vtx/serial` events (instead of Debug Console
 * output); what the person types goes back with the `vtx/serialInput` request, into the UART's
 * receiver.
 */
import * as vscode from 'vscode';

interface DapEvent {
  type?: string;
  event?: string;
  body?: { text?: string };
}

export class SerialTerminalTracker implements vscode.DebugAdapterTrackerFactory {
  createDebugAdapterTracker(session: vscode.DebugSession): vscode.ProviderResult<vscode.DebugAdapterTracker> {
    if (session.configuration.serial !== 'terminal') return undefined;
    const write = new vscode.EventEmitter<string>();
    const pty: vscode.Pseudoterminal = {
      onDidWrite: write.event,
      open: () => write.fire(`\x1b[2mvtx: COM1 of ${session.name}\x1b[0m\r\n`),
      close: () => undefined,
      handleInput: (text: string) => {
        void session.customRequest('vtx/serialInput', { text }).then(undefined, () => undefined);
      },
    };
    const terminal = vscode.window.createTerminal({ name: `vtx serial: ${session.name}`, pty });
    terminal.show(true);
    return {
      onDidSendMessage: (m: DapEvent) => {
        if (m.type === 'event' && m.event === 'vtx/serial' && typeof m.body?.text === 'string') write.fire(m.body.text.replace(/\r?\n/g, '\r\n'));
      },
      onExit: () => write.fire('\r\n\x1b[2mvtx: the session ended\x1b[0m\r\n'),
    };
  }
}
