// Turns the planner's own validators into prompt validators: the same message a config file
// would get ("ssh.port: \"833w\" is not a port number (1-65535)") is shown under the question,
// and the question is asked again.
import { UserError } from "../errors";

export function validateWith(check: (value: string) => unknown): (value: string) => string | true {
  return (value) => {
    try {
      check(value);
      return true;
    } catch (e) {
      if (e instanceof UserError) return e.hint ? `${e.message} (${e.hint})` : e.message;
      throw e;
    }
  };
}
