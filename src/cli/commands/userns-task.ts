import { Option } from "clipanion";
import { KarapaceCommand } from "../base-command.ts";

/**
 * `karapace __userns-task <task> <args...>`: internal. karapace re-executes
 * itself with this inside a user namespace (src/runtime/userns.ts) to act on
 * files owned by subordinate uids. Prints one JSON line, the task's result or
 * its error, which the parent turns back into a result or a typed error.
 */
export class UsernsTaskCommand extends KarapaceCommand {
  static override paths = [["__userns-task"]];

  task = Option.String({ name: "task" });
  args = Option.Proxy();

  async execute(): Promise<number> {
    const { runTask } = await import("../../runtime/userns-tasks.ts");
    const reply = await runTask(this.task, this.args);
    this.context.stdout.write(`${JSON.stringify(reply)}\n`);
    return reply.ok ? 0 : 1;
  }
}
