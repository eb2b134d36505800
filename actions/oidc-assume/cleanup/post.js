// Runs `oidc-assume --cleanup`, which reads STATE_cleanup and blanks the
// credentials the main step exported. The binary comes from hoist's
// installer, as the main step's does (HOIST_BIN_DIR, or the pinned release).
const { spawnSync } = require("child_process");
const path = require("path");

const installer = path.join(__dirname, "..", "..", "..", "dist", "install.sh");
const found = spawnSync("bash", [installer, "oidc-assume"], { encoding: "utf8" });
if (found.status !== 0) {
  const said = (found.stdout || "").trim().replace(/^::error/, "::warning");
  console.log(said || "::warning title=oidc-assume::the oidc-assume binary was not found");
  console.log("::warning title=oidc-assume::the credentials were not blanked");
  process.exit(0);
}
const result = spawnSync(found.stdout.trim(), ["--cleanup"], { stdio: "inherit" });
process.exit(result.status === null ? 1 : result.status);
