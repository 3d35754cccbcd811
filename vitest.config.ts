import { defineConfig } from "vitest/config";

// Two projects: "unit" needs nothing but Node (it runs on Node 20, 22 and 24 in CI);
// "system" starts real sshd/fail2ban targets in network namespaces and needs root.
export default defineConfig({
  test: {
    globalSetup: ["test/global-setup.ts"],
    // A test that runs an engine without the install fixture must never reach GitHub: the kexec
    // release lookup and download default to a closed loopback port (discard, 9) unless the test
    // points them at its own mirror. Only loopback and the suite's namespaces are ever contacted.
    env: {
      NIXNODE_KEXEC_API_BASE: "http://127.0.0.1:9",
      NIXNODE_KEXEC_DOWNLOAD_BASE: "http://127.0.0.1:9",
    },
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
