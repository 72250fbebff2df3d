//! The one integration-test binary: every scenario drives the real `oprun-cutover` binary
//! against real databases (PostgreSQL from the environment, SQLite in temp files).

mod harness;

mod adopt;
mod cli;
mod concurrency;
mod fingerprint;
mod guard;
mod invariants;
mod migrate;
mod safety;
