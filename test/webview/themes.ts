/**
 * The theme variables VS Code puts on a webview's <html> (a subset: the ones the panels and
 * @vscode-elements read), with the values of VS Code's "Dark Modern", "Light Modern" and "Dark
 * High Contrast" themes, and the body class VS Code sets. The browser tests apply one with the
 * CSSOM, as VS Code does, so the strict CSP of the page stays in force.
 */
export type ThemeName = 'light' | 'dark' | 'high-contrast';

const common: Record<string, string> = {
  '--vscode-font-family': '-apple-system, BlinkMacSystemFont, "Segoe WPC", "Segoe UI", "Ubuntu", "Droid Sans", sans-serif',
  '--vscode-font-size': '13px',
  '--vscode-font-weight': 'normal',
  '--vscode-editor-font-family': '"Droid Sans Mono", "monospace", monospace',
  '--vscode-editor-font-size': '13px',
};

const dark: Record<string, string> = {
  '--vscode-foreground': '#cccccc', '--vscode-descriptionForeground': '#9d9d9d', '--vscode-disabledForeground': '#cccccc80',
  '--vscode-errorForeground': '#f85149', '--vscode-focusBorder': '#0078d4', '--vscode-icon-foreground': '#cccccc',
  '--vscode-editor-background': '#1f1f1f', '--vscode-editor-foreground': '#cccccc', '--vscode-panel-border': '#2b2b2b',
  '--vscode-editorGroup-border': '#ffffff17', '--vscode-editorWidget-background': '#202020', '--vscode-editorWidget-border': '#313131',
  '--vscode-widget-border': '#313131', '--vscode-widget-shadow': '#0000005c', '--vscode-sash-hoverBorder': '#0078d4',
  '--vscode-badge-background': '#616161', '--vscode-badge-foreground': '#f8f8f8',
  '--vscode-activityBarBadge-background': '#0078d4', '--vscode-activityBarBadge-foreground': '#ffffff',
  '--vscode-button-background': '#0078d4', '--vscode-button-foreground': '#ffffff', '--vscode-button-hoverBackground': '#026ec1',
  '--vscode-button-border': '#ffffff12', '--vscode-button-secondaryBackground': '#313131', '--vscode-button-secondaryForeground': '#cccccc',
  '--vscode-button-secondaryHoverBackground': '#3c3c3c',
  '--vscode-input-background': '#313131', '--vscode-input-foreground': '#cccccc', '--vscode-input-border': '#3c3c3c',
  '--vscode-input-placeholderForeground': '#989898', '--vscode-inputOption-activeBorder': '#2488db',
  '--vscode-inputValidation-errorBackground': '#5a1d1d', '--vscode-inputValidation-errorBorder': '#be1100',
  '--vscode-inputValidation-warningBackground': '#352a05', '--vscode-inputValidation-warningBorder': '#b89500',
  '--vscode-checkbox-background': '#313131', '--vscode-checkbox-border': '#3c3c3c', '--vscode-checkbox-foreground': '#cccccc',
  '--vscode-list-hoverBackground': '#2a2d2e', '--vscode-list-activeSelectionBackground': '#04395e', '--vscode-list-activeSelectionForeground': '#ffffff',
  '--vscode-list-inactiveSelectionBackground': '#37373d', '--vscode-list-inactiveSelectionForeground': '#cccccc',
  '--vscode-list-focusOutline': '#0078d4', '--vscode-tree-indentGuidesStroke': '#585858',
  '--vscode-keybindingTable-rowsBackground': '#cccccc0a', '--vscode-toolbar-hoverBackground': '#5a5d5e50',
  '--vscode-panelTitle-activeBorder': '#0078d4', '--vscode-panelTitle-activeForeground': '#cccccc', '--vscode-panelTitle-inactiveForeground': '#9d9d9d',
  '--vscode-settings-headerForeground': '#ffffff', '--vscode-textLink-foreground': '#4daafc', '--vscode-textBlockQuote-background': '#2b2b2b',
  '--vscode-textBlockQuote-border': '#616161', '--vscode-diffEditor-insertedTextBackground': '#9ccc2c33',
  '--vscode-editorGutter-modifiedBackground': '#0078d4', '--vscode-gitDecoration-modifiedResourceForeground': '#e2c08d',
  '--vscode-gitDecoration-addedResourceForeground': '#81b88b', '--vscode-gitDecoration-deletedResourceForeground': '#c74e39',
  '--vscode-testing-iconPassed': '#73c991', '--vscode-debugIcon-pauseForeground': '#75beff', '--vscode-debugIcon-continueForeground': '#75beff',
  '--vscode-charts-foreground': '#cccccc', '--vscode-charts-lines': '#cccccc80', '--vscode-charts-red': '#f14c4c', '--vscode-charts-blue': '#3794ff',
  '--vscode-charts-yellow': '#cca700', '--vscode-charts-orange': '#d18616', '--vscode-charts-green': '#89d185', '--vscode-charts-purple': '#b180d7',
  '--vscode-scrollbarSlider-background': '#79797966', '--vscode-scrollbarSlider-hoverBackground': '#646464b3', '--vscode-scrollbarSlider-activeBackground': '#bfbfbf66',
  '--vscode-symbolIcon-variableForeground': '#75beff', '--vscode-dropdown-background': '#313131', '--vscode-dropdown-border': '#3c3c3c', '--vscode-dropdown-foreground': '#cccccc',
};

