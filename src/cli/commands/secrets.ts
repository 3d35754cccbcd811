// PLACEHOLDER until the secrets command is built: it refuses to run rather than pretend.
import { InternalError } from "../../errors";
import type { Command } from "../command";

const command: Command = {
  name: "secrets",
  summary: "not built yet",
  usage: "nixnode-install secrets",
  options: {},
  async run() {
    throw new InternalError("the secrets command is not built yet");
  },
};
export default command;
