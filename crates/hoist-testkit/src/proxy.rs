//! A loopback TCP proxy that can cut a connection in the middle of an
//! upload, to test that a client retries a blob from its start.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A running proxy to one target. Stops when dropped.
pub struct CuttingProxy {
    port: u16,
    cuts: Arc<Mutex<Vec<u64>>>,
    made: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl CuttingProxy {
    /// Proxies 127.0.0.1:<free port> to `target` (`host:port`).
    pub fn start(target: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().expect("addr").port();
        let cuts = Arc::new(Mutex::new(Vec::new()));
        let made = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (target, accept_cuts, accept_made, accept_stop) = (
            target.to_owned(),
            Arc::clone(&cuts),
            Arc::clone(&made),
            Arc::clone(&stop),
        );
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if accept_stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let Ok(upstream) = TcpStream::connect(&target) else {
                    continue;
                };
                let (cuts, made) = (Arc::clone(&accept_cuts), Arc::clone(&accept_made));
                std::thread::spawn(move || relay(client, upstream, cuts, made));
            }
        });
        Self {
            port,
            cuts,
            made,
            stop,
        }
    }

    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The next connection that sends more than `after_bytes` towards the
    /// target is cut at that point, both ways.
    pub fn cut_next(&self, after_bytes: u64) {
        self.cuts.lock().unwrap().push(after_bytes);
    }

    /// How many connections have been cut so far.
    pub fn cuts_made(&self) -> usize {
        self.made.load(Ordering::SeqCst)
    }
}

impl Drop for CuttingProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn relay(
    client: TcpStream,
    upstream: TcpStream,
    cuts: Arc<Mutex<Vec<u64>>>,
    made: Arc<AtomicUsize>,
) {
    let (mut client_read, mut upstream_write) = (
        client.try_clone().expect("clone"),
        upstream.try_clone().expect("clone"),
    );
    let (mut upstream_read, mut client_write) = (upstream, client);
    let back = std::thread::spawn(move || {
        let _ = std::io::copy(&mut upstream_read, &mut client_write);
        let _ = client_write.shutdown(Shutdown::Both);
    });
    let mut sent = 0u64;
    let mut buffer = vec![0; 64 * 1024];
    loop {
        let read = match client_read.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(read) => read,
        };
        sent += read as u64;
        let cut = {
            let mut cuts = cuts.lock().unwrap();
            match cuts.first() {
                Some(&limit) if sent > limit => {
                    cuts.remove(0);
                    true
                }
                _ => false,
            }
        };
        if cut {
            made.fetch_add(1, Ordering::SeqCst);
            let _ = upstream_write.shutdown(Shutdown::Both);
            let _ = client_read.shutdown(Shutdown::Both);
            break;
        }
        if upstream_write.write_all(&buffer[..read]).is_err() {
            break;
        }
    }
    let _ = upstream_write.shutdown(Shutdown::Write);
    let _ = back.join();
}
