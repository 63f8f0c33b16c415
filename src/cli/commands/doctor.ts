import { Command } from "clipanion";
import { GeneralError } from "../../errors.ts";
import { KarapaceCommand } from "../base-command.ts";

export class DoctorCommand extends KarapaceCommand {
  static override paths = [["doctor"]];

  static override usage = Command.Usage({
    description: "check that this machine can run karapace, and the store's health",
    details: `
      Runs every check at once and prints one line per check: \`ok\`, \`warn\`,
      \`FAIL\` or \`info\`, with a hint naming the next step (install commands
      are given for your distribution).

      Checks: user namespaces (tried for real), your subordinate uid and gid
      ranges, newuidmap/newgidmap, kernel overlayfs inside a user namespace
      (mounted, written and deleted on the store's filesystem), fuse-overlayfs,
      crun or runc, the store (format version, metadata checksums, unfinished
      operations), the image cache, free disk space, and how resource limits
      would be enforced.

      The exit status is 1 when a required check fails; warnings never fail
      it. \`--json\` prints \`{healthy, user, uid, distro, store, checks}\`
      with every check's \`name\`, \`status\`, \`required\`, \`message\` and
      \`hint\`.
    `,
    examples: [
      ["Check this machine", "$0 doctor"],
      ["Machine-readable report", "$0 doctor --json"],
    ],
  });

  async execute(): Promise<number> {
    const { runDoctor } = await import("../../doctor/index.ts");
    const { renderReport } = await import("../../doctor/render.ts");
    const report = await runDoctor({ storeRoot: this.storeRoot, env: this.context.env });
    this.out.result(report, (w) => {
      for (const line of renderReport(report, w.style)) w.line(line);
    });
    if (!report.healthy) {
      const failed = report.checks.filter((c) => c.required && c.status === "fail").map((c) => c.title);
      throw new GeneralError(`doctor: ${failed.join(", ")} failed`, { hint: "follow the hints above, then run 'karapace doctor' again" });
    }
    return 0;
  }
}
