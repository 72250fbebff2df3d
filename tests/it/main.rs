//! The one integration-test binary: every scenario drives the real `oprun-cutover` binary
//! against real databases (PostgreSQL from the environment, SQLite in temp files).

mod harness;

mod cli;
mod fingerprint;
mod migrate;
