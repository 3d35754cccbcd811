// PLACEHOLDER owned by H4 (remote planning over SSH): `plan root@host` lands here.
import { InternalError } from "../errors";
import type { CommandContext } from "../cli/command";

export async function planRemote(_ctx: CommandContext): Promise<number> {
  throw new InternalError("remote planning not built yet");
}
