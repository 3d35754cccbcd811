import { defineConfig } from "vitest/config";

// Two projects: "unit" needs nothing but Node (it runs on Node 20, 22 and 24 in CI);
// "system" starts real sshd/fail2ban targets in network namespaces and needs root.
export default defineConfig({
  test: {
    globalSetup: ["test/global-setup.ts"],
    projects: [
      {
        extends: true,
        // unit first, then system: projects with different worker counts must run in separate groups
        test: { name: "unit", include: ["test/unit/**/*.test.ts"], testTimeout: 30_000, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: {
          name: "system",
          include: ["test/system/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 60_000,
          // targets are cheap but the machine has 2 cores; keep parallelism modest
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
