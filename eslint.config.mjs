// ESLint 9 flat config. Type-aware (typescript-eslint's projectService) for the TypeScript tree, so the
// rules that catch real bugs (floating and misused promises) can see types; formatting is Prettier's
// job, and eslint-config-prettier turns off every rule that would fight it.
import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "node_modules/",
      "cdktf.out/",
      "dist/",
      "coverage/",
      ".work/",
      ".gen/",
      ".venv/",
      "reports/",
      "**/.terraform/",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
      // tsc's noUnusedLocals/noUnusedParameters already refuse these; `_`-prefixed names are deliberate.
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_" },
      ],
    },
  },
  {
    // Test-only code reads synthesized Terraform JSON, ASL and emulator responses, which have no static type;
    // `any` there is the honest type and typing every lookup would be noise. Product code keeps the rule.
    files: ["__tests__/**/*.ts", "testing/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  {
    // The few plain JavaScript files (CommonJS entry points, configs, the worker bundle script).
    files: ["**/*.js", "**/*.cjs"],
    languageOptions: {
      sourceType: "commonjs",
      globals: {
        require: "readonly",
        module: "writable",
        __dirname: "readonly",
        process: "readonly",
        console: "readonly",
      },
    },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    files: ["**/*.mjs"],
    languageOptions: { globals: { process: "readonly", console: "readonly" } },
  },
  prettier,
);
