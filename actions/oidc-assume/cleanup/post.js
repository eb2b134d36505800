// Runs `oidc-assume --cleanup`, which reads STATE_cleanup and blanks the
// credentials the main step exported.
const { spawnSync } = require("child_process");
const path = require("path");

const dir = process.env["HOIST_BIN_DIR"];
if (!dir) {
  console.log("::warning title=oidc-assume::HOIST_BIN_DIR is not set, so the credentials were not blanked");
  process.exit(0);
}
const result = spawnSync(path.join(dir, "oidc-assume"), ["--cleanup"], { stdio: "inherit" });
process.exit(result.status === null ? 1 : result.status);
