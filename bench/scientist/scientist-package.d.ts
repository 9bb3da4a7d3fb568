// The `scientist` npm package (Trello's port of GitHub's Scientist) ships no types; this is
// the part of its API the benchmark uses.
declare module "scientist" {
  interface PackageExperiment {
    use(block: () => unknown): void;
    try(block: () => unknown): void;
    try(name: string, block: () => unknown): void;
  }
  class Scientist {
    sample(sampler: (name: string) => boolean): void;
    science<T>(name: string, setup: (experiment: PackageExperiment) => void): T;
    on(event: "result" | "skip" | "error", listener: (...args: unknown[]) => void): this;
  }
  export = Scientist;
}
