/** Stylesheets imported by the panel entries are bundled by esbuild into <panel>.css. */
declare module '*.css';
