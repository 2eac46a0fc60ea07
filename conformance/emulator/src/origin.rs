//! Where the emulator is reached: its bound address and the `Host` a request came through, for
//! the absolute URLs it answers with and to know its own image URLs when a request names one.

use std::net::SocketAddr;
use std::sync::OnceLock;

/// The address the emulator is bound to (unknown for a router served by someone else's server).
#[derive(Debug, Default)]
pub(crate) struct Origin {
    bound: OnceLock<SocketAddr>,
}

impl Origin {
    /// Records the bound address (once).
    pub fn bind(&self, addr: SocketAddr) {
        let _ = self.bound.set(addr);
    }

    /// `http://host:port` a client reached the emulator at (`host` is the request's `Host`).
    pub fn base(&self, host: Option<&str>) -> String {
        match (host, self.bound.get()) {
            (Some(host), _) => format!("http://{host}"),
            (None, Some(addr)) => format!("http://{addr}"),
            (None, None) => "http://localhost".to_owned(),
        }
    }

    /// The `host:port` forms under which this emulator is reached (its own image URLs).
    pub fn authorities(&self, host: Option<&str>) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(host) = host {
            out.push(host.to_owned());
        }
        if let Some(addr) = self.bound.get() {
            out.push(addr.to_string());
            if addr.ip().is_loopback() {
                out.push(format!("localhost:{}", addr.port()));
                out.push(format!("127.0.0.1:{}", addr.port()));
            }
        }
        out
    }
}