const light: Record<string, string> = {
  '--vscode-foreground': '#3b3b3b', '--vscode-descriptionForeground': '#3b3b3b', '--vscode-disabledForeground': '#61616180',
  '--vscode-errorForeground': '#f85149', '--vscode-focusBorder': '#005fb8', '--vscode-icon-foreground': '#3b3b3b',
  '--vscode-editor-background': '#ffffff', '--vscode-editor-foreground': '#3b3b3b', '--vscode-panel-border': '#e5e5e5',
  '--vscode-editorGroup-border': '#e5e5e5', '--vscode-editorWidget-background': '#f8f8f8', '--vscode-editorWidget-border': '#c8c8c8',
  '--vscode-widget-border': '#e5e5e5', '--vscode-widget-shadow': '#00000029', '--vscode-sash-hoverBorder': '#005fb8',
  '--vscode-badge-background': '#cccccc', '--vscode-badge-foreground': '#3b3b3b',
  '--vscode-activityBarBadge-background': '#005fb8', '--vscode-activityBarBadge-foreground': '#ffffff',
  '--vscode-button-background': '#005fb8', '--vscode-button-foreground': '#ffffff', '--vscode-button-hoverBackground': '#0258a8',
  '--vscode-button-border': '#0000001a', '--vscode-button-secondaryBackground': '#e5e5e5', '--vscode-button-secondaryForeground': '#3b3b3b',
  '--vscode-button-secondaryHoverBackground': '#cccccc',
  '--vscode-input-background': '#ffffff', '--vscode-input-foreground': '#3b3b3b', '--vscode-input-border': '#cecece',
  '--vscode-input-placeholderForeground': '#767676', '--vscode-inputOption-activeBorder': '#005fb8',
  '--vscode-inputValidation-errorBackground': '#f2dede', '--vscode-inputValidation-errorBorder': '#be1100',
  '--vscode-inputValidation-warningBackground': '#f6f5d2', '--vscode-inputValidation-warningBorder': '#b89500',
  '--vscode-checkbox-background': '#f8f8f8', '--vscode-checkbox-border': '#cecece', '--vscode-checkbox-foreground': '#3b3b3b',
  '--vscode-list-hoverBackground': '#f2f2f2', '--vscode-list-activeSelectionBackground': '#e8e8e8', '--vscode-list-activeSelectionForeground': '#000000',
  '--vscode-list-inactiveSelectionBackground': '#e4e6f1', '--vscode-list-inactiveSelectionForeground': '#3b3b3b',
  '--vscode-list-focusOutline': '#005fb8', '--vscode-tree-indentGuidesStroke': '#a9a9a9',
  '--vscode-keybindingTable-rowsBackground': '#3b3b3b0a', '--vscode-toolbar-hoverBackground': '#b8b8b850',
  '--vscode-panelTitle-activeBorder': '#005fb8', '--vscode-panelTitle-activeForeground': '#3b3b3b', '--vscode-panelTitle-inactiveForeground': '#3b3b3b',
  '--vscode-settings-headerForeground': '#1f1f1f', '--vscode-textLink-foreground': '#005fb8', '--vscode-textBlockQuote-background': '#f8f8f8',
  '--vscode-textBlockQuote-border': '#e5e5e5', '--vscode-diffEditor-insertedTextBackground': '#9ccc2c40',
  '--vscode-editorGutter-modifiedBackground': '#005fb8', '--vscode-gitDecoration-modifiedResourceForeground': '#895503',
  '--vscode-gitDecoration-addedResourceForeground': '#587c0c', '--vscode-gitDecoration-deletedResourceForeground': '#ad0707',
  '--vscode-testing-iconPassed': '#388a34', '--vscode-debugIcon-pauseForeground': '#007acc', '--vscode-debugIcon-continueForeground': '#007acc',
  '--vscode-charts-foreground': '#3b3b3b', '--vscode-charts-lines': '#3b3b3b80', '--vscode-charts-red': '#e51400', '--vscode-charts-blue': '#1a85ff',
  '--vscode-charts-yellow': '#bf8803', '--vscode-charts-orange': '#d18616', '--vscode-charts-green': '#388a34', '--vscode-charts-purple': '#652d90',
  '--vscode-scrollbarSlider-background': '#64646466', '--vscode-scrollbarSlider-hoverBackground': '#646464b3', '--vscode-scrollbarSlider-activeBackground': '#00000099',
  '--vscode-symbolIcon-variableForeground': '#007acc', '--vscode-dropdown-background': '#ffffff', '--vscode-dropdown-border': '#cecece', '--vscode-dropdown-foreground': '#3b3b3b',
};

