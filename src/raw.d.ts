// Text imports (`import s from "./x.nix?raw"`), handled by Vitest natively and by scripts/build.mjs.
declare module "*?raw" {
  const text: string;
  export default text;
}
