// PLACEHOLDER until the install command is built: it refuses to run rather than pretend.
import { InternalError } from "../../errors";
import type { Command } from "../command";

const command: Command = {
  name: "install",
  summary: "not built yet",
  usage: "nixnode-install install",
  options: {},
  async run() {
    throw new InternalError("the install command is not built yet");
  },
};
export default command;
