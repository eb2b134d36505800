//! moto's server mode: STS and ECR (and the rest of AWS) on loopback.

use std::process::Command;

use super::{Process, free_port, require};

/// A running `moto_server`.
pub struct Moto {
    port: u16,
    _process: Process,
}

impl Moto {
    /// Starts moto on a free loopback port.
    pub fn start() -> Self {
        let program = require("moto_server", "the PyPI package `moto[server]`");
        let port = free_port();
        let mut command = Command::new(program);
        command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        let mut process = Process::start("moto_server", command);
        process.wait_for("Running on");
        Self {
            port,
            _process: process,
        }
    }

    /// The endpoint URL, for `AWS_ENDPOINT_URL` or an SDK's endpoint.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}
