// Types `exports.default` from "cloudflare:workers" as the Worker under test.
declare namespace Cloudflare {
  interface GlobalProps {
    mainModule: typeof import("../src/index.ts");
  }
}
