"""What the tests and the benchmarks both need to run the stack for real: processes on free loopback ports (Anvil,
the backend, `make run`), a PostgreSQL server of their own, and EIP-712 signing as a wallet does it."""
