// PLACEHOLDER until the detect command is built: it refuses to run rather than pretend.
import { InternalError } from "../../errors";
import type { Command } from "../command";

const command: Command = {
  name: "detect",
  summary: "not built yet",
  usage: "nixnode-install detect",
  options: {},
  async run() {
    throw new InternalError("the detect command is not built yet");
  },
};
export default command;
