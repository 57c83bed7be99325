/** Text files imported as strings (Vite's `?raw`), e.g. the docs whose generated tables a test checks. */
declare module "*?raw" {
  const text: string;
  export default text;
}
