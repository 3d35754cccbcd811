// PLACEHOLDER until the plan command is built: it refuses to run rather than pretend.
import { InternalError } from "../../errors";
import type { Command } from "../command";

const command: Command = {
  name: "plan",
  summary: "not built yet",
  usage: "nixnode-install plan",
  options: {},
  async run() {
    throw new InternalError("the plan command is not built yet");
  },
};
export default command;
