// PLACEHOLDER until the lockdown command is built: it refuses to run rather than pretend.
import { InternalError } from "../../errors";
import type { Command } from "../command";

const command: Command = {
  name: "lockdown",
  summary: "not built yet",
  usage: "nixnode-install lockdown",
  options: {},
  async run() {
    throw new InternalError("the lockdown command is not built yet");
  },
};
export default command;
