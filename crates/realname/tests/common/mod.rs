//! What the binary's tests share.

use std::process::Child;

/// A child process that is killed when the test ends, even by a failed assertion, so no
/// server outlives its test.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl std::ops::Deref for KillOnDrop {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for KillOnDrop {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

/// Spawns `realname serve …` as `command` says, waits for the line that says where it
/// listens, and returns the process with its base URL.
pub fn start_serve(mut command: std::process::Command) -> (KillOnDrop, String) {
    use std::io::{BufRead, BufReader};
    let mut child = KillOnDrop(
        command
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("spawn realname serve"),
    );
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        let _ = BufReader::new(out).read_line(&mut line);
    }
    let base = line.trim().rsplit(' ').next().unwrap_or("").to_owned();
    assert!(
        base.starts_with("http://127.0.0.1:"),
        "realname serve did not start: {line:?}"
    );
    (child, base)
}
