// Saves what oidc-assume exported, so this action's post step can undo it.
const fs = require("fs");
const crypto = require("crypto");

const state = process.env["INPUT_STATE"] || "";
const file = process.env["GITHUB_STATE"];
if (file && state) {
  const delimiter = `ghadelimiter_${crypto.randomUUID()}`;
  if (state.includes(delimiter)) {
    console.log("::error title=oidc-assume::cleanup state contains the delimiter");
    process.exit(1);
  }
  fs.appendFileSync(file, `cleanup<<${delimiter}\n${state}\n${delimiter}\n`);
}
