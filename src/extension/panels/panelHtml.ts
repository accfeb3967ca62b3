/**
 * The HTML page of a panel (no `vscode` here, so it is testable and the browser tests load the
 * same page): a strict content-security policy with a nonce — scripts only with the nonce,
 * styles and fonts only from the extension's dist folder (the webview's `cspSource`), no remote
 * content, no inline handlers. The bundle (dist/webview/<kind>.js) builds everything else.
 */
import type { PanelKind } from '../../webview/protocol';

export interface PanelPageParts {
  kind: PanelKind;
  title: string;
  /** `webview.cspSource`. */
  cspSource: string;
  /** Fresh for every page load. */
  nonce: string;
  /** URIs (as the webview sees them) of the panel's script and stylesheet and of codicon.css. */
  script: string;
  style: string;
  codicons: string;
}

/** A random nonce of 32 base64url characters. */
export function makeNonce(random: (n: number) => Uint8Array): string {
  return Buffer.from(random(24)).toString('base64url');
}

const escapeAttr = (s: string): string => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The content-security policy of every panel. */
export function panelCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

export function panelHtml(p: PanelPageParts): string {
  const a = escapeAttr;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${a(panelCsp(p.cspSource, p.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" id="vscode-codicon-stylesheet" href="${a(p.codicons)}" nonce="${a(p.nonce)}">
<link rel="stylesheet" href="${a(p.style)}" nonce="${a(p.nonce)}">
<title>${a(p.title)}</title>
</head>
<body data-panel="${a(p.kind)}">
<div id="app" class="app"></div>
<script nonce="${a(p.nonce)}" src="${a(p.script)}"></script>
</body>
</html>
`;
}
