/** One CLI command: a file in src/cli/ that parses its arguments and calls into the modules. */
export interface CliCommand {
  /** One-line summary for `stcts --help`. */
  summary: string;
  /** Full usage text for `stcts <command> --help`. */
  usage: string;
  /** Runs the command; resolves to the process exit code. */
  run(args: string[]): Promise<number>;
}
