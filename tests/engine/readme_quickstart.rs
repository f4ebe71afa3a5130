//! The README's quick start, run as written: its `sapa` commands are read
//! from the README itself, so the README cannot drift from what works.

// A helper that cannot find the README is a failed test.
#![allow(clippy::expect_used)]

use std::path::Path;
use std::process::Command;

/// The `cargo run --release -- …` commands of the README's "Working with
/// data now" block, with their line continuations joined.
fn readme_commands() -> Vec<String> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let start = readme
        .find("Working with data now")
        .expect("the README's data quick start");
    let block = &readme[start..];
    let open = block.find("```sh").expect("a sh block") + "```sh".len();
    let close = open + block[open..].find("```").expect("the end of the block");
    let mut commands = Vec::new();
    let mut current = String::new();
    for line in block[open..close].lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(part) => current.push_str(part),
            None => {
                current.push_str(line);
                commands.push(std::mem::take(&mut current));
            }
        }
    }
    commands
}

/// Splits a shell command line into words, honouring double quotes.
fn words(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in command.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

#[test]
fn readme_quick_start_works_as_written() {
    let commands = readme_commands();
    assert_eq!(commands.len(), 3, "generate, ingest, query: {commands:?}");
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().to_str().unwrap();
    let mut last_stdout = String::new();
    for command in &commands {
        let command = command.replace("/tmp/", &format!("{tmp}/"));
        let args = words(&command);
        assert_eq!(
            &args[..4],
            ["cargo", "run", "--release", "--"],
            "README commands run the sapa binary: {command}"
        );
        let out = Command::new(env!("CARGO_BIN_EXE_sapa"))
            .args(&args[4..])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{command} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        last_stdout = String::from_utf8(out.stdout).unwrap();
    }
    // The query counts students by period and status: the tiny country has
    // students of every graded status in Q1, and the exempt-only student.
    for expected in [
        "| Q1     | excellent",
        "| Q1     | good",
        "| Q1     | exempt",
        "| YEAR",
    ] {
        assert!(last_stdout.contains(expected), "{expected}:\n{last_stdout}");
    }
}
