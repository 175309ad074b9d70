"""One benchmark module per capability, each with `run(quick) -> list[BenchRow]`."""