const highContrast: Record<string, string> = {
  ...Object.fromEntries(Object.keys(dark).map((k) => [k, '#ffffff'])),
  '--vscode-editor-background': '#000000', '--vscode-editorWidget-background': '#0c141f', '--vscode-input-background': '#000000',
  '--vscode-button-background': '#000000', '--vscode-button-secondaryBackground': '#000000', '--vscode-checkbox-background': '#000000',
  '--vscode-dropdown-background': '#000000', '--vscode-badge-background': '#000000', '--vscode-activityBarBadge-background': '#000000',
  '--vscode-contrastBorder': '#6fc3df', '--vscode-contrastActiveBorder': '#f38518', '--vscode-focusBorder': '#f38518',
  '--vscode-panel-border': '#6fc3df', '--vscode-editorGroup-border': '#6fc3df', '--vscode-editorWidget-border': '#6fc3df', '--vscode-input-border': '#6fc3df',
  '--vscode-button-border': '#6fc3df', '--vscode-checkbox-border': '#6fc3df', '--vscode-dropdown-border': '#6fc3df', '--vscode-widget-border': '#6fc3df',
  '--vscode-list-hoverBackground': '#00000000', '--vscode-list-activeSelectionBackground': '#00000000', '--vscode-list-inactiveSelectionBackground': '#00000000',
  '--vscode-keybindingTable-rowsBackground': '#00000000', '--vscode-toolbar-hoverBackground': '#00000000',
  '--vscode-errorForeground': '#f48771', '--vscode-inputValidation-errorBackground': '#000000', '--vscode-inputValidation-errorBorder': '#f48771',
  '--vscode-inputValidation-warningBackground': '#000000', '--vscode-diffEditor-insertedTextBackground': '#00000000',
  '--vscode-textLink-foreground': '#21a6ff', '--vscode-descriptionForeground': '#ffffffb3', '--vscode-disabledForeground': '#a5a5a5',
  '--vscode-textBlockQuote-background': '#000000', '--vscode-gitDecoration-modifiedResourceForeground': '#e2c08d',
  '--vscode-gitDecoration-addedResourceForeground': '#a1e3ad', '--vscode-gitDecoration-deletedResourceForeground': '#c74e39',
  '--vscode-testing-iconPassed': '#73c991', '--vscode-charts-red': '#f14c4c', '--vscode-charts-blue': '#3794ff', '--vscode-charts-yellow': '#cca700',
  '--vscode-charts-orange': '#d18616', '--vscode-charts-green': '#89d185', '--vscode-charts-purple': '#b180d7', '--vscode-tree-indentGuidesStroke': '#a9a9a9',
  '--vscode-editorGutter-modifiedBackground': '#1b81a8', '--vscode-debugIcon-pauseForeground': '#75beff',
};

export const THEMES: Record<ThemeName, { bodyClass: string; vars: Record<string, string> }> = {
  light: { bodyClass: 'vscode-light', vars: { ...common, ...light } },
  dark: { bodyClass: 'vscode-dark', vars: { ...common, ...dark } },
  'high-contrast': { bodyClass: 'vscode-high-contrast', vars: { ...common, ...highContrast } },
};
